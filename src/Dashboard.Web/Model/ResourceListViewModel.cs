using System.Security.Claims;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;

namespace Dashboard.Web.Model;

/// <summary>A list of one engine's volumes or networks, reloaded when the engine reports a relevant event (no polling).</summary>
public abstract class ResourceListViewModel<T>(IEngineRegistry engines, IUserAccessSource accessSource) : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private Task _watch = Task.CompletedTask;
    private IEngineClient? _client;

    public event Func<Task>? Changed;

    public string Engine { get; private set; } = "";

    public UserAccess Access { get; private set; } = UserAccess.None;

    public IReadOnlyList<T> Items { get; private set; } = [];

    public string? Error { get; private set; }

    protected abstract DashboardAction ViewAction { get; }

    protected abstract string ListText { get; }

    public async Task InitializeAsync(ClaimsPrincipal user, string? engine, CancellationToken cancellationToken)
    {
        Engine = engine ?? (engines.Names.Count > 0 ? engines.Names[0] : "");
        Access = await accessSource.GetAsync(user, cancellationToken);
        if (!Access.Can(ViewAction))
        {
            Error = $"{ListText}: permission denied";
            return;
        }

        try
        {
            _client = engines.Get(Engine);
        }
        catch (EngineException e)
        {
            Error = e.Message;
            return;
        }

        var client = _client;
        var token = _cts.Token;
        _watch = await EngineEventSubscription.StartWatchAsync(opened => WatchAsync(client, opened, token), token);
        await ReloadAsync(cancellationToken);
    }

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        if (_client is null)
        {
            return;
        }

        try
        {
            Items = await LoadAsync(_client, cancellationToken);
            Error = null;
        }
        catch (EngineException e)
        {
            Error = e.Message;
        }

        if (Changed is { } changed)
        {
            await changed();
        }
    }

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
        GC.SuppressFinalize(this);
    }

    protected abstract Task<IReadOnlyList<T>> LoadAsync(IEngineClient client, CancellationToken cancellationToken);

    /// <summary>Whether an event may change the list (its own type, or containers coming and going for "used by").</summary>
    protected abstract bool IsRelevant(EngineEvent e);

    private async Task WatchAsync(IEngineClient client, TaskCompletionSource opened, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var batch in client.GetEventsAsync(opened, cancellationToken))
            {
                if (batch.Any(e => e.IsResync || IsRelevant(e)))
                {
                    await ReloadAsync(cancellationToken);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (EngineException e)
        {
            Error = e.Message;
        }
    }
}

public sealed class VolumesViewModel(IEngineRegistry engines, IUserAccessSource accessSource) : ResourceListViewModel<VolumeSummary>(engines, accessSource)
{
    protected override DashboardAction ViewAction => DashboardAction.ViewVolumes;

    protected override string ListText => "list volumes";

    protected override Task<IReadOnlyList<VolumeSummary>> LoadAsync(IEngineClient client, CancellationToken cancellationToken) => client.ListVolumesAsync(cancellationToken);

    protected override bool IsRelevant(EngineEvent e) =>
        e.Type == EngineEventType.Volume || (e.Type == EngineEventType.Container && e.Action is "create" or "destroy");
}

public sealed class NetworksViewModel(IEngineRegistry engines, IUserAccessSource accessSource) : ResourceListViewModel<NetworkSummary>(engines, accessSource)
{
    protected override DashboardAction ViewAction => DashboardAction.ViewNetworks;

    protected override string ListText => "list networks";

    protected override Task<IReadOnlyList<NetworkSummary>> LoadAsync(IEngineClient client, CancellationToken cancellationToken) => client.ListNetworksAsync(cancellationToken);

    protected override bool IsRelevant(EngineEvent e) =>
        e.Type == EngineEventType.Network || (e.Type == EngineEventType.Container && e.Action is "create" or "destroy" or "start" or "die");
}
