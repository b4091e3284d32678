using System.Collections.Concurrent;
using Dashboard.Engine.Api;
using Dashboard.Engine.Events;
using Dashboard.Engine.Store;

namespace Dashboard.Engine.Containers;

/// <summary>One probe's outcome: the command's exit code (-1 when it timed out or could not run) and its output.</summary>
public sealed record HealthProbeResult(int ExitCode, string Output);

/// <summary>Runs a health check command inside a running container.</summary>
public interface IHealthProbe
{
    Task<HealthProbeResult> RunAsync(ContainerRecord container, IReadOnlyList<string> command, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary><c>State.Health</c> of inspect (API definitions Health).</summary>
public sealed class HealthView
{
    public string Status { get; init; } = HealthMonitor.Starting;
    public int FailingStreak { get; init; }
    public List<HealthLogView> Log { get; init; } = [];
}

public sealed class HealthLogView
{
    public string Start { get; init; } = "";
    public string End { get; init; } = "";
    public int ExitCode { get; init; }
    public string Output { get; init; } = "";
}

/// <summary>
/// Health checks (moby daemon/health.go): while a container with a <c>Config.Healthcheck</c> runs, its
/// command is run every interval (the start interval during the start period) through the runtime's
/// exec; exit 0 makes it healthy, <c>Retries</c> failures in a row unhealthy, failures during the start
/// period do not count until the first success. The last five results are kept with their output
/// (at most 4 KiB each); every status change is published as a <c>health_status: STATUS</c> event.
/// The monitor follows container start/die/destroy events, and at engine start picks up the
/// containers that are already running, continuing from the health recorded in <see cref="HealthStateFile"/>.
/// </summary>
public sealed class HealthMonitor : IHostedService, IAsyncDisposable
{
    public const string Starting = "starting";
    public const string Healthy = "healthy";
    public const string Unhealthy = "unhealthy";
    public const string None = "none";
    public const int MaxLogEntries = 5;
    public const int MaxOutputLength = 4096;

    private readonly EventBus _events;
    private readonly IContainerStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<HealthMonitor> _log;
    private readonly ConcurrentDictionary<string, Tracker> _trackers = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _shutdown = new();
    private EventBus.Subscription? _subscription;
    private Task? _follower;

    public HealthMonitor(EventBus events, IContainerStore store, IHealthProbe probe, TimeProvider time, ILogger<HealthMonitor> log)
    {
        _events = events;
        _store = store;
        Probe = probe;
        _time = time;
        _log = log;
    }

    /// <summary>How checks run; tests with an in-process runtime replace it.</summary>
    public IHealthProbe Probe { get; set; }

    private sealed class Tracker
    {
        public Lock Gate { get; } = new();
        public string Status { get; set; } = Starting;
        public int FailingStreak { get; set; }
        public List<HealthLogView> Log { get; } = [];
        public CancellationTokenSource? Loop { get; set; }
    }

    /// <summary>The health of a container that has a check and was started, or null.</summary>
    public HealthView? Get(string id)
    {
        if (!_trackers.TryGetValue(id, out var t))
        {
            return null;
        }

        lock (t.Gate)
        {
            return new HealthView { Status = t.Status, FailingStreak = t.FailingStreak, Log = [.. t.Log] };
        }
    }

    /// <summary>The value the <c>health</c> filter of <c>/containers/json</c> compares: starting, healthy, unhealthy or none.</summary>
    public string FilterStatus(ContainerRecord container) =>
        HealthcheckRules.Resolve(container.Config.Healthcheck) is null ? None : Get(container.Id)?.Status ?? None;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = _events.Subscribe();
        _follower = Task.Run(FollowAsync, CancellationToken.None);
        foreach (var container in await _store.ListContainersAsync(cancellationToken))
        {
            if (container.State.Status is ContainerPhase.Running or ContainerPhase.Paused)
            {
                Begin(container, restore: true);
            }
            else
            {
                Restore(container);
            }
        }
    }

    private async Task FollowAsync()
    {
        try
        {
            await foreach (var e in _subscription!.Reader.ReadAllAsync(_shutdown.Token))
            {
                if (e.Type != "container")
                {
                    continue;
                }

                switch (e.Action)
                {
                    case "start":
                        if (await _store.GetContainerAsync(e.ActorId, _shutdown.Token) is { } container)
                        {
                            Begin(container);
                        }

                        break;
                    case "die":
                        End(e.ActorId, forget: false);
                        break;
                    case "destroy":
                        End(e.ActorId, forget: true);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _log.LogError(e, "health monitor stopped following events");
        }
    }

    /// <param name="restore">At engine start: continue from the health the previous engine recorded for this run of the container.</param>
    private void Begin(ContainerRecord container, bool restore = false)
    {
        if (HealthcheckRules.Resolve(container.Config.Healthcheck) is not { } settings)
        {
            return;
        }

        var saved = restore ? HealthStateFile.Read(container.BundleDir) : null;
        if (saved is not null && saved.StartedAt != container.State.StartedAt)
        {
            saved = null;
        }

        var tracker = _trackers.GetOrAdd(container.Id, _ => new Tracker());
        var loop = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        CancellationTokenSource? old;
        lock (tracker.Gate)
        {
            old = tracker.Loop;
            tracker.Loop = loop;
            tracker.Status = saved?.Status ?? Starting;
            tracker.FailingStreak = saved?.FailingStreak ?? 0;
            if (saved is not null)
            {
                tracker.Log.Clear();
                tracker.Log.AddRange(saved.Log.TakeLast(MaxLogEntries));
            }
        }

        TryCancel(old);
        _ = Task.Run(() => RunAsync(container, settings, tracker, loop), CancellationToken.None);
    }

    /// <summary>At engine start, the last health of a container that is not running (inspect keeps showing it, as before the restart).</summary>
    private void Restore(ContainerRecord container)
    {
        if (HealthcheckRules.Resolve(container.Config.Healthcheck) is null || HealthStateFile.Read(container.BundleDir) is not { } saved)
        {
            return;
        }

        var tracker = _trackers.GetOrAdd(container.Id, _ => new Tracker());
        lock (tracker.Gate)
        {
            tracker.Status = saved.Status;
            tracker.FailingStreak = saved.FailingStreak;
            tracker.Log.Clear();
            tracker.Log.AddRange(saved.Log.TakeLast(MaxLogEntries));
        }
    }

    private void End(string id, bool forget)
    {
        var tracker = forget ? _trackers.TryRemove(id, out var t) ? t : null : _trackers.GetValueOrDefault(id);
        if (tracker is null)
        {
            return;
        }

        CancellationTokenSource? loop;
        lock (tracker.Gate)
        {
            loop = tracker.Loop;
            tracker.Loop = null;
        }

        TryCancel(loop);
    }

    private static void TryCancel(CancellationTokenSource? source)
    {
        try
        {
            source?.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task RunAsync(ContainerRecord container, HealthcheckSettings settings, Tracker tracker, CancellationTokenSource loop)
    {
        var started = container.State.StartedAt ?? _time.GetUtcNow();
        try
        {
            while (!loop.IsCancellationRequested)
            {
                bool inStartPeriod;
                lock (tracker.Gate)
                {
                    inStartPeriod = tracker.Status == Starting && _time.GetUtcNow() - started < settings.StartPeriod;
                }

                await Task.Delay(inStartPeriod ? settings.StartInterval : settings.Interval, _time, loop.Token);
                var current = await _store.GetContainerAsync(container.Id, loop.Token);
                if (current is null || current.State.Status != ContainerPhase.Running)
                {
                    // A paused container cannot run a probe; a stopped one ends the loop through its die event.
                    continue;
                }

                var start = _time.GetUtcNow();
                HealthProbeResult result;
                try
                {
                    result = await Probe.RunAsync(current, settings.Command, settings.Timeout, loop.Token);
                }
                catch (EngineException e)
                {
                    result = new HealthProbeResult(-1, e.Message);
                }

                await RecordAsync(current, settings, tracker, loop, start, result, started);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            _log.LogError(e, "health check of container {ContainerId} failed", container.Id);
        }
        finally
        {
            lock (tracker.Gate)
            {
                if (ReferenceEquals(tracker.Loop, loop))
                {
                    tracker.Loop = null;
                }
            }

            loop.Dispose();
        }
    }

    private async Task RecordAsync(ContainerRecord container, HealthcheckSettings settings, Tracker tracker, CancellationTokenSource loop, DateTimeOffset start, HealthProbeResult result, DateTimeOffset started)
    {
        string before;
        string after;
        HealthStateFile snapshot;
        lock (tracker.Gate)
        {
            if (!ReferenceEquals(tracker.Loop, loop))
            {
                return;
            }

            before = tracker.Status;
            var output = result.Output.Length > MaxOutputLength ? result.Output[..MaxOutputLength] : result.Output;
            tracker.Log.Add(new HealthLogView
            {
                Start = ApiPipeline.FormatTime(start),
                End = ApiPipeline.FormatTime(_time.GetUtcNow()),
                ExitCode = result.ExitCode,
                Output = output,
            });
            if (tracker.Log.Count > MaxLogEntries)
            {
                tracker.Log.RemoveRange(0, tracker.Log.Count - MaxLogEntries);
            }

            if (result.ExitCode == 0)
            {
                tracker.FailingStreak = 0;
                tracker.Status = Healthy;
            }
            else if (!(tracker.Status == Starting && start - started < settings.StartPeriod))
            {
                tracker.FailingStreak++;
                if (tracker.FailingStreak >= settings.Retries)
                {
                    tracker.Status = Unhealthy;
                }
            }

            after = tracker.Status;
            snapshot = new HealthStateFile { Status = after, FailingStreak = tracker.FailingStreak, Log = [.. tracker.Log], StartedAt = container.State.StartedAt };
        }

        try
        {
            snapshot.Write(container.BundleDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogWarning("recording the health of container {ContainerId} failed: {Error}", container.Id, e.Message);
        }

        if (before != after)
        {
            _log.LogInformation("container {ContainerId} is {Status}", container.Id, after);
            var attributes = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["name"] = container.Name,
                ["image"] = container.Image,
            };
            foreach (var (k, v) in container.Config.Labels ?? [])
            {
                attributes.TryAdd(k, v);
            }

            await _events.PublishAsync("container", "health_status: " + after, container.Id, attributes);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _shutdown.CancelAsync();
        _subscription?.Dispose();
        if (_follower is not null)
        {
            await _follower.WaitAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_shutdown.IsCancellationRequested)
        {
            await _shutdown.CancelAsync();
        }

        _subscription?.Dispose();
        _shutdown.Dispose();
    }
}
