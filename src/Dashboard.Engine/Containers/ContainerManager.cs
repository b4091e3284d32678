using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Dashboard.Engine.Api;
using Dashboard.Engine.Events;
using Dashboard.Engine.Hosting;
using Dashboard.Engine.Images;
using Dashboard.Engine.Networking;
using Dashboard.Engine.Runtime;
using Dashboard.Engine.Store;
using Dashboard.Engine.Volumes;
using Dashboard.Oci.Runtime;

namespace Dashboard.Engine.Containers;

/// <summary>
/// The container lifecycle behind the API: each verb checks its transition guard first, changes
/// the runtime, then records the new state and an event. Container processes run under their
/// shim, so they outlive the engine; <see cref="ReconcileAsync"/> re-attaches to them at start.
/// </summary>
public sealed partial class ContainerManager : IAsyncDisposable
{
    private readonly EngineOptions _options;
    private readonly IContainerStore _store;
    private readonly IOciRuntime _runtime;
    private readonly IImageSource _images;
    private readonly VolumeService _volumes;
    private readonly EventBus _events;
    private readonly IContainerNetworking _networking;
    private readonly TimeProvider _time;
    private readonly ILogger<ContainerManager> _log;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<ContainerExit>> _exits = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _removed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _monitors = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _shutdown = new();

    public ContainerManager(EngineOptions options, IContainerStore store, IOciRuntime runtime, IImageSource images, VolumeService volumes, EventBus events, IContainerNetworking networking, TimeProvider time, ILogger<ContainerManager> log)
    {
        _networking = networking;
        _volumes = volumes;
        _options = options;
        _store = store;
        _runtime = runtime;
        _images = images;
        _events = events;
        _time = time;
        _log = log;
    }

    [GeneratedRegex("^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")]
    private static partial Regex NameRegex();

    public IContainerStore Store => _store;

    public static void ValidateName(string name)
    {
        if (name.Length > 255 || !NameRegex().IsMatch(name))
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"Invalid container name ({(name.Length > 64 ? name[..64] + "…" : name)}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
        }
    }

    public static string NewId()
    {
        while (true)
        {
            var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

            // Docker regenerates ids whose short form is all digits, which would read as a number (moby stringid).
            if (!id[..12].All(char.IsAsciiDigit))
            {
                return id;
            }
        }
    }

    public string ContainerDir(string id) => Path.Combine(_options.ContainersDir, id);

    public static string ExitFile(string bundleDir) => Path.Combine(bundleDir, "exit.json");

    public string ControlSocket(string id) => Path.Combine(_options.StateRoot, "shims", id[..32] + ".sock");

    public async Task<ContainerCreateResponse> CreateAsync(string? name, ContainerCreateBody body, CancellationToken cancellationToken)
    {
        if (name is not null)
        {
            ValidateName(name);
            name = name.TrimStart('/');
        }

        if (string.IsNullOrEmpty(body.Image))
        {
            throw new EngineException(ErrorKind.InvalidArgument, "config cannot be empty in order to create a container: no image given");
        }

        var timer = PhaseTimer.Start("create");
        _runtime.PrepareStart();
        CreateDefaults.EmptyAsUnset(body);
        var image = await _images.ResolveAsync(body.Image, cancellationToken);
        timer?.Mark("resolve");
        var host = body.HostConfig ?? new HostConfig();
        var id = NewId();
        var config = CopyConfig(body, image);
        var dir = ContainerDir(id);
        Directory.CreateDirectory(dir);
        try
        {
            image = image with { RootfsPath = await _images.CreateRootfsAsync(image, dir, cancellationToken) };
            timer?.Mark("rootfs");
            var specHost = await _volumes.PrepareAsync(dir, host, image.Config, image.RootfsPath, cancellationToken);
            var spec = SpecBuilder.Build(id, body, specHost, image, _options.CgroupParent);
            timer?.Mark("spec");
            await _networking.PrepareAsync(id, dir, body, host, spec, cancellationToken);
            timer?.Mark("network");

            // The policy sees the spec exactly as it will run, network namespace and mounts included.
            CheckPolicy(id, spec);
            var tmp = Path.Combine(dir, "config.json.tmp");
            await File.WriteAllBytesAsync(tmp, RuntimeJson.SerializeToUtf8(spec), cancellationToken);
            File.Move(tmp, Path.Combine(dir, "config.json"));
            timer?.Mark("config");
            var args = spec.Process!.Args!;
            var record = new ContainerRecord
            {
                Id = id,
                Name = name ?? await GenerateNameAsync(cancellationToken),
                Image = body.Image,
                ImageId = image.Id,
                Created = _time.GetUtcNow(),
                Config = config,
                HostConfig = host,
                Path = args[0],
                Args = args.Skip(1).ToList(),
                BundleDir = dir,
                LogPath = Path.Combine(dir, "container.log"),
            };
            var created = await _store.AddContainerAsync(record, ContainerEvent(record, "create"), cancellationToken);
            timer?.Mark("store");
            _events.Deliver(created);
            timer?.Log(_log);
            return new ContainerCreateResponse(id, []);
        }
        catch
        {
            await _volumes.AbandonAsync(dir);
            _images.RemoveContainerDirectory(dir);
            throw;
        }
    }

    /// <summary>The config as inspect shows it: the create body's container part with the image's defaults filled in.</summary>
    private static ContainerConfig CopyConfig(ContainerCreateBody body, ResolvedImage image) => new()
    {
        Hostname = body.Hostname,
        Domainname = body.Domainname,
        User = body.User ?? image.Config.User ?? "",
        AttachStdin = body.AttachStdin,
        AttachStdout = body.AttachStdout,
        AttachStderr = body.AttachStderr,
        ExposedPorts = body.ExposedPorts ?? image.Config.ExposedPorts,
        Tty = body.Tty,
        OpenStdin = body.OpenStdin,
        StdinOnce = body.StdinOnce,
        Env = body.Env ?? image.Config.Env,
        Cmd = body.Cmd ?? (body.Entrypoint is null ? image.Config.Cmd : null),
        Healthcheck = body.Healthcheck,
        Image = body.Image,
        Volumes = body.Volumes ?? image.Config.Volumes,
        WorkingDir = body.WorkingDir ?? image.Config.WorkingDir ?? "",
        Entrypoint = body.Entrypoint ?? image.Config.Entrypoint,
        NetworkDisabled = body.NetworkDisabled,
        Labels = MergeLabels(image.Config.Labels, body.Labels),
        StopSignal = body.StopSignal ?? image.Config.StopSignal,
        StopTimeout = body.StopTimeout,
    };

    private static Dictionary<string, string> MergeLabels(Dictionary<string, string>? image, Dictionary<string, string>? create)
    {
        var labels = new Dictionary<string, string>(image ?? [], StringComparer.Ordinal);
        foreach (var (k, v) in create ?? [])
        {
            labels[k] = v;
        }

        return labels;
    }

    private static readonly string[] s_adjectives = ["brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry", "nifty", "proud", "quiet", "sharp", "tender", "vivid", "witty", "zealous"];
    private static readonly string[] s_nouns = ["babbage", "curie", "darwin", "euler", "fermi", "gauss", "hopper", "kepler", "lovelace", "meitner", "newton", "noether", "pascal", "ritchie", "shannon", "turing", "wozniak"];

    private async Task<string> GenerateNameAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var name = $"{s_adjectives[RandomNumberGenerator.GetInt32(s_adjectives.Length)]}_{s_nouns[RandomNumberGenerator.GetInt32(s_nouns.Length)]}";
            if (attempt > 5)
            {
                name += RandomNumberGenerator.GetInt32(1000, 10000).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            if (!await _store.ContainerNameExistsAsync(name, cancellationToken))
            {
                return name;
            }
        }
    }

    public Task<ContainerRecord> GetAsync(string reference, CancellationToken cancellationToken) =>
        _store.LookupContainerAsync(reference, cancellationToken);

    public Task StartAsync(string reference, CancellationToken cancellationToken) => StartAsync(reference, restart: false, cancellationToken);

    /// <summary><paramref name="restart"/>: started by the restart policy (only from <c>restarting</c>), not through the API.</summary>
    private async Task StartAsync(string reference, bool restart, CancellationToken cancellationToken)
    {
        var timer = PhaseTimer.Start("start");

        // A full id needs no lookup of its own (the read under the lock is the one that counts); a name that looks like one falls back.
        if (!IsFullId(reference) || !await StartLockedAsync(reference, restart, timer, cancellationToken))
        {
            var id = (await GetAsync(reference, cancellationToken)).Id;
            if (!await StartLockedAsync(id, restart, timer, cancellationToken))
            {
                throw EngineException.NoSuchContainer(reference);
            }
        }
    }

    /// <summary>Starts container <paramref name="id"/> under its lock; false when there is no such container.</summary>
    private async Task<bool> StartLockedAsync(string id, bool restart, PhaseTimer? timer, CancellationToken cancellationToken)
    {
        using (await LockAsync(id, cancellationToken))
        {
            var container = await _store.GetContainerAsync(id, cancellationToken);
            if (container is null)
            {
                return false;
            }

            timer?.Mark("lookup");
            if (restart && container.State.Status != ContainerPhase.Restarting)
            {
                return true;
            }

            switch (container.State.Status)
            {
                case ContainerPhase.Restarting when restart:
                    break;
                case ContainerPhase.Running or ContainerPhase.Restarting:
                    throw new EngineException(ErrorKind.NotModified, "container already started");
                case ContainerPhase.Paused:
                    throw new EngineException(ErrorKind.InvalidState, "cannot start a paused container, try unpause instead");
                case ContainerPhase.Removing or ContainerPhase.Dead:
                    throw new EngineException(ErrorKind.InvalidState, $"container {container.Id} is marked for removal and cannot be started");
            }

            if (!restart)
            {
                container = PrepareManualStart(container);
            }

            // Taken before the runtime starts the container: a quick exit's FinishedAt (the shim's clock) is never earlier.
            var startedAt = _time.GetUtcNow();
            TaskCompletionSource<ContainerExit>? exit = null;
            ShimStarted started;
            try
            {
                await _images.EnsureRootfsAsync(container.BundleDir, cancellationToken);
                timer?.Mark("rootfs");

                // A restart reuses the bundle: the runtime's state of the previous run and its exit file go first.
                await _runtime.DeleteAsync(container.Id, force: true, cancellationToken);
                File.Delete(ExitFile(container.BundleDir));
                // A `wait?condition=next-exit` armed before this start (docker run) holds the pending completion: keep it.
                exit = _exits.AddOrUpdate(
                    container.Id,
                    _ => new TaskCompletionSource<ContainerExit>(TaskCreationOptions.RunContinuationsAsynchronously),
                    (_, old) => old.Task.IsCompleted ? new TaskCompletionSource<ContainerExit>(TaskCreationOptions.RunContinuationsAsynchronously) : old);
                Directory.CreateDirectory(Path.GetDirectoryName(ControlSocket(container.Id))!);
                await _networking.SetupAsync(container, cancellationToken);
                timer?.Mark("network");
                started = await _runtime.StartAsync(
                    new ShimStartRequest(container.Id, container.BundleDir, container.LogPath, ExitFile(container.BundleDir),
                        ControlSocket(container.Id), _options.LogMaxSize, _options.LogMaxFiles, container.Config.OpenStdin && !container.Config.Tty),
                    cancellationToken);
            }
            catch (EngineException e) when (exit is not null)
            {
                await _networking.TeardownAsync(container, CancellationToken.None);
                var failed = container.State with
                {
                    Status = ContainerPhase.Exited,
                    ExitCode = 128,
                    Error = e.Message,
                    Pid = 0,
                    ShimPid = 0,
                    FinishedAt = _time.GetUtcNow(),
                };
                await _store.SaveStateAsync(container.Id, failed, CancellationToken.None);
                exit.TrySetResult(new ContainerExit(128, false, _time.GetUtcNow(), e.Message));
                throw;
            }

            timer?.Mark("runtime");
            var state = container.State with
            {
                Status = ContainerPhase.Running,
                Pid = started.Pid,
                ShimPid = started.ShimPid,
                ExitCode = 0,
                OomKilled = false,
                Error = "",
                StartedAt = startedAt,
                FinishedAt = null,
            };

            // Durable, with its event in the same commit. A durable start intent overlapping the runtime start, with this
            // write left without an fsync of its own, was measured and dropped: the engine's README, "Storage and durability".
            var events = await _store.SaveStateAsync(container.Id, state, [ContainerEvent(container, "start")], CancellationToken.None);
            timer?.Mark("store");
            Monitor(container.Id, container.BundleDir, started.ShimPid, exit);
            _events.Deliver(events);
            timer?.Log(_log);
            return true;
        }
    }

    private static bool IsFullId(string reference) => reference.Length == 64 && reference.All(char.IsAsciiHexDigitLower);

    private void Monitor(string id, string bundleDir, int shimPid, TaskCompletionSource<ContainerExit> exit)
    {
        _monitors[id] = Task.Run(async () =>
        {
            try
            {
                var result = await _runtime.WaitAsync(id, ExitFile(bundleDir), shimPid, _shutdown.Token);
                var timer = PhaseTimer.Start("exit");
                if (timer is not null)
                {
                    // From the shim's clock reading at the exit to the engine seeing it (exit file written, shim reaped).
                    _log.LogInformation("timing {Operation}: total={Total:F2}", "notify", (_time.GetUtcNow() - result.FinishedAt).TotalMilliseconds);
                }

                await RecordExitAsync(id, result);
                timer?.Mark("record");
                exit.TrySetResult(result);
                await DeleteRuntimeStateAsync(id);
                timer?.Mark("delete");
                timer?.Log(_log);
            }
            catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                _log.LogError(e, "monitor of container {ContainerId} failed", id);
                exit.TrySetException(e);
            }
            finally
            {
                _monitors.TryRemove(id, out _);
            }
        });
    }

    private async Task RecordExitAsync(string id, ContainerExit result)
    {
        ContainerRecord? container;
        IReadOnlyList<EngineEvent> stored;
        using (await LockAsync(id, CancellationToken.None))
        {
            container = await _store.GetContainerAsync(id, CancellationToken.None);
            if (container is null)
            {
                return;
            }

            // The network goes before the exit is recorded, as in moby's handleContainerExit: a waiter sees a released endpoint.
            await _networking.TeardownAsync(container, CancellationToken.None);
            var state = container.State with
            {
                Status = ContainerPhase.Exited,
                Pid = 0,
                ShimPid = 0,
                ExitCode = result.ExitCode,
                OomKilled = result.OomKilled,
                Error = result.Error,
                FinishedAt = result.FinishedAt,
            };
            // Durable before any waiter is told the code; its events go in the same commit.
            var events = new List<EngineEvent>(2);
            if (result.OomKilled)
            {
                events.Add(ContainerEvent(container, "oom"));
            }

            events.Add(ContainerEvent(container, "die", new() { ["exitCode"] = result.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
            stored = await _store.SaveStateAsync(id, state, events, CancellationToken.None);
        }

        _log.LogInformation("container {ContainerId} exited with code {ExitCode}", id, result.ExitCode);
        _events.Deliver(stored);
        await AfterExitAsync(container, result);
        if (container.HostConfig.AutoRemove)
        {
            try
            {
                await RemoveAsync(id, force: false, removeVolumes: true, CancellationToken.None);
            }
            catch (EngineException e) when (e.Kind == ErrorKind.NotFound)
            {
            }
        }
    }

    /// <summary>
    /// The runtime's state of an exited container goes after its waiters have their answer: a <c>delete</c> is one
    /// more process per exit, and nothing a waiter sees depends on it. Skipped when the container was removed or
    /// started again meanwhile (start and remove delete it themselves, under the same lock).
    /// </summary>
    private async Task DeleteRuntimeStateAsync(string id)
    {
        using (await LockAsync(id, CancellationToken.None))
        {
            var container = await _store.GetContainerAsync(id, CancellationToken.None);
            if (container is null || container.State.Status.IsActive())
            {
                return;
            }

            try
            {
                await _runtime.DeleteAsync(id, force: false, CancellationToken.None);
            }
            catch (EngineException e)
            {
                _log.LogWarning("delete of the runtime state of exited container {ContainerId}: {Error}", id, e.Message);
            }
        }
    }

    /// <summary>Sends the stop signal, waits up to the timeout, then SIGKILL (security.md E3). NotModified when not running.</summary>
    public async Task StopAsync(string reference, int? timeoutSeconds, string? signal, CancellationToken cancellationToken)
    {
        var container = await GetAsync(reference, cancellationToken);
        if (!container.State.Status.IsActive())
        {
            throw new EngineException(ErrorKind.NotModified, "container already stopped");
        }

        container = await StopRequestedAsync(container);
        await StopRunningAsync(container, timeoutSeconds, signal, cancellationToken);
        await PublishAsync(container, "stop");
    }

    private async Task StopRunningAsync(ContainerRecord container, int? timeoutSeconds, string? signal, CancellationToken cancellationToken)
    {
        var stopSignal = Signals.Parse(signal ?? (string.IsNullOrEmpty(container.Config.StopSignal) ? "SIGTERM" : container.Config.StopSignal));
        var timeout = timeoutSeconds ?? container.Config.StopTimeout ?? 10;
        var exit = ExitTask(container.Id);
        if (exit.IsCompleted)
        {
            return;
        }

        if (timeout != 0)
        {
            await SignalAsync(container, stopSignal, cancellationToken);
            if (container.State.Status == ContainerPhase.Paused)
            {
                // A frozen process cannot handle the signal; Docker thaws it after signalling.
                await TryResumeAsync(container.Id, cancellationToken);
            }

            if (timeout < 0)
            {
                await exit.WaitAsync(cancellationToken);
                return;
            }

            try
            {
                await exit.WaitAsync(TimeSpan.FromSeconds(timeout), _time, cancellationToken);
                return;
            }
            catch (TimeoutException)
            {
                _log.LogInformation("container {ContainerId} did not stop within {Timeout}s; sending SIGKILL", container.Id, timeout);
            }
        }

        await SignalAsync(container, Signals.SIGKILL, cancellationToken);
        if (container.State.Status == ContainerPhase.Paused)
        {
            await TryResumeAsync(container.Id, cancellationToken);
        }

        await exit.WaitAsync(TimeSpan.FromSeconds(30), _time, cancellationToken);
    }

    private async Task TryResumeAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            await _runtime.ResumeAsync(id, cancellationToken);
        }
        catch (EngineException e)
        {
            _log.LogDebug("resume of {ContainerId} while stopping: {Error}", id, e.Message);
        }
    }

    private Task<ContainerExit> ExitTask(string id) =>
        _exits.TryGetValue(id, out var tcs) ? tcs.Task : Task.FromResult(new ContainerExit(0, false, _time.GetUtcNow()));

    private async Task SignalAsync(ContainerRecord container, int signal, CancellationToken cancellationToken)
    {
        try
        {
            await _runtime.KillAsync(container.Id, signal, cancellationToken);
        }
        catch (EngineException) when (ExitTask(container.Id).IsCompleted)
        {
            return;
        }
        catch (EngineException e) when (e.Kind == ErrorKind.InvalidState)
        {
            // The runtime already sees it stopped while its exit is still on the way to us (the shim reports
            // it moments later): the signal has nothing left to do once that exit arrives.
            if (!await ExitArrivesAsync(container.Id, cancellationToken))
            {
                throw;
            }

            return;
        }

        await PublishAsync(container, "kill", new() { ["signal"] = signal.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    private async Task<bool> ExitArrivesAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            await ExitTask(id).WaitAsync(TimeSpan.FromSeconds(5), _time, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public async Task KillAsync(string reference, string? signal, CancellationToken cancellationToken)
    {
        var container = await GetAsync(reference, cancellationToken);
        var number = Signals.Parse(string.IsNullOrEmpty(signal) ? "SIGKILL" : signal);
        if (!container.State.Status.IsActive())
        {
            throw new EngineException(ErrorKind.InvalidState, $"cannot kill container: {reference}: container {container.Id} is not running");
        }

        container = await KillRequestedAsync(container, number);

        await SignalAsync(container, number, cancellationToken);
    }

    public async Task RestartAsync(string reference, int? timeoutSeconds, string? signal, CancellationToken cancellationToken)
    {
        var container = await GetAsync(reference, cancellationToken);
        if (container.State.Status.IsActive())
        {
            container = await StopRequestedAsync(container);
            await StopRunningAsync(container, timeoutSeconds, signal, cancellationToken);
            await PublishAsync(container, "stop");
        }

        await StartAsync(container.Id, cancellationToken);
        await PublishAsync(container, "restart");
    }

    public async Task PauseAsync(string reference, CancellationToken cancellationToken)
    {
        var container = await GetAsync(reference, cancellationToken);
        using (await LockAsync(container.Id, cancellationToken))
        {
            container = await _store.GetContainerAsync(container.Id, cancellationToken) ?? throw EngineException.NoSuchContainer(reference);
            if (container.State.Status == ContainerPhase.Paused)
            {
                throw new EngineException(ErrorKind.InvalidState, $"container {container.Id} is already paused");
            }

            if (container.State.Status != ContainerPhase.Running)
            {
                throw new EngineException(ErrorKind.InvalidState, $"container {container.Id} is not running");
            }

            await _runtime.PauseAsync(container.Id, cancellationToken);
            await _store.SaveStateAsync(container.Id, container.State with { Status = ContainerPhase.Paused }, CancellationToken.None);
        }

        await PublishAsync(container, "pause");
    }

    public async Task UnpauseAsync(string reference, CancellationToken cancellationToken)
    {
        var container = await GetAsync(reference, cancellationToken);
        using (await LockAsync(container.Id, cancellationToken))
        {
            container = await _store.GetContainerAsync(container.Id, cancellationToken) ?? throw EngineException.NoSuchContainer(reference);
            if (container.State.Status != ContainerPhase.Paused)
            {
                throw new EngineException(ErrorKind.InvalidState, $"container {container.Id} is not paused");
            }

            await _runtime.ResumeAsync(container.Id, cancellationToken);
            await _store.SaveStateAsync(container.Id, container.State with { Status = ContainerPhase.Running }, CancellationToken.None);
        }

        await PublishAsync(container, "unpause");
    }

    /// <summary>Docker's wait conditions: <c>not-running</c> (default), <c>next-exit</c>, <c>removed</c>.</summary>
    public async Task<ContainerWaitResponse> WaitAsync(string reference, string? condition, CancellationToken cancellationToken)
    {
        var container = await GetAsync(reference, cancellationToken);
        condition = string.IsNullOrEmpty(condition) ? "not-running" : condition;
        switch (condition)
        {
            case "not-running":
                if (!container.State.Status.IsActive())
                {
                    return Response(container.State.ExitCode, container.State.Error);
                }

                var exit = await ExitTask(container.Id).WaitAsync(cancellationToken);
                return Response(exit.ExitCode, exit.Error);
            case "next-exit":
                var next = container.State.Status.IsActive() ? ExitTask(container.Id) : NextExit(container.Id);
                var result = await next.WaitAsync(cancellationToken);
                return Response(result.ExitCode, result.Error);
            case "removed":
                var removed = _removed.GetOrAdd(container.Id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                var code = container.State.Status.IsActive() ? (await ExitTask(container.Id).WaitAsync(cancellationToken)).ExitCode : container.State.ExitCode;
                if (await _store.GetContainerAsync(container.Id, cancellationToken) is not null)
                {
                    await removed.Task.WaitAsync(cancellationToken);
                }

                return Response(code, "");
            default:
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid condition: \"{condition}\"");
        }

        static ContainerWaitResponse Response(int code, string error) =>
            new(code, string.IsNullOrEmpty(error) ? null : new ContainerWaitError(error));
    }

    private Task<ContainerExit> NextExit(string id) =>
        _exits.AddOrUpdate(
            id,
            _ => new TaskCompletionSource<ContainerExit>(TaskCreationOptions.RunContinuationsAsynchronously),
            (_, old) => old.Task.IsCompleted ? new TaskCompletionSource<ContainerExit>(TaskCreationOptions.RunContinuationsAsynchronously) : old).Task;

    public async Task RemoveAsync(string reference, bool force, bool removeVolumes, CancellationToken cancellationToken)
    {
        var container = await GetAsync(reference, cancellationToken);
        if (container.State.Status.IsActive())
        {
            if (!force)
            {
                var what = container.State.Status == ContainerPhase.Paused ? "paused" : "running";
                throw new EngineException(ErrorKind.InvalidState, $"cannot remove container \"/{container.Name}\": container is {what}: Stop the container before attempting removal or force remove");
            }

            container = await StopRequestedAsync(container);
            await StopRunningAsync(container, 0, null, cancellationToken);
        }

        using (await LockAsync(container.Id, cancellationToken))
        {
            container = await _store.GetContainerAsync(container.Id, cancellationToken) ?? throw EngineException.NoSuchContainer(reference);
            if (container.State.Status.IsActive())
            {
                throw new EngineException(ErrorKind.InvalidState, $"cannot remove container \"/{container.Name}\": it was started again meanwhile");
            }

            await _store.SaveStateAsync(container.Id, container.State with { Status = ContainerPhase.Removing }, CancellationToken.None);
            await _runtime.DeleteAsync(container.Id, force: true, CancellationToken.None);
            await _networking.TeardownAsync(container, CancellationToken.None);
            var mounts = VolumeService.ReadMounts(container.BundleDir);
            _images.RemoveContainerDirectory(container.BundleDir);

            await _store.RemoveContainerAsync(container.Id, CancellationToken.None);
            if (removeVolumes)
            {
                await _volumes.RemoveAnonymousAsync(mounts, CancellationToken.None);
            }
        }

        _locks.TryRemove(container.Id, out _);
        _exits.TryRemove(container.Id, out _);
        _restartLoops.TryRemove(container.Id, out _);
        if (_removed.TryRemove(container.Id, out var removed))
        {
            removed.TrySetResult();
        }

        await PublishAsync(container, "destroy");
    }

    public async Task RenameAsync(string reference, string newName, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(newName))
        {
            throw new EngineException(ErrorKind.InvalidArgument, "Neither old nor new names may be empty");
        }

        ValidateName(newName);
        newName = newName.TrimStart('/');
        var container = await GetAsync(reference, cancellationToken);
        if (container.Name == newName)
        {
            throw new EngineException(ErrorKind.InvalidArgument, "Renaming a container with the same name as its current name");
        }

        await _store.RenameContainerAsync(container.Id, newName, cancellationToken);
        await PublishAsync(container with { Name = newName }, "rename", new() { ["oldName"] = "/" + container.Name });
    }

    public async Task<ContainerTopResponse> TopAsync(string reference, CancellationToken cancellationToken)
    {
        var container = await GetAsync(reference, cancellationToken);
        if (!container.State.Status.IsActive())
        {
            throw new EngineException(ErrorKind.InvalidState, $"container {container.Id} is not running");
        }

        var pids = await _runtime.ProcessesAsync(container.Id, cancellationToken);
        return new ContainerTopResponse(ProcessTable.Titles, ProcessTable.Rows(pids));
    }

    public async Task<ContainerPruneResponse> PruneAsync(Func<ContainerRecord, bool> filter, CancellationToken cancellationToken)
    {
        var deleted = new List<string>();
        long reclaimed = 0;
        foreach (var container in await _store.ListContainersAsync(cancellationToken))
        {
            if (container.State.Status.IsActive() || !filter(container))
            {
                continue;
            }

            var size = DirectorySize(container.BundleDir);
            try
            {
                await RemoveAsync(container.Id, force: false, removeVolumes: false, cancellationToken);
                deleted.Add(container.Id);
                reclaimed += size;
            }
            catch (EngineException e) when (e.Kind is ErrorKind.InvalidState or ErrorKind.NotFound)
            {
            }
        }

        await _events.PublishAsync("container", "prune", "", new Dictionary<string, string> { ["reclaimed"] = reclaimed.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        return new ContainerPruneResponse(deleted, reclaimed);
    }

    private static long DirectorySize(string dir)
    {
        try
        {
            return Directory.Exists(dir)
                ? new DirectoryInfo(dir).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }).Sum(f => f.Length)
                : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Brings the store in line with reality after an engine (re)start: running containers get their
    /// monitor back, ones that exited meanwhile get the exit code from their exit file, ones the runtime
    /// no longer knows are marked exited (security.md E1).
    /// </summary>
    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        // Containers without a row first, while their network namespaces are still there: networking's start-up
        // removes namespaces no row owns, and without one the bridge plugin's DEL releases the address but not its
        // iptables rules.
        var all = await _store.ListContainersAsync(cancellationToken);
        await RemoveHalfCreatedAsync(all);
        await _networking.InitializeAsync(cancellationToken);
        foreach (var container in all)
        {
            if (container.State.Status == ContainerPhase.Removing)
            {
                await _runtime.DeleteAsync(container.Id, force: true, cancellationToken);
                await _networking.TeardownAsync(container, cancellationToken);
                _images.RemoveContainerDirectory(container.BundleDir);

                await _store.RemoveContainerAsync(container.Id, cancellationToken);
                continue;
            }

            if (!container.State.Status.IsActive())
            {
                await _networking.TeardownAsync(container, cancellationToken);
                await ReconcileStoppedAsync(container, cancellationToken);
                continue;
            }

            var exit = new TaskCompletionSource<ContainerExit>(TaskCreationOptions.RunContinuationsAsynchronously);
            _exits[container.Id] = exit;
            var state = await _runtime.StateAsync(container.Id, cancellationToken);
            if (container.State.ShimPid <= 0 && state is { Status: "running" or "paused" or "created" or "creating" })
            {
                // A restart by the policy cut short before its shim was recorded: undone, as an unrecorded start is.
                _log.LogWarning("container {ContainerId}: its restart was not recorded; stopping it", container.Id);
                await _runtime.DeleteAsync(container.Id, force: true, cancellationToken);
                state = null;
            }

            if (state is not null && state.Status is "running" or "paused" or "created" || File.Exists(ExitFile(container.BundleDir)))
            {
                if (state?.Status is "paused" && container.State.Status != ContainerPhase.Paused)
                {
                    await _store.SaveStateAsync(container.Id, container.State with { Status = ContainerPhase.Paused }, cancellationToken);
                }

                Monitor(container.Id, container.BundleDir, container.State.ShimPid, exit);
                continue;
            }

            _log.LogWarning("container {ContainerId} was running but its runtime state is gone", container.Id);
            var lost = new ContainerExit(255, false, _time.GetUtcNow(), "container state was lost while the engine was not running");
            await RecordExitAsync(container.Id, lost);
            exit.TrySetResult(lost);
            await DeleteRuntimeStateAsync(container.Id);
        }
    }

    private Task<EngineEvent> PublishAsync(ContainerRecord container, string action, Dictionary<string, string>? extra = null) =>
        _events.PublishAsync("container", action, container.Id, EventAttributes(container, extra));

    /// <summary>An event for a store write that persists it with the state it reports (then <see cref="EventBus.Deliver(EngineEvent)"/>).</summary>
    private EngineEvent ContainerEvent(ContainerRecord container, string action, Dictionary<string, string>? extra = null) =>
        _events.Create("container", action, container.Id, EventAttributes(container, extra));

    private static Dictionary<string, string> EventAttributes(ContainerRecord container, Dictionary<string, string>? extra)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["name"] = container.Name,
            ["image"] = container.Image,
        };
        foreach (var (k, v) in container.Config.Labels ?? [])
        {
            attributes.TryAdd(k, v);
        }

        foreach (var (k, v) in extra ?? [])
        {
            attributes[k] = v;
        }

        return attributes;
    }

    private async Task<IDisposable> LockAsync(string id, CancellationToken cancellationToken)
    {
        var semaphore = _locks.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await semaphore.WaitAsync(cancellationToken);
        return new Releaser(semaphore);
    }

    private sealed class Releaser(SemaphoreSlim semaphore) : IDisposable
    {
        public void Dispose() => semaphore.Release();
    }

    /// <summary>A task that completes when the container is no longer running (for log followers).</summary>
    public Task StoppedTask(string id) => ExitTask(id);

    public async ValueTask DisposeAsync()
    {
        await _shutdown.CancelAsync();
        try
        {
            await Task.WhenAll(_monitors.Values).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
        }

        _shutdown.Dispose();
    }
}
