using System.Security.Claims;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;

namespace Dashboard.Web.Model;

/// <summary>
/// The container list of one engine, kept current from the engine's event stream (no polling): it subscribes
/// first, then lists, and re-reads only the containers an event batch names.
/// </summary>
public sealed class ContainersViewModel(IEngineRegistry engines, IUserAccessSource accessSource, ContainerActions actions) : IAsyncDisposable
{
    private static readonly HashSet<string> s_refreshActions = new(StringComparer.Ordinal)
    {
        "create", "start", "restart", "stop", "die", "kill", "pause", "unpause", "rename", "update", "oom",
        "destroy", "health_status", "health_status: healthy", "health_status: unhealthy",
    };

    private readonly Dictionary<string, ContainerSummary> _containers = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private CancellationTokenSource? _cts;
    private Task _watch = Task.CompletedTask;
    private IReadOnlyList<ContainerSummary> _rows = [];
    private StatsTracker? _stats;

    public event Func<Task>? Changed;

    public IReadOnlyList<string> Engines => engines.Names;

    public string Engine { get; private set; } = "";

    private UserAccess _access = UserAccess.None;

    /// <summary>The user's access on the selected engine (per-engine roles applied).</summary>
    public UserAccess Access => _access.ForEngine(Engine);

    public IReadOnlyList<ContainerSummary> Rows => Volatile.Read(ref _rows);

    public int Total { get; private set; }

    public bool Loaded { get; private set; }

    public string? Error { get; private set; }

    public string Search { get; private set; } = "";

    public ContainerStatsSample? StatsOf(string id) => _stats?.Latest(id);

    public ContainerState? StateFilter { get; private set; }

    public IReadOnlyDictionary<ContainerState, int> CountsByState { get; private set; } = new Dictionary<ContainerState, int>();

    public async Task InitializeAsync(ClaimsPrincipal user, string? engine, CancellationToken cancellationToken)
    {
        _access = await accessSource.GetAsync(user, cancellationToken);
        await SelectEngineAsync(engine ?? (engines.Names.Count > 0 ? engines.Names[0] : ""));
    }

    public async Task SelectEngineAsync(string engine)
    {
        await StopWatchingAsync();
        Engine = engine;
        Error = null;
        Loaded = false;
        lock (_lock)
        {
            _containers.Clear();
        }

        Rebuild();
        if (!Access.Can(DashboardAction.ViewContainers))
        {
            Error = "list containers: permission denied";
            return;
        }

        IEngineClient client;
        try
        {
            client = engines.Get(engine);
        }
        catch (EngineException e)
        {
            Error = e.Message;
            return;
        }

        _stats = new StatsTracker(client);
        _stats.Changed += NotifyAsync;
        _cts = new CancellationTokenSource();
        var token = _cts.Token;
        var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _watch = Task.Run(() => WatchAsync(client, subscribed, token), token);
        await subscribed.Task;
        await ReloadAsync(client, token);
    }

    /// <summary>Re-reads the user's roles (the circuit was told they changed); buttons follow at the next render.</summary>
    public async Task RefreshAccessAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var could = Access.Can(DashboardAction.ViewContainers);
        _access = await accessSource.GetAsync(user, cancellationToken);
        if (could != Access.Can(DashboardAction.ViewContainers))
        {
            await SelectEngineAsync(Engine);
        }
    }

    public void SetSearch(string? search)
    {
        Search = search ?? "";
        Rebuild();
    }

    public void SetStateFilter(ContainerState? state)
    {
        StateFilter = state;
        Rebuild();
    }

    /// <summary>Runs a lifecycle action; the server-side check in <see cref="ContainerActions"/> decides, not the buttons.</summary>
    public Task RunAsync(ClaimsPrincipal user, string containerId, ContainerAction action, CancellationToken cancellationToken) =>
        actions.RunAsync(user, Engine, containerId, action, cancellationToken);

    public async ValueTask DisposeAsync() => await StopWatchingAsync();

    private async Task StopWatchingAsync()
    {
        if (_stats is not null)
        {
            _stats.Changed -= NotifyAsync;
            await _stats.DisposeAsync();
            _stats = null;
        }

        if (_cts is null)
        {
            return;
        }

        await _cts.CancelAsync();
        try
        {
            await _watch;
        }
        catch (OperationCanceledException)
        {
        }

        _cts.Dispose();
        _cts = null;
    }

    private async Task ReloadAsync(IEngineClient client, CancellationToken token)
    {
        try
        {
            var list = await client.ListContainersAsync(null, token);
            lock (_lock)
            {
                _containers.Clear();
                foreach (var c in list)
                {
                    _containers[c.Id] = c;
                }
            }

            Loaded = true;
            Error = null;
        }
        catch (EngineException e)
        {
            Error = e.Message;
        }

        Rebuild();
    }

    private async Task WatchAsync(IEngineClient client, TaskCompletionSource subscribed, CancellationToken token)
    {
        try
        {
            var events = client.GetEventsAsync(token).GetAsyncEnumerator(token);
            await using (events)
            {
                // The enumerator has opened the stream once MoveNextAsync starts; list after that so no change falls between.
                var next = events.MoveNextAsync();
                subscribed.TrySetResult();
                while (await next)
                {
                    await ApplyAsync(client, events.Current, token);
                    await NotifyAsync();
                    next = events.MoveNextAsync();
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (EngineException e)
        {
            Error = $"live updates stopped: {e.Message}";
            await NotifyAsync();
        }
        finally
        {
            subscribed.TrySetResult();
        }
    }

    private async Task ApplyAsync(IEngineClient client, IReadOnlyList<EngineEvent> batch, CancellationToken token)
    {
        if (batch.Any(e => e.IsResync))
        {
            await ReloadAsync(client, token);
            return;
        }

        var ids = batch
            .Where(e => e.Type == EngineEventType.Container && s_refreshActions.Contains(e.Action) && e.ActorId.Length > 0)
            .Select(e => e.ActorId)
            .ToHashSet(StringComparer.Ordinal);
        if (ids.Count == 0)
        {
            return;
        }

        IReadOnlyList<ContainerSummary> current;
        try
        {
            current = await client.ListContainersAsync(ids, token);
        }
        catch (EngineException e)
        {
            Error = e.Message;
            return;
        }

        lock (_lock)
        {
            foreach (var id in ids)
            {
                _containers.Remove(id);
            }

            foreach (var c in current)
            {
                _containers[c.Id] = c;
            }
        }

        Rebuild();
    }

    private void Rebuild()
    {
        List<ContainerSummary> all;
        lock (_lock)
        {
            all = [.. _containers.Values];
        }

        Total = all.Count;
        _stats?.Track(all.Where(c => c.State == ContainerState.Running).OrderBy(c => c.Name, StringComparer.Ordinal).Select(c => c.Id));
        CountsByState = all.GroupBy(c => c.State).ToDictionary(g => g.Key, g => g.Count());
        var search = Search.Trim();
        var filtered = all
            .Where(c => StateFilter is null || c.State == StateFilter)
            .Where(c => search.Length == 0 ||
                c.Name.Contains(search, StringComparison.OrdinalIgnoreCase) ||
                c.Image.Contains(search, StringComparison.OrdinalIgnoreCase) ||
                c.Id.StartsWith(search, StringComparison.OrdinalIgnoreCase))
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .ToList();
        Volatile.Write(ref _rows, filtered);
    }

    private async Task NotifyAsync()
    {
        if (Changed is { } handler)
        {
            await handler();
        }
    }
}
