using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dashboard.Linux.Native;
using Dashboard.Engine.Api;
using Dashboard.Oci.Runtime;

namespace Dashboard.Engine.Runtime;

/// <summary>
/// <see cref="IOciRuntime"/> over the <c>dashboard-runtime</c> binary: <c>shim</c> to create+start and
/// supervise a container, runc-compatible verbs for the rest. Every call passes arguments as a list
/// and puts <c>--</c>-free positional ids last after validated flags (ids are 64 hex characters,
/// never user text: security.md D10).
/// </summary>
/// <remarks>
/// One <c>shim --standby</c> process is spawned ahead of need when a container is created (<see cref="PrepareStart"/>):
/// a start hands it its flags on stdin instead of spawning the runtime from this large process and waiting for it to
/// initialise. Spawned then, it overlaps the create's disk writes; spawned after a start, it was measured to compete
/// with the container's exit for the CPU. Only with the lean <c>dashboard-shim</c> beside the
/// runtime, which the shim execs with the container id in its arguments: <see cref="ShimAlive"/> relies on that
/// after an engine restart. A standby left over gets EOF on stdin (engine stopped, or killed) and exits.
/// </remarks>
public sealed class RuntimeCliOciRuntime : IOciRuntime, IDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(100);

    private readonly string _binary;
    private readonly string _stateRoot;
    private readonly ILogger<RuntimeCliOciRuntime> _log;
    private readonly ConcurrentDictionary<string, System.Diagnostics.Process> _shims = new(StringComparer.Ordinal);
    private readonly bool _standbyEnabled;
    private System.Diagnostics.Process? _standby;
    private int _spawningStandby;
    private readonly PidfdWatcher _exits = new();
    private volatile bool _disposed;

    public RuntimeCliOciRuntime(string binary, string stateRoot, ILogger<RuntimeCliOciRuntime> log)
    {
        _binary = binary;
        _stateRoot = stateRoot;
        _log = log;
        _standbyEnabled = Environment.GetEnvironmentVariable("DASHBOARD_SHIM_LEAN") != "0"
            && File.Exists(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(binary))!, "dashboard-shim"));
    }

    private int _standbyStarts;

    /// <summary>Starts served by a standby shim (tests).</summary>
    internal int StandbyStarts => Volatile.Read(ref _standbyStarts);

    /// <summary>The pid of the standby shim waiting for a start, if any (tests).</summary>
    internal int? StandbyPid => Volatile.Read(ref _standby)?.Id;

    public void Dispose()
    {
        _disposed = true;
        DisposeStandby(Interlocked.Exchange(ref _standby, null));
        _exits.Dispose();
    }

    public async Task<ShimStarted> StartAsync(ShimStartRequest request, CancellationToken cancellationToken)
    {
        CheckId(request.Id);
        var args = new List<string>
        {
            "--bundle", request.BundleDir, "--log-path", request.LogPath, "--exit-file", request.ExitFile,
            "--control-socket", request.ControlSocket,
            "--log-max-size", request.LogMaxSize.ToString(CultureInfo.InvariantCulture),
            "--log-max-files", request.LogMaxFiles.ToString(CultureInfo.InvariantCulture),
        };
        if (request.Stdin)
        {
            args.Add("--stdin");
        }

        args.Add(request.Id);
        var shim = TakeStandby(args);
        if (shim is null)
        {
            shim = SpawnShim(["shim", .. args], request.Id);
            shim.StandardInput.Close();
        }

        var stderr = new System.Text.StringBuilder();
        shim.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (stderr)
                {
                    if (stderr.Length < 64 * 1024)
                    {
                        stderr.AppendLine(line);
                    }
                }

                _log.LogDebug("shim {ContainerId}: {Line}", request.Id, line);
            }
        };
        shim.BeginErrorReadLine();

        string? first;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(s_startTimeout);
            try
            {
                first = await shim.StandardOutput.ReadLineAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                shim.Kill(entireProcessTree: false);
                throw new EngineException(ErrorKind.Internal, $"start container {request.Id}: the shim did not report within {s_startTimeout.TotalSeconds} s");
            }
        }

        // Keep draining stdout so a late write by the shim never blocks or hits EPIPE while the engine lives.
        // A small buffer: the default 80 KiB one, held by every resident shim's drain, was ~16 MB of the engine's RSS at 200 containers.
        _ = shim.StandardOutput.BaseStream.CopyToAsync(Stream.Null, 256, CancellationToken.None);
        if (first is not null)
        {
            using var doc = ParseJson(first);
            if (doc?.RootElement.ValueKind == JsonValueKind.Object)
            {
                if (doc.RootElement.TryGetProperty("pid", out var pid) && pid.TryGetInt32(out var p) && p > 0)
                {
                    _shims[request.Id] = shim;
                    return new ShimStarted(p, shim.Id);
                }

                if (doc.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
                {
                    await WaitBrieflyAsync(shim);
                    throw StartError(error.GetString()!, request.Id);
                }
            }
        }

        await WaitBrieflyAsync(shim);
        string text;
        lock (stderr)
        {
            text = stderr.ToString().Trim();
        }

        throw StartError(ErrorText(text.Length > 0 ? text : first ?? "the shim exited without reporting a pid"), request.Id);
    }

    /// <summary>Spawns the runtime with <paramref name="args"/> (after the global flags), stdout and stderr piped to us, stdin open.</summary>
    private System.Diagnostics.Process SpawnShim(IEnumerable<string> args, string? id)
    {
        var psi = NewStartInfo();
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        try
        {
            return System.Diagnostics.Process.Start(psi) ?? throw new EngineException(ErrorKind.Internal, $"start shim for container {id}: no process");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new EngineException(ErrorKind.Internal, $"start shim {_binary}: {e.Message}", e);
        }
    }

    /// <summary>
    /// The standby shim with <paramref name="args"/> written to its stdin (and stdin closed), or null when there is
    /// none alive (the caller spawns one the usual way; its stdin is closed here too).
    /// </summary>
    private System.Diagnostics.Process? TakeStandby(List<string> args)
    {
        var standby = Interlocked.Exchange(ref _standby, null);
        if (standby is not null)
        {
            try
            {
                if (!standby.HasExited)
                {
                    var request = System.Text.Encoding.UTF8.GetBytes(string.Join('\0', args));
                    standby.StandardInput.BaseStream.Write(request);
                    standby.StandardInput.Close();
                    Interlocked.Increment(ref _standbyStarts);
                    return standby;
                }
            }
            catch (IOException e)
            {
                _log.LogDebug(e, "standby shim {Pid} is gone", standby.Id);
            }

            DisposeStandby(standby);
        }

        return null;
    }

    /// <summary>Spawns the standby in the background unless there is one, or one is being spawned (a burst of creates spawns one).</summary>
    public void PrepareStart()
    {
        if (!_standbyEnabled || _disposed || Volatile.Read(ref _standby) is not null || Interlocked.CompareExchange(ref _spawningStandby, 1, 0) != 0)
        {
            return;
        }

        _ = Task.Run(() =>
        {
            try
            {
                // Its stdout stays unread until it is taken: nothing is written there before its request.
                var standby = SpawnShim(["shim", "--standby"], null);
                if (_disposed || Interlocked.CompareExchange(ref _standby, standby, null) is not null)
                {
                    DisposeStandby(standby);
                }
                else if (_disposed)
                {
                    // Dispose ran between the check and the exchange.
                    DisposeStandby(Interlocked.Exchange(ref _standby, null));
                }
            }
            catch (EngineException e)
            {
                _log.LogWarning("standby shim: {Message}", e.Message);
            }
            finally
            {
                Volatile.Write(ref _spawningStandby, 0);
            }
        });
    }

    /// <summary>Closing its stdin with nothing written makes a standby exit; it is waited for (killed if it lingers) and reaped.</summary>
    private static void DisposeStandby(System.Diagnostics.Process? standby)
    {
        if (standby is null)
        {
            return;
        }

        using (standby)
        {
            try
            {
                standby.StandardInput.Close();
                if (!standby.WaitForExit(TimeSpan.FromSeconds(2)))
                {
                    standby.Kill();
                    standby.WaitForExit(TimeSpan.FromSeconds(2));
                }
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
        }
    }

    private static async Task WaitBrieflyAsync(System.Diagnostics.Process process)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }
    }

    public async Task<ContainerExit> WaitAsync(string id, string exitFile, int shimPid, CancellationToken cancellationToken)
    {
        if (_shims.TryRemove(id, out var shim))
        {
            using (shim)
            {
                await shim.WaitForExitAsync(cancellationToken);
            }
        }
        else if (shimPid > 0 && Sys.TryPidfdOpen(shimPid) is var pidfd and >= 0)
        {
            // A shim of an earlier engine process (no SIGCHLD reaches us): its pidfd turns readable when it exits. The
            // pid is checked after the pidfd is open, so a pid reused before the open is never mistaken for the shim.
            if (ShimAlive(shimPid, id))
            {
                await _exits.WaitAsync(pidfd).WaitAsync(cancellationToken);
            }
            else
            {
                Sys.Close(pidfd);
            }
        }
        else
        {
            // No pidfd_open (kernel before 5.3), or no such process.
            while (!File.Exists(exitFile) && ShimAlive(shimPid, id))
            {
                await Task.Delay(s_pollInterval, cancellationToken);
            }
        }

        return ReadExitFile(exitFile) ?? new ContainerExit(255, false, DateTimeOffset.UtcNow, "the container's shim exited without writing an exit status");
    }

    /// <summary>Reads the shim's exit file; a signal death is reported as 128+signal, as shells and Docker do.</summary>
    public static ContainerExit? ReadExitFile(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        using var doc = ParseJson(File.ReadAllText(path));
        if (doc?.RootElement.ValueKind != JsonValueKind.Object)
        {
            return new ContainerExit(255, false, File.GetLastWriteTimeUtc(path), "unreadable exit file");
        }

        var root = doc.RootElement;
        var code = root.TryGetProperty("exitCode", out var c) && c.TryGetInt32(out var ci) ? ci : 255;
        var signal = root.TryGetProperty("signal", out var s) && s.TryGetInt32(out var si) ? si : 0;
        var oom = root.TryGetProperty("oomKilled", out var o) && o.ValueKind == JsonValueKind.True;
        var finished = root.TryGetProperty("finishedAt", out var f) && f.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(f.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var ft)
            ? ft
            : new DateTimeOffset(File.GetLastWriteTimeUtc(path));
        if (signal > 0 && code == 0)
        {
            code = 128 + signal;
        }

        return new ContainerExit(code, oom, finished);
    }

    /// <summary>True while a process with that pid exists and is a shim of this container (guards against pid reuse).</summary>
    private static bool ShimAlive(int pid, string id)
    {
        if (pid <= 0)
        {
            return false;
        }

        try
        {
            var cmdline = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline");
            return cmdline.Contains("\0shim\0", StringComparison.Ordinal) && cmdline.Contains(id, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    public async Task<State?> StateAsync(string id, CancellationToken cancellationToken)
    {
        CheckId(id);
        var (code, stdout, stderr) = await RunAsync(["state", id], cancellationToken);
        if (code != 0)
        {
            var error = Classify(ErrorText(stderr), $"state {id}");
            return error.Kind == ErrorKind.NotFound ? null : throw error;
        }

        try
        {
            return RuntimeJson.ParseState(stdout);
        }
        catch (JsonException e)
        {
            throw new EngineException(ErrorKind.Internal, $"state {id}: {e.Message}", e);
        }
    }

    public Task KillAsync(string id, int signal, CancellationToken cancellationToken) =>
        CheckedAsync(["kill", Id(id), signal.ToString(CultureInfo.InvariantCulture)], $"kill container {id}", cancellationToken);

    public async Task DeleteAsync(string id, bool force, CancellationToken cancellationToken)
    {
        // The runtime reserves each id with an entry <root>/<id> (made first on create, removed last on delete; a
        // directory in earlier versions, a file now): without it there is nothing to delete, and a first start need
        // not pay for a runtime process.
        if (!Path.Exists(Path.Combine(_stateRoot, Id(id))))
        {
            return;
        }

        var (code, _, stderr) = await RunAsync(force ? ["delete", "--force", Id(id)] : ["delete", Id(id)], cancellationToken);
        if (code != 0)
        {
            var error = Classify(ErrorText(stderr), $"delete container {id}");
            if (error.Kind != ErrorKind.NotFound)
            {
                throw error;
            }
        }
    }

    public Task PauseAsync(string id, CancellationToken cancellationToken) =>
        CheckedAsync(["pause", Id(id)], $"pause container {id}", cancellationToken);

    public Task ResumeAsync(string id, CancellationToken cancellationToken) =>
        CheckedAsync(["resume", Id(id)], $"resume container {id}", cancellationToken);

    public async Task<IReadOnlyList<int>> ProcessesAsync(string id, CancellationToken cancellationToken)
    {
        var (code, stdout, stderr) = await RunAsync(["ps", "--format", "json", Id(id)], cancellationToken);
        if (code != 0)
        {
            throw Classify(ErrorText(stderr), $"ps container {id}");
        }

        try
        {
            return JsonSerializer.Deserialize(stdout.Trim().Length == 0 ? "[]" : stdout, DockerJson.Info<List<int>>(DockerJson.Plain)) ?? [];
        }
        catch (JsonException e)
        {
            throw new EngineException(ErrorKind.Internal, $"ps container {id}: {e.Message}", e);
        }
    }

    private async Task CheckedAsync(string[] args, string what, CancellationToken cancellationToken)
    {
        var (code, _, stderr) = await RunAsync(args, cancellationToken);
        if (code != 0)
        {
            throw Classify(ErrorText(stderr), what);
        }
    }

    private ProcessStartInfo NewStartInfo()
    {
        var psi = new ProcessStartInfo(_binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--root");
        psi.ArgumentList.Add(_stateRoot);

        // The runtime and shim are NativeAOT and have no diagnostic port, but keep the engine's setting for any helper they run.
        psi.Environment["DOTNET_EnableDiagnostics"] = "0";
        return psi;
    }

    private async Task<(int Code, string Stdout, string Stderr)> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var psi = NewStartInfo();
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = System.Diagnostics.Process.Start(psi) ?? throw new EngineException(ErrorKind.Internal, $"run {_binary}: no process");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static string Id(string id)
    {
        CheckId(id);
        return id;
    }

    private static void CheckId(string id)
    {
        if (id.Length != 64 || !id.All(char.IsAsciiHexDigitLower))
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid container id: {id}");
        }
    }

    private static JsonDocument? ParseJson(string text)
    {
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The message of runc-style log output (<c>{"level":"error","msg":"…"}</c> lines) or the plain text.</summary>
    private static string ErrorText(string stderr)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        for (var i = lines.Length - 1; i >= 0; i--)
        {
            using var doc = ParseJson(lines[i]);
            if (doc?.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("msg", out var msg) && msg.ValueKind == JsonValueKind.String)
            {
                return msg.GetString()!;
            }
        }

        return lines.Length > 0 ? lines[^1] : "unknown runtime error";
    }

    /// <summary>A start failure: a missing executable is the caller's mistake (400, as Docker answers), anything else the engine's.</summary>
    private static EngineException StartError(string message, string id) =>
        new(message.Contains("no such file", StringComparison.OrdinalIgnoreCase) || message.Contains("not found", StringComparison.OrdinalIgnoreCase)
                || message.Contains("permission denied", StringComparison.OrdinalIgnoreCase)
                ? ErrorKind.InvalidArgument
                : ErrorKind.Internal,
            $"start container {id}: {message}");

    private static EngineException Classify(string message, string what)
    {
        var kind = message.Contains("does not exist", StringComparison.OrdinalIgnoreCase) || message.Contains("not found", StringComparison.OrdinalIgnoreCase)
            ? ErrorKind.NotFound
            : message.Contains("not running", StringComparison.OrdinalIgnoreCase) || message.Contains("not paused", StringComparison.OrdinalIgnoreCase)
                || message.Contains("cannot", StringComparison.OrdinalIgnoreCase) || message.Contains("already", StringComparison.OrdinalIgnoreCase)
                ? ErrorKind.InvalidState
                : ErrorKind.Internal;
        return new EngineException(kind, $"{what}: {message}");
    }
}
