using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Dashboard.Engine.Runtime;
using Dashboard.Oci.Runtime;

namespace Dashboard.Engine.Tests.Fakes;

/// <summary>
/// An in-process stand-in for <c>dashboard-runtime</c>: it reads the bundle's config.json and plays the
/// command. <c>echo WORDS</c> and <c>stderr WORDS</c> print a line and exit 0; <c>exit N</c> exits N;
/// <c>missing-binary</c> fails to start; <c>ignore-term</c> runs until SIGKILL; anything else runs until
/// any signal that kills (exit 128+signal). Logs and exit files are written as the shim writes them.
/// </summary>
public sealed class FakeOciRuntime : IOciRuntime
{
    private readonly ConcurrentDictionary<string, FakeContainer> _containers = new(StringComparer.Ordinal);

    public ConcurrentQueue<(string Id, int Signal)> Signals { get; } = new();

    public int StartCount;

    public sealed class FakeContainer
    {
        public required string Id { get; init; }
        public required ShimStartRequest Request { get; init; }
        public required List<string> Args { get; init; }
        public string Status { get; set; } = "running";
        public TaskCompletionSource<ContainerExit> Exit { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public required CriLogWriter Log { get; init; }
    }

    public FakeContainer? Find(string id) => _containers.TryGetValue(id, out var c) ? c : null;

    public Task<ShimStarted> StartAsync(ShimStartRequest request, CancellationToken cancellationToken)
    {
        var spec = RuntimeJson.ParseSpec(File.ReadAllText(Path.Combine(request.BundleDir, "config.json")));
        var args = spec.Process!.Args!;
        if (args[0] == "missing-binary")
        {
            throw new EngineException(ErrorKind.InvalidArgument, "start container: exec: \"missing-binary\": executable file not found in $PATH");
        }

        Interlocked.Increment(ref StartCount);
        var container = new FakeContainer
        {
            Id = request.Id,
            Request = request,
            Args = args,
            Log = new CriLogWriter(request.LogPath, request.LogMaxSize, request.LogMaxFiles),
        };
        _containers[request.Id] = container;
        switch (args[0])
        {
            case "echo":
                container.Log.Write("stdout", string.Join(' ', args.Skip(1)));
                Finish(container, 0, 0);
                break;
            case "stderr":
                container.Log.Write("stderr", string.Join(' ', args.Skip(1)));
                Finish(container, 0, 0);
                break;
            case "exit":
                Finish(container, int.Parse(args[1], CultureInfo.InvariantCulture), 0);
                break;
        }

        return Task.FromResult(new ShimStarted(Environment.ProcessId, Environment.ProcessId));
    }

    /// <summary>Appends a log line to a running container, as its process would.</summary>
    public void Print(string id, string stream, string text) => _containers[id].Log.Write(stream, text);

    /// <summary>Makes a running container exit on its own.</summary>
    public void ExitNow(string id, int code) => Finish(_containers[id], code, 0);

    /// <summary>
    /// Makes a running container stop as the runtime sees it (kill now fails: not running) while its exit
    /// has not reached the engine yet; the returned action reports it, as the shim does moments later.
    /// </summary>
    public Action StopUnreported(string id, int code)
    {
        var c = _containers[id];
        c.Status = "stopping-unreported";
        return () =>
        {
            c.Status = "running";
            Finish(c, code, 0);
        };
    }

    private static void Finish(FakeContainer container, int code, int signal)
    {
        if (container.Status == "stopped")
        {
            return;
        }

        container.Status = "stopped";
        var finished = DateTimeOffset.UtcNow;
        var json = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["exitCode"] = code,
            ["signal"] = signal,
            ["oomKilled"] = false,
            ["startedAt"] = finished.ToString("O", CultureInfo.InvariantCulture),
            ["finishedAt"] = finished.ToString("O", CultureInfo.InvariantCulture),
        });
        var tmp = container.Request.ExitFile + ".tmp";
        File.WriteAllText(tmp, json);
        File.Move(tmp, container.Request.ExitFile, overwrite: true);
        container.Exit.TrySetResult(RuntimeCliOciRuntime.ReadExitFile(container.Request.ExitFile)!);
    }

    public async Task<ContainerExit> WaitAsync(string id, string exitFile, int shimPid, CancellationToken cancellationToken)
    {
        if (_containers.TryGetValue(id, out var container))
        {
            return await container.Exit.Task.WaitAsync(cancellationToken);
        }

        while (!File.Exists(exitFile))
        {
            await Task.Delay(50, cancellationToken);
        }

        return RuntimeCliOciRuntime.ReadExitFile(exitFile)!;
    }

    public Task<State?> StateAsync(string id, CancellationToken cancellationToken) =>
        Task.FromResult(_containers.TryGetValue(id, out var c)
            ? new State { Id = id, Status = c.Status == "stopping-unreported" ? "stopped" : c.Status, Pid = c.Status == "running" ? Environment.ProcessId : null, Bundle = c.Request.BundleDir }
            : null);

    public Task KillAsync(string id, int signal, CancellationToken cancellationToken)
    {
        var c = Running(id);
        Signals.Enqueue((id, signal));
        if (signal == Runtime.Signals.SIGKILL || (c.Args[0] != "ignore-term" && signal is 1 or 2 or 3 or 15))
        {
            Finish(c, 128 + signal, 0);
        }

        return Task.CompletedTask;
    }

    public Task DeleteAsync(string id, bool force, CancellationToken cancellationToken)
    {
        if (_containers.TryGetValue(id, out var c))
        {
            if (c.Status != "stopped" && !force)
            {
                throw new EngineException(ErrorKind.InvalidState, $"cannot delete container {id} that is not stopped");
            }

            if (c.Status != "stopped")
            {
                Finish(c, 137, 0);
            }

            _containers.TryRemove(id, out _);
        }

        return Task.CompletedTask;
    }

    public Task PauseAsync(string id, CancellationToken cancellationToken)
    {
        Running(id).Status = "paused";
        return Task.CompletedTask;
    }

    public Task ResumeAsync(string id, CancellationToken cancellationToken)
    {
        var c = Running(id);
        if (c.Status != "paused")
        {
            throw new EngineException(ErrorKind.InvalidState, $"container {id} is not paused");
        }

        c.Status = "running";
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<int>> ProcessesAsync(string id, CancellationToken cancellationToken)
    {
        Running(id);
        return Task.FromResult<IReadOnlyList<int>>([Environment.ProcessId]);
    }

    private FakeContainer Running(string id) =>
        _containers.TryGetValue(id, out var c) && c.Status is not ("stopped" or "stopping-unreported")
            ? c
            : throw new EngineException(ErrorKind.InvalidState, $"container {id} is not running");
}
