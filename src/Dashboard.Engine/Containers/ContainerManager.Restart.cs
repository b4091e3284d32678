using System.Collections.Concurrent;
using Dashboard.Engine.Runtime;

namespace Dashboard.Engine.Containers;

/// <summary>
/// Restart policies (moby daemon/monitor.go + restartmanager): after each exit the policy decides
/// whether the container goes to <c>restarting</c> and is started again after a back-off. A stop or
/// kill through the API ends the loop ("exit on next"); being stopped by hand is remembered in a
/// marker file in the container directory so that <c>unless-stopped</c> survives an engine restart.
/// </summary>
public sealed partial class ContainerManager
{
    private const string ManualStopMarker = "manually-stopped";

    private readonly ConcurrentDictionary<string, RestartLoop> _restartLoops = new(StringComparer.Ordinal);

    private sealed class RestartLoop
    {
        public Lock Gate { get; } = new();
        public RestartBackoff Backoff { get; } = new();
        public CancellationTokenSource? Pending { get; set; }
        public bool ExitOnNext { get; set; }
    }

    private RestartLoop Loop(string id) => _restartLoops.GetOrAdd(id, _ => new RestartLoop());

    private static string ManualStopFile(ContainerRecord container) => Path.Combine(container.BundleDir, ManualStopMarker);

    /// <summary>Whether the container was last stopped through the API (moby HasBeenManuallyStopped).</summary>
    public static bool IsManuallyStopped(ContainerRecord container) => File.Exists(ManualStopFile(container));

    /// <summary>A start through the API resets the loop: count 0, back-off from 100 ms, no longer "stopped by hand".</summary>
    private ContainerRecord PrepareManualStart(ContainerRecord container)
    {
        File.Delete(ManualStopFile(container));
        var loop = new RestartLoop();
        if (_restartLoops.TryGetValue(container.Id, out var old))
        {
            CancelPending(old);
        }

        _restartLoops[container.Id] = loop;
        return container with { State = container.State with { RestartCount = 0 } };
    }

    /// <summary>
    /// Stop (or restart, or forced remove) was asked for: no more restarts, and a pending one is cancelled
    /// (a <c>restarting</c> container becomes <c>exited</c>). Returns the container as it is now.
    /// </summary>
    private async Task<ContainerRecord> StopRequestedAsync(ContainerRecord container)
    {
        MarkManuallyStopped(container);
        var loop = Loop(container.Id);
        lock (loop.Gate)
        {
            loop.ExitOnNext = true;
        }

        CancelPending(loop);
        using (await LockAsync(container.Id, CancellationToken.None))
        {
            var current = await _store.GetContainerAsync(container.Id, CancellationToken.None) ?? throw EngineException.NoSuchContainer(container.Id);
            if (current.State.Status == ContainerPhase.Restarting)
            {
                current = current with { State = current.State with { Status = ContainerPhase.Exited } };
                await _store.SaveStateAsync(current.Id, current.State, CancellationToken.None);
                lock (loop.Gate)
                {
                    loop.ExitOnNext = false;
                }
            }

            return current;
        }
    }

    /// <summary>moby killWithSignal: any kill counts as a manual stop; SIGKILL or the stop signal also ends the loop.</summary>
    private async Task<ContainerRecord> KillRequestedAsync(ContainerRecord container, int signal)
    {
        var stopSignal = Signals.Parse(string.IsNullOrEmpty(container.Config.StopSignal) ? "SIGTERM" : container.Config.StopSignal);
        if (signal == Signals.SIGKILL || signal == stopSignal || string.IsNullOrEmpty(container.Config.StopSignal))
        {
            return await StopRequestedAsync(container);
        }

        MarkManuallyStopped(container);
        return container;
    }

    private void MarkManuallyStopped(ContainerRecord container)
    {
        try
        {
            File.WriteAllBytes(ManualStopFile(container), []);
        }
        catch (IOException e)
        {
            _log.LogWarning("container {ContainerId}: recording the manual stop failed: {Error}", container.Id, e.Message);
        }
    }

    private static void CancelPending(RestartLoop loop)
    {
        CancellationTokenSource? pending;
        lock (loop.Gate)
        {
            pending = loop.Pending;
            loop.Pending = null;
        }

        pending?.Cancel();
    }

    /// <summary>Called after an exit was recorded (and its die event published): applies the restart policy.</summary>
    private async Task AfterExitAsync(ContainerRecord before, ContainerExit result)
    {
        var loop = Loop(before.Id);
        lock (loop.Gate)
        {
            if (loop.ExitOnNext)
            {
                loop.ExitOnNext = false;
                return;
            }
        }

        if (!RestartPolicyRules.ShouldRestart(before.HostConfig.RestartPolicy, result.ExitCode, IsManuallyStopped(before), before.State.RestartCount))
        {
            return;
        }

        var ranFor = before.State.StartedAt is { } started ? result.FinishedAt - started : TimeSpan.Zero;
        TimeSpan delay;
        lock (loop.Gate)
        {
            delay = loop.Backoff.Next(ranFor);
        }

        await ScheduleRestartAsync(before.Id, delay, countIt: true);
    }

    /// <summary>
    /// After an engine start (or a host reboot, when every container is found stopped) the policies
    /// apply once to containers that are not running, as moby's restore does; the count starts over.
    /// </summary>
    private async Task RestartAfterEngineStartAsync(ContainerRecord container)
    {
        if (container.State.Status != ContainerPhase.Exited || container.State.StartedAt is null
            || !RestartPolicyRules.ShouldRestart(container.HostConfig.RestartPolicy, container.State.ExitCode, IsManuallyStopped(container), container.State.RestartCount))
        {
            return;
        }

        _log.LogInformation("container {ContainerId}: starting it again (restart policy {Policy})", container.Id, container.HostConfig.RestartPolicy?.Name);
        await ScheduleRestartAsync(container.Id, TimeSpan.Zero, countIt: false);
    }

    private async Task ScheduleRestartAsync(string id, TimeSpan delay, bool countIt)
    {
        var loop = Loop(id);
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        using (await LockAsync(id, CancellationToken.None))
        {
            var container = await _store.GetContainerAsync(id, CancellationToken.None);
            if (container is null || container.State.Status != ContainerPhase.Exited)
            {
                cancel.Dispose();
                return;
            }

            var state = container.State with
            {
                Status = ContainerPhase.Restarting,
                RestartCount = countIt ? container.State.RestartCount + 1 : 0,
            };
            await _store.SaveStateAsync(id, state, CancellationToken.None);
            lock (loop.Gate)
            {
                loop.Pending?.Cancel();
                loop.Pending = cancel;
            }
        }

        _ = Task.Run(() => RestartLaterAsync(id, delay, loop, cancel));
    }

    private async Task RestartLaterAsync(string id, TimeSpan delay, RestartLoop loop, CancellationTokenSource cancel)
    {
        try
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, _time, cancel.Token);
            }

            lock (loop.Gate)
            {
                if (!ReferenceEquals(loop.Pending, cancel))
                {
                    return;
                }

                loop.Pending = null;
            }

            await StartAsync(id, restart: true, cancel.Token);
        }
        catch (OperationCanceledException)
        {
        }
        catch (EngineException e) when (e.Kind == ErrorKind.NotFound)
        {
        }
        catch (EngineException e)
        {
            // The failed start was recorded as an exit (code 128); it counts like any other exit.
            _log.LogWarning("container {ContainerId}: restart failed: {Error}", id, e.Message);
            var container = await _store.GetContainerAsync(id, CancellationToken.None);
            if (container is not null && !cancel.IsCancellationRequested)
            {
                // No run time: a start that keeps failing backs off instead of resetting to 100 ms.
                var failed = container with { State = container.State with { StartedAt = null } };
                await AfterExitAsync(failed, new ContainerExit(container.State.ExitCode, false, _time.GetUtcNow(), e.Message));
            }
        }
        catch (Exception e)
        {
            _log.LogError(e, "container {ContainerId}: restart loop failed", id);
        }
        finally
        {
            lock (loop.Gate)
            {
                if (ReferenceEquals(loop.Pending, cancel))
                {
                    loop.Pending = null;
                }
            }

            cancel.Dispose();
        }
    }
}
