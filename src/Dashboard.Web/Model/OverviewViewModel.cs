using System.Security.Claims;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;

namespace Dashboard.Web.Model;

public sealed record EngineHealth(string Name, EngineInfo? Info, string? Error)
{
    public bool Healthy => Error is null;
}

public sealed record EngineEventEntry(string Engine, EngineEvent Event);

public sealed record TopContainer(string Engine, string Id, string Name, double? CpuPercent, ulong? MemoryUsage, ulong? MemoryLimit);

/// <summary>
/// The overview: host CPU/memory/disk, each engine's /info and health, containers by state, recent events and the
/// busiest containers. Containers and events follow the engines' event streams; host figures and the top lists
/// refresh on a timer (stats come from one <see cref="StatsTracker"/> per engine, capped like the containers list).
/// </summary>
public sealed class OverviewViewModel(IEngineRegistry engines, IUserAccessSource accessSource, HostMetrics host, string diskPath, TimeSpan? refresh = null) : IAsyncDisposable
{
    public const int RecentCapacity = 20;
    public const int TopCount = 5;

    private readonly TimeSpan _refresh = refresh ?? TimeSpan.FromSeconds(2);
    private readonly CancellationTokenSource _cts = new();
    private readonly List<Task> _tasks = [];
    private readonly Dictionary<string, StatsTracker> _stats = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<ContainerSummary>> _containers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, EngineHealth> _health = new(StringComparer.Ordinal);
    private readonly LinkedList<EngineEventEntry> _recent = new();
    private readonly Lock _lock = new();

    public event Func<Task>? Changed;

    public UserAccess Access { get; private set; } = UserAccess.None;

    public string? Error { get; private set; }

    public HostSnapshot? Host { get; private set; }

    public IReadOnlyList<EngineHealth> Engines
    {
        get
        {
            lock (_lock)
            {
                return [.. engines.Names.Where(_health.ContainsKey).Select(n => _health[n])];
            }
        }
    }

    public IReadOnlyDictionary<ContainerState, int> Counts
    {
        get
        {
            lock (_lock)
            {
                return _containers.Values.SelectMany(c => c).GroupBy(c => c.State).ToDictionary(g => g.Key, g => g.Count());
            }
        }
    }

    public int TotalContainers
    {
        get
        {
            lock (_lock)
            {
                return _containers.Values.Sum(c => c.Count);
            }
        }
    }

    public IReadOnlyList<EngineEventEntry> RecentEvents
    {
        get
        {
            lock (_lock)
            {
                return [.. _recent];
            }
        }
    }

    public IReadOnlyList<TopContainer> TopByCpu { get; private set; } = [];

    public IReadOnlyList<TopContainer> TopByMemory { get; private set; } = [];

    public async Task InitializeAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        Access = await accessSource.GetAsync(user, cancellationToken);
        if (!Access.Can(DashboardAction.ViewContainers))
        {
            Error = "read overview: permission denied";
            return;
        }

        Host = host.Read(diskPath);
        var token = _cts.Token;
        _tasks.AddRange(await Task.WhenAll(engines.Names.Select(name => EngineEventSubscription.StartWatchAsync(opened => WatchAsync(name, opened, token), token))));
        await Task.WhenAll(engines.Names.Select(n => ReloadEngineAsync(n, cancellationToken)));
        _tasks.Add(Task.Run(() => TickAsync(token), token));
        ComputeTop();
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        foreach (var task in _tasks)
        {
            try
            {
                await task;
            }
            catch (OperationCanceledException)
            {
            }
        }

        foreach (var tracker in _stats.Values)
        {
            await tracker.DisposeAsync();
        }

        _cts.Dispose();
    }

    private async Task ReloadEngineAsync(string name, CancellationToken cancellationToken)
    {
        EngineHealth health;
        IReadOnlyList<ContainerSummary>? containers = null;
        try
        {
            var client = engines.Get(name);
            var info = await client.GetInfoAsync(cancellationToken);
            containers = await client.ListContainersAsync(null, cancellationToken);
            health = new EngineHealth(name, info, null);
            StatsTracker tracker;
            lock (_lock)
            {
                if (!_stats.TryGetValue(name, out tracker!))
                {
                    _stats[name] = tracker = new StatsTracker(client);
                }
            }

            tracker.Track(containers.Where(c => c.State == ContainerState.Running).Select(c => c.Id));
        }
        catch (EngineException e)
        {
            health = new EngineHealth(name, null, e.Message);
        }

        lock (_lock)
        {
            _health[name] = health;
            if (containers is not null)
            {
                _containers[name] = containers;
            }
            else
            {
                _containers.Remove(name);
            }
        }
    }

    private async Task WatchAsync(string name, TaskCompletionSource opened, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var batch in engines.Get(name).GetEventsAsync(opened, cancellationToken))
                {
                    lock (_lock)
                    {
                        foreach (var e in batch.Where(e => !e.IsResync))
                        {
                            _recent.AddFirst(new EngineEventEntry(name, e));
                            if (_recent.Count > RecentCapacity)
                            {
                                _recent.RemoveLast();
                            }
                        }
                    }

                    if (batch.Any(e => e.IsResync || e.Type == EngineEventType.Container))
                    {
                        await ReloadEngineAsync(name, cancellationToken);
                    }

                    await NotifyAsync();
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (EngineException e)
            {
                lock (_lock)
                {
                    _health[name] = new EngineHealth(name, null, e.Message);
                }

                await NotifyAsync();
            }

            // The stream ended or failed: try again later (the engine may be restarting); the first load need not wait.
            opened.TrySetResult();
            await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
            await ReloadEngineAsync(name, cancellationToken);
        }
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_refresh);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            Host = host.Read(diskPath);
            ComputeTop();
            await NotifyAsync();
        }
    }

    private void ComputeTop()
    {
        List<TopContainer> all;
        lock (_lock)
        {
            all = [.. _containers
                .SelectMany(kv => kv.Value.Where(c => c.State == ContainerState.Running).Select(c => (Engine: kv.Key, Container: c)))
                .Select(x => (x.Engine, x.Container, Sample: _stats.TryGetValue(x.Engine, out var t) ? t.Latest(x.Container.Id) : null))
                .Where(x => x.Sample is not null)
                .Select(x => new TopContainer(x.Engine, x.Container.Id, x.Container.Name, x.Sample!.CpuPercent, x.Sample.MemoryUsage, x.Sample.MemoryLimit))];
        }

        TopByCpu = [.. all.Where(t => t.CpuPercent is not null).OrderByDescending(t => t.CpuPercent).Take(TopCount)];
        TopByMemory = [.. all.Where(t => t.MemoryUsage is not null).OrderByDescending(t => t.MemoryUsage).Take(TopCount)];
    }

    private async Task NotifyAsync()
    {
        if (Changed is { } changed)
        {
            await changed();
        }
    }
}
