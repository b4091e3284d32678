using System.Runtime.CompilerServices;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace Dashboard.Web.Hubs;

/// <summary>
/// Container lifecycle and log streaming for scripts and future client-side views. <c>[Authorize]</c> gates only
/// the connection; every method authorizes the current user for the action and object on each call (D7).
/// </summary>
[Authorize]
public sealed class ContainersHub(ContainerActions actions, ActionAuthorizer authorizer, IEngineRegistry engines) : Hub
{
    public const string Path = "/hubs/containers";

    public Task Start(string engine, string id) => RunAsync(engine, id, ContainerAction.Start);

    public Task Stop(string engine, string id) => RunAsync(engine, id, ContainerAction.Stop);

    public Task Restart(string engine, string id) => RunAsync(engine, id, ContainerAction.Restart);

    public Task Kill(string engine, string id) => RunAsync(engine, id, ContainerAction.Kill);

    public Task Pause(string engine, string id) => RunAsync(engine, id, ContainerAction.Pause);

    public Task Unpause(string engine, string id) => RunAsync(engine, id, ContainerAction.Unpause);

    public Task Remove(string engine, string id) => RunAsync(engine, id, ContainerAction.Remove);

    /// <summary>Raw log lines (the client encodes them); at most 5,000 tail lines.</summary>
    public async IAsyncEnumerable<IReadOnlyList<LogLine>> StreamLogs(string engine, string id, int tail, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var client = await AuthorizeReadAsync(engine, id, DashboardAction.ViewLogs, cancellationToken);
        var stream = client.GetLogsAsync(id, Math.Clamp(tail, 0, 5000), follow: true, cancellationToken);
        await using var e = stream.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            IReadOnlyList<LogLine> batch;
            try
            {
                if (!await e.MoveNextAsync())
                {
                    yield break;
                }

                batch = e.Current;
            }
            catch (EngineException ex)
            {
                throw new HubException(ex.Message);
            }

            yield return batch;
        }
    }

    private async Task<IEngineClient> AuthorizeReadAsync(string engine, string id, DashboardAction action, CancellationToken cancellationToken)
    {
        try
        {
            ContainerActions.ValidateId(id, $"container {engine}/{id}");
            await authorizer.EnsureAsync(Context.User ?? new(), action, $"container {engine}/{id}", cancellationToken, engine);
            return engines.Get(engine);
        }
        catch (Exception e) when (e is DashboardForbiddenException or EngineException)
        {
            throw new HubException(e.Message);
        }
    }

    private async Task RunAsync(string engine, string id, ContainerAction action)
    {
        try
        {
            await actions.RunAsync(Context.User ?? new(), engine, id, action, Context.ConnectionAborted);
        }
        catch (Exception e) when (e is DashboardForbiddenException or EngineException)
        {
            // Only our own messages cross the wire, never a stack trace (D11).
            throw new HubException(e.Message);
        }
    }
}
