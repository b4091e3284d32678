using System.Collections.Concurrent;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Hosting;
using Dashboard.Engine.Store;

namespace Dashboard.Engine.Stats;

/// <summary>
/// The one stats sampler (DESIGN.md §6): a single 1-second timer reads the cgroup and network
/// counters of every running container, keeps the last two readings for the stats API, and rolls
/// them up into SQLite (<see cref="Rollup.Tiers"/>). Subscribers wait on <see cref="NextTickAsync"/>
/// instead of reading files themselves, so N viewers cost no more than one.
/// </summary>
public sealed class StatsSampler : BackgroundService
{
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_pruneEvery = TimeSpan.FromMinutes(10);

    private readonly EngineOptions _options;
    private readonly IContainerStore _store;
    private readonly CgroupStatsFiles _files;
    private readonly TimeProvider _time;
    private readonly ILogger<StatsSampler> _log;
    private readonly ConcurrentDictionary<string, ContainerStats> _latest = new(StringComparer.Ordinal);
    private TaskCompletionSource _tick = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DateTimeOffset _lastPrune = DateTimeOffset.MinValue;

    public StatsSampler(EngineOptions options, IContainerStore store, TimeProvider time, ILogger<StatsSampler> log)
    {
        _options = options;
        _store = store;
        _time = time;
        _log = log;
        _files = new CgroupStatsFiles();
        HostMemory = ReadHostMemory();
    }

    /// <summary>The last two readings of a running container and its rollup buckets.</summary>
    public sealed class ContainerStats
    {
        public RawSample? Previous { get; set; }
        public RawSample? Latest { get; set; }
        public Rollup.Bucket[] Buckets { get; } = Rollup.Tiers.Select(t => new Rollup.Bucket(t.Resolution)).ToArray();
    }

    public ulong HostMemory { get; }

    /// <summary>Time spent in the last tick (the sampler's cost; see README).</summary>
    public TimeSpan LastTickDuration { get; private set; }

    public (RawSample? Previous, RawSample? Latest) Get(string id) =>
        _latest.TryGetValue(id, out var s) ? (s.Previous, s.Latest) : (null, null);

    /// <summary>Completes after the next sampling round.</summary>
    public Task NextTickAsync(CancellationToken cancellationToken) => Volatile.Read(ref _tick).Task.WaitAsync(cancellationToken);

    public static string CgroupPath(string cgroupParent, string id) => $"{cgroupParent.TrimEnd('/')}/{id}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(s_interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await SampleAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _log.LogWarning(e, "stats sampling failed");
                }
                finally
                {
                    Interlocked.Exchange(ref _tick, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One round: read every running container, hand finished buckets to SQLite, prune old history now and then.</summary>
    public async Task SampleAsync(CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var now = _time.GetUtcNow();
        var running = await _store.ListActiveAsync(cancellationToken);
        var finished = new List<StatsSample>();
        foreach (var (id, pid) in running)
        {
            var sample = _files.Read(CgroupPath(_options.CgroupParent, id), pid, now);
            var state = _latest.GetOrAdd(id, _ => new ContainerStats());
            foreach (var bucket in state.Buckets)
            {
                if (bucket.Add(id, state.Latest, sample) is { } done)
                {
                    finished.Add(done);
                }
            }

            state.Previous = state.Latest;
            state.Latest = sample;
        }

        _files.Retain(running.Select(c => (CgroupPath(_options.CgroupParent, c.Id), c.Pid)));
        if (_latest.Count > running.Count)
        {
            var active = running.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var id in _latest.Keys.Where(k => !active.Contains(k)).ToList())
            {
                if (_latest.TryRemove(id, out var gone))
                {
                    finished.AddRange(gone.Buckets.Select(b => b.Flush(id)).OfType<StatsSample>());
                }
            }
        }

        if (finished.Count > 0)
        {
            // A container removed during the round needs no catch: the store skips its samples (its history went with
            // it) and keeps the others'; any other failure fails the round, which ExecuteAsync logs.
            await _store.AddStatsAsync(finished, cancellationToken);
        }

        if (now - _lastPrune > s_pruneEvery)
        {
            _lastPrune = now;
            foreach (var (resolution, retention) in Rollup.Tiers)
            {
                await _store.PruneStatsAsync(resolution, (now - retention).ToUnixTimeSeconds(), cancellationToken);
            }
        }

        LastTickDuration = _time.GetElapsedTime(started);
    }

    public override void Dispose()
    {
        _files.Dispose();
        base.Dispose();
    }

    private static ulong ReadHostMemory()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                {
                    var kb = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
                    return ulong.Parse(kb, System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }
}
