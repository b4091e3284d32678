using System.Collections.Concurrent;
using System.Security.Claims;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;

namespace Dashboard.Web.Model;

/// <summary>
/// The container list of one engine, or of every engine the user may see (<see cref="AllEngines"/>), kept current
/// from each engine's event stream (no polling): it subscribes first, then lists, and re-reads only the containers
/// an event batch names. Rows carry their engine, so actions, links and per-engine roles follow the row.
/// </summary>
public sealed partial class ContainersViewModel(IEngineRegistry engines, IUserAccessSource accessSource, ContainerActions actions) : IAsyncDisposable
{
    /// <summary>The selector value for "all engines"; never a valid engine name (EngineEndpoint allows letters, digits, '-', '_', '.').</summary>
    public const string AllEngines = "*";

    private static readonly HashSet<string> s_refreshActions = new(StringComparer.Ordinal)
    {
        "create", "start", "restart", "stop", "die", "kill", "pause", "unpause", "rename", "update", "oom",
        "destroy", "health_status", "health_status: healthy", "health_status: unhealthy",
    };

    private readonly Dictionary<(string Engine, string Id), ContainerSummary> _containers = [];
    private readonly ConcurrentDictionary<string, Feed> _feeds = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _engineErrors = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _feedsGate = new(1, 1);
    private readonly Lock _lock = new();
    private IReadOnlyList<ContainerSummary> _rows = [];
    private string? _error;
    private bool _registryHooked;
    private bool _disposed;

    public event Func<Task>? Changed;

    public IReadOnlyList<string> Engines => engines.Names;

    /// <summary>The selected engine's name, or <see cref="AllEngines"/>.</summary>
    public string Engine { get; private set; } = "";

    public bool IsAllEngines => Engine == AllEngines;

    private UserAccess _access = UserAccess.None;

    /// <summary>The user's access on the selected engine (per-engine roles applied); the global roles in the all-engines view.</summary>
    public UserAccess Access => IsAllEngines ? _access : _access.ForEngine(Engine);

    /// <summary>The user's access on the engine <paramref name="container"/> lives on: buttons follow each row's engine.</summary>
    public UserAccess AccessFor(ContainerSummary container) => _access.ForEngine(EngineOf(container));

    /// <summary>Where "New container" goes: the selected engine, or the first engine the user may create on; null hides it.</summary>
    public string? CreateEngine => IsAllEngines
        ? engines.Names.FirstOrDefault(e => _access.Can(DashboardAction.CreateContainer, e))
        : Access.Can(DashboardAction.CreateContainer) ? Engine : null;

    /// <summary>The engines whose containers are listed now.</summary>
    public IReadOnlyList<string> ShownEngines => engines.Names.Where(_feeds.ContainsKey).ToList();

    public IReadOnlyList<ContainerSummary> Rows => Volatile.Read(ref _rows);

    public int Total { get; private set; }

    public bool Loaded { get; private set; }

    /// <summary>What went wrong; in the all-engines view one entry per failing engine while the others stay listed.</summary>
    public string? Error
    {
        get
        {
            if (_error is not null)
            {
                return _error;
            }

            var errors = _engineErrors.OrderBy(e => e.Key, StringComparer.Ordinal)
                .Select(e => IsAllEngines ? $"engine {e.Key}: {e.Value}" : e.Value)
                .ToList();
            return errors.Count == 0 ? null : string.Join("; ", errors);
        }
    }

    public string Search { get; private set; } = "";

    public ContainerStatsSample? StatsOf(string id) => StatsOf(Engine, id);

    public ContainerStatsSample? StatsOf(ContainerSummary container)
    {
        ArgumentNullException.ThrowIfNull(container);
        return StatsOf(EngineOf(container), container.Id);
    }

    public ContainerState? StateFilter { get; private set; }

    public IReadOnlyDictionary<ContainerState, int> CountsByState { get; private set; } = new Dictionary<ContainerState, int>();

    public async Task InitializeAsync(ClaimsPrincipal user, string? engine, CancellationToken cancellationToken)
    {
        _access = await accessSource.GetAsync(user, cancellationToken);
        await SelectEngineAsync(engine ?? (engines.Names.Count > 0 ? engines.Names[0] : ""));
    }

    public async Task SelectEngineAsync(string engine)
    {
        await _feedsGate.WaitAsync();
        try
        {
            await StopWatchingAsync();
            Engine = engine;
            _error = null;
            _engineErrors.Clear();
            Loaded = false;
            lock (_lock)
            {
                _containers.Clear();
            }

            ClearSelection();
            Rebuild();
            if (IsAllEngines)
            {
                HookRegistry();
            }

            var shown = VisibleEngines();
            if (shown.Count == 0)
            {
                _error = "list containers: permission denied";
                return;
            }

            await Task.WhenAll(shown.Select(StartFeedAsync).ToList());
        }
        finally
        {
            _feedsGate.Release();
        }
    }

    /// <summary>Re-reads the user's roles (the circuit was told they changed); buttons follow at the next render.</summary>
    public async Task RefreshAccessAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var before = VisibleEngines();
        _access = await accessSource.GetAsync(user, cancellationToken);
        if (!before.SequenceEqual(VisibleEngines(), StringComparer.Ordinal))
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

    /// <summary>Runs a lifecycle action on the engine the row came from.</summary>
    public Task RunAsync(ClaimsPrincipal user, ContainerSummary container, ContainerAction action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(container);
        return actions.RunAsync(user, EngineOf(container), container.Id, action, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (engines is EngineRegistry registry && _registryHooked)
        {
            registry.Changed -= OnRegistryChanged;
        }

        await _feedsGate.WaitAsync();
        try
        {
            _disposed = true;
            await StopWatchingAsync();
        }
        finally
        {
            _feedsGate.Release();
        }
    }

    /// <summary>The engines listed for the selection: one engine, or every engine where the user's role there lets them list.</summary>
    private List<string> VisibleEngines() => IsAllEngines
        ? engines.Names.Where(e => _access.Can(DashboardAction.ViewContainers, e)).ToList()
        : Access.Can(DashboardAction.ViewContainers) ? [Engine] : [];

    private string EngineOf(ContainerSummary container) => container.Engine.Length > 0 || IsAllEngines ? container.Engine : Engine;

    private ContainerStatsSample? StatsOf(string engine, string id) =>
        _feeds.TryGetValue(engine, out var feed) ? feed.Stats.Latest(id) : null;

    private async Task StartFeedAsync(string engine)
    {
        IEngineClient client;
        try
        {
            client = engines.Get(engine);
        }
        catch (EngineException e)
        {
            _engineErrors[engine] = e.Message;
            return;
        }

        var feed = new Feed(engine, client, new StatsTracker(client), new CancellationTokenSource());
        feed.Stats.Changed += NotifyAsync;
        _feeds[engine] = feed;
        var token = feed.Cts.Token;
        var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        feed.Watch = Task.Run(() => WatchAsync(feed, subscribed, token), token);
        await subscribed.Task;
        await ReloadAsync(feed, token);
    }

    private async Task StopWatchingAsync()
    {
        foreach (var engine in _feeds.Keys.ToList())
        {
            if (_feeds.TryRemove(engine, out var feed))
            {
                await StopFeedAsync(feed);
            }
        }
    }

    private async Task StopFeedAsync(Feed feed)
    {
        feed.Stats.Changed -= NotifyAsync;
        await feed.Stats.DisposeAsync();
        await feed.Cts.CancelAsync();
        try
        {
            await feed.Watch;
        }
        catch (OperationCanceledException)
        {
        }

        feed.Cts.Dispose();
    }

    /// <summary>Engines added or removed at run time join or leave the all-engines view at once.</summary>
    private void HookRegistry()
    {
        if (!_registryHooked && engines is EngineRegistry registry)
        {
            registry.Changed += OnRegistryChanged;
            _registryHooked = true;
        }
    }

    private void OnRegistryChanged() => _ = SyncFeedsAsync();

    private async Task SyncFeedsAsync()
    {
        await _feedsGate.WaitAsync();
        try
        {
            if (_disposed || !IsAllEngines)
            {
                return;
            }

            var wanted = VisibleEngines();
            foreach (var gone in _feeds.Keys.Where(e => !wanted.Contains(e)).ToList())
            {
                if (_feeds.TryRemove(gone, out var feed))
                {
                    await StopFeedAsync(feed);
                }

                _engineErrors.TryRemove(gone, out _);
                lock (_lock)
                {
                    foreach (var key in _containers.Keys.Where(k => k.Engine == gone).ToList())
                    {
                        _containers.Remove(key);
                    }
                }
            }

            await Task.WhenAll(wanted.Where(e => !_feeds.ContainsKey(e)).Select(StartFeedAsync).ToList());
            _error = wanted.Count == 0 ? "list containers: permission denied" : null;
            Rebuild();
        }
        finally
        {
            _feedsGate.Release();
        }

        await NotifyAsync();
    }

    private async Task ReloadAsync(Feed feed, CancellationToken token)
    {
        try
        {
            var list = await feed.Client.ListContainersAsync(null, token);
            lock (_lock)
            {
                foreach (var key in _containers.Keys.Where(k => k.Engine == feed.Engine).ToList())
                {
                    _containers.Remove(key);
                }

                foreach (var c in list)
                {
                    _containers[(feed.Engine, c.Id)] = c with { Engine = feed.Engine };
                }
            }

            Loaded = true;
            _engineErrors.TryRemove(feed.Engine, out _);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return;
        }
        catch (EngineException e)
        {
            _engineErrors[feed.Engine] = e.Message;
        }

        Rebuild();
    }

    private async Task WatchAsync(Feed feed, TaskCompletionSource subscribed, CancellationToken token)
    {
        try
        {
            // Lists come after the stream is open, so no change falls between (EngineEventSubscription).
            await foreach (var batch in feed.Client.GetEventsAsync(subscribed, token))
            {
                await ApplyAsync(feed, batch, token);
                await NotifyAsync();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (EngineException e)
        {
            _engineErrors[feed.Engine] = $"live updates stopped: {e.Message}";
            await NotifyAsync();
        }
        finally
        {
            subscribed.TrySetResult();
        }
    }

    private async Task ApplyAsync(Feed feed, IReadOnlyList<EngineEvent> batch, CancellationToken token)
    {
        if (batch.Any(e => e.IsResync))
        {
            await ReloadAsync(feed, token);
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
            current = await feed.Client.ListContainersAsync(ids, token);
        }
        catch (EngineException e)
        {
            _engineErrors[feed.Engine] = e.Message;
            return;
        }

        lock (_lock)
        {
            foreach (var id in ids)
            {
                _containers.Remove((feed.Engine, id));
            }

            foreach (var c in current)
            {
                _containers[(feed.Engine, c.Id)] = c with { Engine = feed.Engine };
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
            PruneSelection();
        }

        Total = all.Count;
        foreach (var feed in _feeds.Values)
        {
            feed.Stats.Track(all.Where(c => c.Engine == feed.Engine && c.State == ContainerState.Running).OrderBy(c => c.Name, StringComparer.Ordinal).Select(c => c.Id));
        }

        CountsByState = all.GroupBy(c => c.State).ToDictionary(g => g.Key, g => g.Count());
        var search = Search.Trim();
        var allEngines = IsAllEngines;
        var filtered = all
            .Where(c => StateFilter is null || c.State == StateFilter)
            .Where(c => search.Length == 0 ||
                c.Name.Contains(search, StringComparison.OrdinalIgnoreCase) ||
                c.Image.Contains(search, StringComparison.OrdinalIgnoreCase) ||
                c.Id.StartsWith(search, StringComparison.OrdinalIgnoreCase) ||
                (allEngines && c.Engine.Equals(search, StringComparison.OrdinalIgnoreCase)))
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .ThenBy(c => c.Engine, StringComparer.Ordinal)
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

    /// <summary>One engine's subscription: its client, its event watch and its stats streams.</summary>
    private sealed class Feed(string engine, IEngineClient client, StatsTracker stats, CancellationTokenSource cts)
    {
        public string Engine { get; } = engine;

        public IEngineClient Client { get; } = client;

        public StatsTracker Stats { get; } = stats;

        public CancellationTokenSource Cts { get; } = cts;

        public Task Watch { get; set; } = Task.CompletedTask;
    }
}
