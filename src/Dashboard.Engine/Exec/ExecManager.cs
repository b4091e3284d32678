using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Dashboard.Engine.Api;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Hosting;
using Dashboard.Engine.Store;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;

namespace Dashboard.Engine.Exec;

/// <summary>
/// Exec sessions (Docker's <c>/exec</c> API): created in SQLite, started as a
/// <c>dashboard-runtime exec --process FILE</c> child that joins the container and waits for the
/// process, so its exit status is the child's. A tty exec gets its pty master from the runtime
/// through a console socket (SCM_RIGHTS), as runc's <c>--console-socket</c> contract says.
/// </summary>
public sealed class ExecManager : IAsyncDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);

    private readonly EngineOptions _options;
    private readonly ContainerManager _containers;
    private readonly TimeProvider _time;
    private readonly ILogger<ExecManager> _log;
    private readonly ConcurrentDictionary<string, ExecSession> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _started = new(StringComparer.Ordinal);

    public ExecManager(EngineOptions options, ContainerManager containers, TimeProvider time, ILogger<ExecManager> log)
    {
        _options = options;
        _containers = containers;
        _time = time;
        _log = log;
    }

    private IContainerStore Store => _containers.Store;

    private string ExecDir => Path.Combine(_options.StateRoot, "exec");

    public async Task<ExecCreateResponse> CreateAsync(string containerReference, ExecCreateBody body, CancellationToken cancellationToken)
    {
        var container = await _containers.GetAsync(containerReference, cancellationToken);
        CheckRunning(container);
        if (body.Cmd is not { Count: > 0 } || body.Cmd[0].Length == 0)
        {
            throw new EngineException(ErrorKind.InvalidArgument, "No exec command specified");
        }

        if (body.Privileged)
        {
            // A privileged exec would widen capabilities beyond the container's spec (security.md D3).
            throw new EngineException(ErrorKind.InvalidArgument, "privileged exec is not supported by this engine");
        }

        if (body.ConsoleSize is { Count: not 2 } || body.ConsoleSize?.Any(v => v is < 0 or > ushort.MaxValue) == true)
        {
            throw new EngineException(ErrorKind.InvalidArgument, "invalid ConsoleSize: expected [height, width]");
        }

        foreach (var e in body.Env ?? [])
        {
            if (e.Length == 0 || e.Contains('\0', StringComparison.Ordinal))
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid environment variable: {e}");
            }
        }

        var id = ContainerManager.NewId();
        await Store.AddExecAsync(new ExecRecord(id, container.Id, JsonSerializer.Serialize(body, DockerJson.Info<ExecCreateBody>(DockerJson.Storage)), false, null, 0, _time.GetUtcNow()), cancellationToken);
        return new ExecCreateResponse(id);
    }

    private static void CheckRunning(ContainerRecord container)
    {
        if (container.State.Status == ContainerPhase.Paused)
        {
            throw new EngineException(ErrorKind.InvalidState, $"Container {container.Id} is paused, unpause the container before exec");
        }

        if (container.State.Status != ContainerPhase.Running)
        {
            throw new EngineException(ErrorKind.InvalidState, $"Container {container.Id} is not running");
        }
    }

    private async Task<(ExecRecord Record, ExecCreateBody Body)> LoadAsync(string id, CancellationToken cancellationToken)
    {
        var record = await Store.GetExecAsync(id, cancellationToken) ?? throw new EngineException(ErrorKind.NotFound, $"No such exec instance: {id}");
        var body = JsonSerializer.Deserialize(record.ProcessJson, DockerJson.Info<ExecCreateBody>(DockerJson.Options)) ?? new ExecCreateBody();
        return (record, body);
    }

    public async Task<ExecInspectView> InspectAsync(string id, CancellationToken cancellationToken)
    {
        var (record, body) = await LoadAsync(id, cancellationToken);
        var live = _running.TryGetValue(id, out var session) ? session : null;
        var cmd = body.Cmd ?? [];
        return new ExecInspectView
        {
            ID = record.Id,
            ContainerID = record.ContainerId,
            Running = live is not null ? !live.Exited.IsCompleted : record.Running,
            ExitCode = live is { Exited.IsCompleted: true } ? live.Exited.Result : record.ExitCode,
            Pid = live?.Pid ?? record.Pid,
            OpenStdin = body.AttachStdin,
            OpenStdout = body.AttachStdout,
            OpenStderr = body.AttachStderr,
            DetachKeys = body.DetachKeys ?? "",
            ProcessConfig = new ExecProcessConfigView
            {
                Tty = body.Tty,
                User = body.User ?? "",
                Privileged = body.Privileged,
                Entrypoint = cmd.Count > 0 ? cmd[0] : "",
                Arguments = cmd.Skip(1).ToList(),
            },
        };
    }

    public void Resize(string id, ushort height, ushort width)
    {
        if (!_running.TryGetValue(id, out var session))
        {
            throw new EngineException(ErrorKind.NotFound, $"No such exec instance: {id}");
        }

        session.Resize(height, width);
    }

    /// <summary>Starts the exec process; returns once it runs inside the container (its pid is known).</summary>
    public async Task<ExecSession> StartAsync(string id, ExecStartBody start, CancellationToken cancellationToken)
    {
        var (record, body) = await LoadAsync(id, cancellationToken);
        if (record.Running || record.ExitCode is not null || !_started.TryAdd(id, 0))
        {
            throw new EngineException(ErrorKind.InvalidState, $"exec session {id} has already been started");
        }

        try
        {
            var container = await _containers.GetAsync(record.ContainerId, cancellationToken);
            CheckRunning(container);
            var process = BuildProcess(container, body, start);
            Directory.CreateDirectory(ExecDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var processFile = Path.Combine(ExecDir, id[..32] + ".json");
            var pidFile = Path.Combine(ExecDir, id[..32] + ".pid");
            var logFile = Path.Combine(ExecDir, id[..32] + ".log");
            await File.WriteAllTextAsync(processFile, RuntimeJson.Serialize(process), cancellationToken);
            try
            {
                return await LaunchAsync(record, body, process.Terminal, processFile, pidFile, logFile, cancellationToken);
            }
            finally
            {
                File.Delete(processFile);
            }
        }
        catch
        {
            _started.TryRemove(id, out _);
            throw;
        }
    }

    /// <summary>The container's own process (env, cwd, user, capabilities, rlimits) with the exec's command and overrides, as runc exec does.</summary>
    private static Oci.Runtime.Process BuildProcess(ContainerRecord container, ExecCreateBody body, ExecStartBody start)
    {
        var spec = RuntimeJson.ParseSpec(File.ReadAllBytes(Path.Combine(container.BundleDir, "config.json")));
        var process = RuntimeJson.ParseProcess(RuntimeJson.Serialize(spec.Process ?? new Oci.Runtime.Process()));
        process.Args = [.. body.Cmd!];
        process.Terminal = body.Tty || start.Tty;
        // The size goes into the spec so the runtime sets it before the process runs (a resize after start would race its first ioctl).
        process.ConsoleSize = process.Terminal && (start.ConsoleSize ?? body.ConsoleSize) is [var h and > 0 and <= ushort.MaxValue, var w and > 0 and <= ushort.MaxValue]
            ? new ConsoleSize { Height = (uint)h, Width = (uint)w }
            : null;
        if (body.Env is { Count: > 0 })
        {
            var env = new List<string>(process.Env ?? []);
            foreach (var e in body.Env)
            {
                var key = e.Split('=', 2)[0];
                env.RemoveAll(x => x.Split('=', 2)[0] == key);
                env.Add(e);
            }

            process.Env = env;
        }

        if (process.Terminal && !(process.Env ?? []).Any(e => e.StartsWith("TERM=", StringComparison.Ordinal)))
        {
            process.Env = [.. process.Env ?? [], "TERM=xterm"];
        }

        if (!string.IsNullOrEmpty(body.WorkingDir))
        {
            if (!body.WorkingDir.StartsWith('/'))
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"the working directory '{body.WorkingDir}' is invalid, it needs to be an absolute path");
            }

            process.Cwd = body.WorkingDir;
        }

        if (!string.IsNullOrEmpty(body.User))
        {
            var root = spec.Root?.Path ?? "rootfs";
            var rootfs = Path.IsPathRooted(root) ? root : Path.Combine(container.BundleDir, root);
            var (uid, gid, additional) = UserResolver.Resolve(body.User, rootfs);
            process.User = new User { Uid = uid, Gid = gid, AdditionalGids = additional.Count > 0 ? additional : null };
        }

        return process;
    }

    private async Task<ExecSession> LaunchAsync(ExecRecord record, ExecCreateBody body, bool tty, string processFile, string pidFile, string logFile, CancellationToken cancellationToken)
    {
        File.Delete(pidFile);
        File.Delete(logFile);
        var psi = new ProcessStartInfo(_options.ResolveRuntimePath())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Socket? console = null;
        string? consolePath = null;
        if (tty)
        {
            consolePath = Path.Combine(ExecDir, record.Id[..32] + ".sock");
            File.Delete(consolePath);
            console = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            console.Bind(new UnixDomainSocketEndPoint(consolePath));
            console.Listen(1);
        }

        // Ids are engine-generated hex and paths are engine-owned: no caller text reaches the argument list (security.md D10).
        string[] args =
        [
            "--root", _options.StateRoot, "--log", logFile, "--log-format", "json",
            "exec", "--process", processFile, "--pid-file", pidFile,
            .. tty ? new[] { "--tty", "--console-socket", consolePath! } : [],
            record.ContainerId,
        ];
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_EnableDiagnostics"] = "0";
        System.Diagnostics.Process child;
        try
        {
            child = System.Diagnostics.Process.Start(psi) ?? throw new EngineException(ErrorKind.Internal, "start exec: no process");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            console?.Dispose();
            throw new EngineException(ErrorKind.Internal, $"start {psi.FileName}: {e.Message}", e);
        }

        var ptyFd = -1;
        try
        {
            if (tty)
            {
                child.StandardInput.Close();
                _ = child.StandardOutput.BaseStream.CopyToAsync(Stream.Null, CancellationToken.None);
                _ = child.StandardError.BaseStream.CopyToAsync(Stream.Null, CancellationToken.None);
                ptyFd = await ReceivePtyAsync(console!, child, cancellationToken);
            }
            else if (!body.AttachStdin)
            {
                child.StandardInput.Close();
            }

            var pid = await WaitForPidAsync(child, pidFile, cancellationToken);
            if (pid <= 0)
            {
                await child.WaitForExitAsync(cancellationToken);
                throw StartFailure(record, logFile);
            }

            var session = new ExecSession(record.Id, record.ContainerId, tty, body.AttachStdin, child, ptyFd) { Pid = pid };
            ptyFd = -1;
            _running[record.Id] = session;
            await Store.UpdateExecAsync(record.Id, true, null, pid, CancellationToken.None);
            _ = MonitorAsync(session, pidFile, logFile);
            return session;
        }
        catch
        {
            if (ptyFd >= 0)
            {
                Sys.Close(ptyFd);
            }

            if (!child.HasExited)
            {
                child.Kill();
            }

            child.Dispose();
            File.Delete(pidFile);
            File.Delete(logFile);
            throw;
        }
        finally
        {
            console?.Dispose();
            if (consolePath is not null)
            {
                File.Delete(consolePath);
            }
        }
    }

    private static async Task<int> ReceivePtyAsync(Socket listener, System.Diagnostics.Process child, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_startTimeout);
        var accept = listener.AcceptAsync(timeout.Token).AsTask();
        var exited = child.WaitForExitAsync(timeout.Token);
        if (await Task.WhenAny(accept, exited) != accept)
        {
            await timeout.CancelAsync();
            return -1;
        }

        using var connection = await accept;
        var fd = (int)connection.Handle;

        // The runtime sends the master right after connecting; the accepted socket may be non-blocking.
        for (var i = 0; i < 100; i++)
        {
            if ((Sys.PollOne(fd, Sys.POLLIN, 100) & Sys.POLLIN) != 0)
            {
                return UnixSocket.ReceiveFd(fd).Fd;
            }
        }

        return -1;
    }

    private static async Task<int> WaitForPidAsync(System.Diagnostics.Process child, string pidFile, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + s_startTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (ReadPid(pidFile) is > 0 and var pid)
            {
                return pid;
            }

            if (child.HasExited)
            {
                return ReadPid(pidFile);
            }

            await Task.Delay(5, cancellationToken);
        }

        return 0;
    }

    private static int ReadPid(string pidFile)
    {
        try
        {
            return int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0;
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }

    /// <summary>Docker's codes for an exec that never ran: 127 command not found, 126 not executable.</summary>
    private static EngineException StartFailure(ExecRecord record, string logFile)
    {
        var message = LastLogMessage(logFile) ?? "the runtime exited without starting the process";
        var notFound = message.Contains("no such file", StringComparison.OrdinalIgnoreCase) || message.Contains("not found", StringComparison.OrdinalIgnoreCase);
        var kind = notFound || message.Contains("permission denied", StringComparison.OrdinalIgnoreCase) ? ErrorKind.InvalidArgument : ErrorKind.Internal;
        return new EngineException(kind, $"OCI runtime exec failed: exec in container {record.ContainerId}: {message}");
    }

    /// <summary>The last <c>msg</c> of the runtime's JSON log file (<c>--log-format json</c>), if any.</summary>
    internal static string? LastLogMessage(string logFile)
    {
        if (!File.Exists(logFile))
        {
            return null;
        }

        foreach (var line in File.ReadAllLines(logFile).Reverse())
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.TryGetProperty("msg", out var msg) && msg.ValueKind == JsonValueKind.String)
                {
                    return msg.GetString();
                }
            }
            catch (JsonException)
            {
            }
        }

        return null;
    }

    private async Task MonitorAsync(ExecSession session, string pidFile, string logFile)
    {
        var code = -1;
        try
        {
            await session.Process.WaitForExitAsync();
            code = session.Process.ExitCode;
            await Store.UpdateExecAsync(session.Id, false, code, session.Pid, CancellationToken.None);
        }
        catch (Exception e) when (e is EngineException or IOException or InvalidOperationException)
        {
            _log.LogWarning("exec {ExecId} in container {ContainerId}: recording the exit failed: {Error}", session.Id, session.ContainerId, e.Message);
        }
        finally
        {
            File.Delete(pidFile);
            File.Delete(logFile);
            session.SetExited(code);
            _running.TryRemove(session.Id, out _);
        }
    }

    /// <summary>Sessions recorded as running by an engine that is gone have lost their supervisor: they are reported ended (security.md E1 c).</summary>
    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        foreach (var container in await Store.ListContainersAsync(cancellationToken))
        {
            foreach (var exec in await Store.ListExecsAsync(container.Id, cancellationToken))
            {
                if (exec.Running)
                {
                    await Store.UpdateExecAsync(exec.Id, false, exec.ExitCode ?? 255, exec.Pid, cancellationToken);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var session in _running.Values)
        {
            try
            {
                await session.Exited.WaitAsync(TimeSpan.FromMilliseconds(100));
            }
            catch (TimeoutException)
            {
            }
        }
    }
}
