using System.Runtime.CompilerServices;
using System.Security.Claims;
using Dashboard.Web.Identity;
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
public sealed class ContainersHub(ContainerActions actions, ActionAuthorizer authorizer, IEngineRegistry engines, SessionNotifier sessions, IServiceScopeFactory scopes) : Hub
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

        // A stream outlives the check at its start: when the user's rights change it is re-checked and ended if
        // they no longer allow it (security.md D7: "stop when rights are revoked").
        using var revoked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var watch = WatchRights(engine, id, DashboardAction.ViewLogs, revoked);
        var stream = client.GetLogsAsync(id, Math.Clamp(tail, 0, 5000), follow: true, revoked.Token);
        await using var e = stream.GetAsyncEnumerator(revoked.Token);
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
            catch (OperationCanceledException) when (revoked.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new HubException($"{ActionAuthorizer.ActionText(DashboardAction.ViewLogs)} container {engine}/{id}: permission denied");
            }

            yield return batch;
        }
    }

    private IDisposable? WatchRights(string engine, string id, DashboardAction action, CancellationTokenSource revoked)
    {
        var user = Context.User ?? new();
        var userId = user.FindFirstValue(ClaimTypes.NameIdentifier);
        return userId is null ? null : sessions.Subscribe(userId, async () =>
        {
            await using var scope = scopes.CreateAsyncScope();
            try
            {
                await scope.ServiceProvider.GetRequiredService<ActionAuthorizer>().EnsureAsync(user, action, $"container {engine}/{id}", CancellationToken.None, engine);
            }
            catch (DashboardForbiddenException)
            {
                await revoked.CancelAsync();
            }
        });
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
