using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Dashboard.Linux;
using Dashboard.Linux.Native;

namespace Dashboard.Runtime.Shim;

/// <summary>
/// The per-container supervisor (DESIGN.md §2): it owns the container's stdio (pipes, or the pty
/// master), writes the log, waits on the init's pidfd, records the exit in an exit file and serves
/// a control socket for attach and resize. It lives in its own session, so the engine may stop,
/// crash or upgrade while containers keep running and logging.
/// </summary>
/// <remarks>
/// Control socket protocol: the client sends one JSON line (<see cref="ControlRequest"/>). For
/// "attach" the shim then sends frames <c>[stream:1][length:4 BE][data]</c> (stream 1 stdout,
/// 2 stderr, 3 exit JSON, 4 position JSON) and reads frames of the same shape (0 stdin data, 1 close
/// stdin, 2 resize JSON). An attach with <see cref="ControlRequest.Replay"/> first gets one position frame and
/// the output it would otherwise miss, so every byte reaches it exactly once: for "start" (an attach made
/// before the start, <c>docker run</c>) <c>{"log":false}</c> and every frame since the start while those fit
/// <see cref="StartBacklog"/>, otherwise, and for "log", <c>{"log":true,"inode":I,"offset":O}</c> (the
/// client replays the log up to there: <see cref="CriLogWriter.Position"/>) and the unterminated rest of
/// each stream that no log record holds yet. Dashboard.Shim's Supervisor speaks the same protocol.
/// </remarks>
public sealed class ContainerShim
{
    private readonly StateStore _store;
    private readonly ShimOptions _options;
    /// <summary>Output kept for attaches made before the start; a container that writes more before its first attach falls back to the log.</summary>
    private const int StartBacklog = 32 * 1024;

    /// <summary>How far an attached client may fall behind (kernel memory, used only while it lags) before it is dropped.</summary>
    private const int ClientSendBuffer = 4 << 20;

    private readonly List<Client> _clients = [];
    private MemoryStream? _start = new();
    private CriLogWriter? _log;
    private int _stdinWrite = -1;
    private int _ptyMaster = -1;

    public ContainerShim(StateStore store, ShimOptions options)
    {
        _store = store;
        _options = options;
    }

    private sealed class Client(int fd)
    {
        public int Fd { get; } = fd;

        public bool Attached { get; set; }

        public List<byte> Input { get; } = [];
    }

    /// <summary>Runs the shim; writes the ready line to <paramref name="readyFd"/>; returns when the container has exited.</summary>
    public int Run(int readyFd)
    {
        Sys.Setsid();
        Sys.Prctl(PrctlOptions.PR_SET_CHILD_SUBREAPER, 1);
        var spec = Container.LoadBundleSpec(_options.Bundle);
        var terminal = spec.Process?.Terminal == true;

        int outRead = -1, errRead = -1, listen = -1, consoleListen = -1;
        string? consolePath = null;
        Container container;
        int pidfd;
        var startedAt = DateTimeOffset.UtcNow;
        try
        {
            var devNull = Sys.Open("/dev/null", OpenFlags.O_RDWR);
            if (terminal)
            {
                consolePath = Path.Combine(Path.GetDirectoryName(_options.ControlSocket)!, $".console-{Environment.ProcessId}.sock");
                File.Delete(consolePath);
                consoleListen = UnixSocket.Listen(consolePath);
                Sys.Dup3(devNull, 0, cloexec: false);
                Sys.Dup3(devNull, 1, cloexec: false);
                Sys.Dup3(devNull, 2, cloexec: false);
            }
            else
            {
                var (inR, inW) = Sys.Pipe();
                var (oR, oW) = Sys.Pipe();
                var (eR, eW) = Sys.Pipe();
                Sys.Dup3(_options.Stdin ? inR : devNull, 0, cloexec: false);
                Sys.Dup3(oW, 1, cloexec: false);
                Sys.Dup3(eW, 2, cloexec: false);
                Sys.Close(inR);
                Sys.Close(oW);
                Sys.Close(eW);
                if (_options.Stdin)
                {
                    _stdinWrite = inW;
                }
                else
                {
                    Sys.Close(inW);
                }

                outRead = oR;
                errRead = eR;
            }

            Sys.Close(devNull);
            File.Delete(_options.ControlSocket);
            listen = UnixSocket.Listen(_options.ControlSocket);
            (container, pidfd) = Container.Create(_store, new CreateOptions
            {
                Id = _options.Id,
                Bundle = _options.Bundle,
                ConsoleSocket = consolePath,
                PidFile = _options.PidFile,
                CgroupHost = _options.CgroupHost,
            });

            if (terminal)
            {
                var connection = UnixSocket.Accept(consoleListen);
                (_ptyMaster, _) = UnixSocket.ReceiveFd(connection);
                Sys.Close(connection);
                Sys.Close(consoleListen);
                consoleListen = -1;
                File.Delete(consolePath!);
            }

            container.Start();
            startedAt = DateTimeOffset.UtcNow;
        }
        catch (Exception e)
        {
            Reply(readyFd, new ShimReady { Error = e.Message });
            Sys.Close(listen);
            Sys.Close(consoleListen);
            if (consolePath is not null)
            {
                File.Delete(consolePath);
            }

            File.Delete(_options.ControlSocket);
            return 1;
        }

        // Our stdio now belongs to the container; the shim keeps only the read ends.
        var devNull2 = Sys.Open("/dev/null", OpenFlags.O_RDWR);
        for (var fd = 0; fd < 3; fd++)
        {
            Sys.Dup3(devNull2, fd, cloexec: false);
        }

        Sys.Close(devNull2);
        Reply(readyFd, new ShimReady { Pid = container.Record.Pid });

        var oomBefore = SafeOomCount(container);
        if (LeanShimPath() is { } lean)
        {
            // Only returns when the exec failed; this process then supervises the container itself.
            HandOver(lean, container, pidfd, outRead, errRead, listen, oomBefore, startedAt);
        }

        using var log = _log = new CriLogWriter(_options.LogPath, _options.LogMaxSize, _options.LogMaxFiles);
        var status = Supervise(log, pidfd, outRead, errRead, listen);
        log.Flush();

        var record = new ExitRecord
        {
            ExitCode = status,
            Signal = status > 128 ? status - 128 : 0,
            OomKilled = SafeOomCount(container) > oomBefore,
            StartedAt = startedAt,
            FinishedAt = DateTimeOffset.UtcNow,
            DroppedLogBytes = log.DroppedBytes,
        };
        // The socket goes first: whoever sees the exit file (the engine, a test) finds no stale socket;
        // connected clients still get the exit frame.
        File.Delete(_options.ControlSocket);
        WriteExitFile(record);
        BroadcastExit(record);
        foreach (var client in _clients)
        {
            Sys.Close(client.Fd);
        }

        Sys.Close(listen);
        Sys.Close(pidfd);
        return 0;
    }

    /// <summary>
    /// The lean resident supervisor next to this binary (<c>dashboard-shim</c>), unless DASHBOARD_SHIM_LEAN=0.
    /// This process carries the whole runtime (spec parsing, cgroups, init): about 9 MB resident, per container.
    /// </summary>
    private static string? LeanShimPath()
    {
        if (Environment.GetEnvironmentVariable("DASHBOARD_SHIM_LEAN") == "0" || Environment.ProcessPath is not { } self)
        {
            return null;
        }

        var path = Path.Combine(Path.GetDirectoryName(self)!, "dashboard-shim");
        return File.Exists(path) ? path : null;
    }

    /// <summary>
    /// Execs <c>dashboard-shim</c> with the container's fds: the pid stays (the engine's pidfd, the init's
    /// parent, the subreaper flag and our session all survive execve), only the resident image shrinks.
    /// </summary>
    private void HandOver(string lean, Container container, int pidfd, int outRead, int errRead, int listen, ulong oomBefore, DateTimeOffset startedAt)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var args = new List<string> { lean, "shim" };
        void Fd(string name, int fd)
        {
            if (fd >= 0)
            {
                Sys.SetCloexec(fd, false);
                args.Add(name);
                args.Add(fd.ToString(inv));
            }
        }

        Fd("--pidfd", pidfd);
        Fd("--stdout", outRead);
        Fd("--stderr", errRead);
        Fd("--pty", _ptyMaster);
        Fd("--stdin", _stdinWrite);
        Fd("--listen", listen);
        args.AddRange(["--log-path", _options.LogPath, "--log-max-size", _options.LogMaxSize.ToString(inv),
            "--log-max-files", _options.LogMaxFiles.ToString(inv), "--exit-file", _options.ExitFile,
            "--control-socket", _options.ControlSocket, "--oom-before", oomBefore.ToString(inv),
            "--started-at", startedAt.UtcTicks.ToString(inv)]);
        if (OomCounterFile(container) is { } oomFile)
        {
            args.AddRange(["--oom-file", oomFile]);
        }

        args.Add(_options.Id);
        try
        {
            Exec.Execve(lean, args, ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]);
        }
        catch (SyscallException)
        {
            // Keep supervising in this process: the container must not lose its shim.
            foreach (var fd in new[] { pidfd, outRead, errRead, _ptyMaster, _stdinWrite, listen })
            {
                if (fd >= 0)
                {
                    Sys.SetCloexec(fd, true);
                }
            }
        }
    }

    /// <summary>Where the kernel counts OOM kills of this container: v1 <c>memory.oom_control</c>, v2 <c>memory.events</c>.</summary>
    private static string? OomCounterFile(Container container)
    {
        try
        {
            var paths = container.Cgroup.Paths;
            if (paths.TryGetValue("memory", out var v1))
            {
                return v1 + "/memory.oom_control";
            }

            return container.Cgroup.Layout == Cgroups.CgroupLayout.Unified && paths.TryGetValue("", out var v2) ? v2 + "/memory.events" : null;
        }
        catch (Exception)
        {
            return null;
        }
    }

    private static ulong SafeOomCount(Container container)
    {
        try
        {
            return container.Cgroup.GetOomKillCount();
        }
        catch (Exception)
        {
            return 0;
        }
    }

    private static void Reply(int fd, ShimReady ready)
    {
        try
        {
            Sys.WriteAll(fd, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(ready, ShimJsonContext.Default.ShimReady) + "\n"));
        }
        catch (SyscallException)
        {
            // The engine went away; the container runs on regardless.
        }

        Sys.Close(fd);
    }

    private int Supervise(CriLogWriter log, int pidfd, int outRead, int errRead, int listen)
    {
        var buffer = new byte[65536];
        int? status = null;
        var drainUntil = DateTime.MaxValue;
        var outputs = new List<(int Fd, int Stream)>();
        if (_ptyMaster >= 0)
        {
            outputs.Add((_ptyMaster, 1));
        }
        else
        {
            outputs.Add((outRead, 1));
            outputs.Add((errRead, 2));
        }

        while (outputs.Count > 0 || status is null)
        {
            if (status is not null && DateTime.UtcNow > drainUntil)
            {
                break;
            }

            var fds = new List<(int Fd, short Events, short REvents)>();
            fds.AddRange(outputs.Select(o => (o.Fd, Sys.POLLIN, (short)0)));
            if (status is null)
            {
                fds.Add((pidfd, Sys.POLLIN, 0));
            }

            fds.Add((listen, Sys.POLLIN, 0));
            fds.AddRange(_clients.Select(c => (c.Fd, Sys.POLLIN, (short)0)));
            var span = fds.ToArray().AsSpan();
            Sys.Poll(span, status is null ? -1 : 100);
            var index = 0;
            foreach (var (fd, stream) in outputs.ToList())
            {
                var revents = span[index++].REvents;
                if (revents == 0)
                {
                    continue;
                }

                int n;
                try
                {
                    n = Sys.Read(fd, buffer);
                }
                catch (SyscallException e) when (e.Errno == Errno.EIO)
                {
                    n = 0; // pty master after the last slave closed
                }

                if (n <= 0)
                {
                    outputs.Remove((fd, stream));
                    Sys.Close(fd);
                    continue;
                }

                log.Write(stream, buffer.AsSpan(0, n));
                Broadcast(stream, buffer.AsSpan(0, n));
                Remember(stream, buffer.AsSpan(0, n));
            }

            if (status is null)
            {
                if (span[index++].REvents != 0)
                {
                    status = Sys.WaitPidfd(pidfd);
                    // Processes of a dead pid namespace die with its init; give their last output a moment.
                    drainUntil = DateTime.UtcNow.AddSeconds(2);
                }
            }

            // The clients polled this round: one accepted below has no poll entry yet.
            var polled = _clients.ToList();
            if (span[index++].REvents != 0)
            {
                var fd = UnixSocket.Accept(listen);
                _ = ShimCalls.TrySetSendBuffer(fd, ClientSendBuffer);
                _clients.Add(new Client(fd));
            }

            foreach (var client in polled)
            {
                if (span[index++].REvents != 0 && _clients.Contains(client))
                {
                    HandleClient(client, buffer);
                }
            }
        }

        return status ?? 0;
    }

    private void HandleClient(Client client, byte[] buffer)
    {
        int n;
        try
        {
            n = Sys.Read(client.Fd, buffer);
        }
        catch (SyscallException)
        {
            n = 0;
        }

        if (n <= 0)
        {
            DropClient(client);
            return;
        }

        client.Input.AddRange(buffer.AsSpan(0, n));
        if (!client.Attached)
        {
            var newline = client.Input.IndexOf((byte)'\n');
            if (newline < 0)
            {
                if (client.Input.Count > 4096)
                {
                    DropClient(client);
                }

                return;
            }

            var line = Encoding.UTF8.GetString([.. client.Input.GetRange(0, newline)]);
            client.Input.RemoveRange(0, newline + 1);
            ControlRequest? request;
            try
            {
                request = JsonSerializer.Deserialize(line, ShimJsonContext.Default.ControlRequest);
            }
            catch (JsonException)
            {
                request = null;
            }

            switch (request?.Op)
            {
                case "attach":
                    if (!HandOver(client, request.Replay))
                    {
                        DropClient(client);
                        return;
                    }

                    client.Attached = true;
                    break;
                case "resize":
                    Resize(request.Height, request.Width);
                    DropClient(client);
                    return;
                default:
                    DropClient(client);
                    return;
            }
        }

        while (client.Input.Count >= 5)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian([.. client.Input.GetRange(1, 4)]);
            if (length is < 0 or > 1 << 20)
            {
                DropClient(client);
                return;
            }

            if (client.Input.Count < 5 + length)
            {
                return;
            }

            var type = client.Input[0];
            var payload = client.Input.GetRange(5, length).ToArray();
            client.Input.RemoveRange(0, 5 + length);
            switch (type)
            {
                case 0:
                    WriteStdin(payload);
                    break;
                case 1 when _ptyMaster < 0:
                    Sys.Close(_stdinWrite);
                    _stdinWrite = -1;
                    break;
                case 2:
                    var size = JsonSerializer.Deserialize(payload, ShimJsonContext.Default.ControlRequest);
                    if (size is not null)
                    {
                        Resize(size.Height, size.Width);
                    }

                    break;
            }
        }
    }

    private void Remember(int stream, ReadOnlySpan<byte> data)
    {
        if (_start is null)
        {
            return;
        }

        if (_start.Length + 5 + data.Length > StartBacklog)
        {
            _start = null;
            return;
        }

        _start.Write(Frame(stream, data));
    }

    /// <summary>The position frame and the output the client would miss (see the class remarks); false when the client is gone.</summary>
    private bool HandOver(Client client, string? replay)
    {
        if (replay is not ("start" or "log"))
        {
            return true;
        }

        var fromStart = replay == "start" && _start is not null;
        var (inode, offset) = _log!.Position;
        var position = fromStart
            ? "{\"log\":false}"
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{{\"log\":true,\"inode\":{inode},\"offset\":{offset}}}");
        try
        {
            Sys.WriteAll(client.Fd, Frame(4, Encoding.UTF8.GetBytes(position)));
            if (fromStart)
            {
                Sys.WriteAll(client.Fd, _start!.GetBuffer().AsSpan(0, (int)_start.Length));
            }
            else
            {
                for (var stream = 1; stream <= 2; stream++)
                {
                    if (_log.Pending(stream).Length > 0)
                    {
                        Sys.WriteAll(client.Fd, Frame(stream, _log.Pending(stream)));
                    }
                }
            }
        }
        catch (SyscallException)
        {
            return false;
        }

        return true;
    }

    private static byte[] Frame(int type, ReadOnlySpan<byte> data)
    {
        var frame = new byte[5 + data.Length];
        frame[0] = (byte)type;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), data.Length);
        data.CopyTo(frame.AsSpan(5));
        return frame;
    }

    private void WriteStdin(byte[] data)
    {
        var fd = _ptyMaster >= 0 ? _ptyMaster : _stdinWrite;
        if (fd < 0)
        {
            return;
        }

        try
        {
            Sys.WriteAll(fd, data);
        }
        catch (SyscallException)
        {
            // The container closed its stdin.
        }
    }

    private void Resize(ushort height, ushort width)
    {
        if (_ptyMaster >= 0 && height > 0 && width > 0)
        {
            Terminal.SetWindowSize(_ptyMaster, height, width);
        }
    }

    private void Broadcast(int stream, ReadOnlySpan<byte> data)
    {
        if (_clients.Count == 0)
        {
            return;
        }

        var frame = Frame(stream, data);
        foreach (var client in _clients.Where(c => c.Attached).ToList())
        {
            try
            {
                // A client that cannot keep up is dropped, never allowed to block the log.
                if ((Sys.PollOne(client.Fd, Sys.POLLOUT, 0) & Sys.POLLOUT) == 0)
                {
                    DropClient(client);
                    continue;
                }

                Sys.WriteAll(client.Fd, frame);
            }
            catch (SyscallException)
            {
                DropClient(client);
            }
        }
    }

    private void BroadcastExit(ExitRecord record) =>
        Broadcast(3, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(record, ShimJsonContext.Default.ExitRecord)));

    private void DropClient(Client client)
    {
        _clients.Remove(client);
        Sys.Close(client.Fd);
    }

    private void WriteExitFile(ExitRecord record)
    {
        var tmp = _options.ExitFile + ".tmp";
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write))
        {
            JsonSerializer.Serialize(stream, record, ShimJsonContext.Default.ExitRecord);
            stream.Flush(flushToDisk: true);
        }

        File.Move(tmp, _options.ExitFile, overwrite: true);
    }
}
