using System.Security.Claims;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;

namespace Dashboard.Web.Model;

/// <summary>One container: its inspect data, refreshed when the engine reports an event for it.</summary>
public sealed class ContainerDetailViewModel(IEngineRegistry engines, IUserAccessSource accessSource, ContainerActions actions, ActionAuthorizer authorizer) : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private Task _watch = Task.CompletedTask;

    public event Func<Task>? Changed;

    public string Engine { get; private set; } = "";

    public string Id { get; private set; } = "";

    public UserAccess Access { get; private set; } = UserAccess.None;

    public IEngineClient? Client { get; private set; }

    public ContainerDetails? Details { get; private set; }

    public bool Removed { get; private set; }

    public string? Error { get; private set; }

    public async Task InitializeAsync(ClaimsPrincipal user, string engine, string id, CancellationToken cancellationToken)
    {
        Engine = engine;
        Id = id;
        Access = await accessSource.GetAsync(user, cancellationToken);
        try
        {
            await authorizer.EnsureAsync(user, DashboardAction.ViewContainers, $"container {engine}/{id}", cancellationToken, engine);
            ContainerActions.ValidateId(id, $"container {engine}/{id}");
            Client = engines.Get(engine);
        }
        catch (Exception e) when (e is DashboardForbiddenException or EngineException)
        {
            Error = e.Message;
            return;
        }

        var token = _cts.Token;
        var client = Client;
        _watch = await EngineEventSubscription.StartWatchAsync(opened => WatchAsync(client, opened, token), token);
        await RefreshAsync(token);
    }

    /// <summary>Checked again when the logs tab opens the stream (D7: streams authorize on start).</summary>
    public Task AuthorizeLogsAsync(ClaimsPrincipal user, CancellationToken cancellationToken) =>
        authorizer.EnsureAsync(user, DashboardAction.ViewLogs, $"container {Engine}/{Id}", cancellationToken, Engine);

    public Task AuthorizeStatsAsync(ClaimsPrincipal user, CancellationToken cancellationToken) =>
        authorizer.EnsureAsync(user, DashboardAction.ViewStats, $"container {Engine}/{Id}", cancellationToken, Engine);

    public Task RunAsync(ClaimsPrincipal user, ContainerAction action, CancellationToken cancellationToken) =>
        actions.RunAsync(user, Engine, Details?.Id ?? Id, action, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        try
        {
            await _watch;
        }
        catch (OperationCanceledException)
        {
        }

        _cts.Dispose();
    }

    private async Task RefreshAsync(CancellationToken token)
    {
        if (Client is null)
        {
            return;
        }

        try
        {
            Details = await Client.InspectContainerAsync(Id, token);
            Error = null;
        }
        catch (EngineException e) when (e.Kind == EngineErrorKind.NotFound)
        {
            Removed = true;
            Error = e.Message;
        }
        catch (EngineException e)
        {
            Error = e.Message;
        }
    }

    private async Task WatchAsync(IEngineClient client, TaskCompletionSource opened, CancellationToken token)
    {
        try
        {
            await foreach (var batch in client.GetEventsAsync(opened, token))
            {
                var mine = batch.Any(e => e.IsResync ||
                    (e.Type == EngineEventType.Container && (e.ActorId == Id || (Details is { } d && e.ActorId == d.Id))));
                if (!mine)
                {
                    continue;
                }

                await RefreshAsync(token);
                if (Changed is { } handler)
                {
                    await handler();
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (EngineException)
        {
            // The page still shows the last inspect result; live refresh just stops.
        }
    }
}
