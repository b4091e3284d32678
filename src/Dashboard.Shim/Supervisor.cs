using System.Buffers.Binary;
using Dashboard.Linux;
using Dashboard.Linux.Native;

namespace Dashboard.Shim;

/// <summary>
/// Supervises one started container (DESIGN.md §2): reads its stdio (pipes or the pty master) into the log,
/// waits on the init's pidfd, writes the exit file and serves the control socket. The protocol is
/// Dashboard.Runtime's ContainerShim's: one JSON line (<c>{"op":"attach"|"resize",…}</c>), then frames
/// <c>[type:1][length:4 BE][data]</c>; to clients 1 stdout, 2 stderr, 3 exit JSON, 4 position JSON; from
/// clients 0 stdin data, 1 close stdin, 2 resize JSON. The loop allocates nothing per read.
/// </summary>
/// <remarks>
/// An attach may ask for the output it would otherwise miss (<c>"replay":"start"|"log"</c>); the answer is one
/// position frame, then what the client cannot find elsewhere, then live output, so every byte arrives exactly
/// once. <c>start</c> (an attach made before the start, <c>docker run</c>): <c>{"log":false}</c> and every
/// frame since the start, while that fits the start backlog; otherwise the <c>log</c> answer.
/// <c>log</c>: <c>{"log":true,"inode":I,"offset":O}</c>, the log position the client replays the log up to
/// (<see cref="CriLogFile.Position"/>), then the unterminated rest of each stream that no record holds yet.
/// </remarks>
internal sealed class Supervisor
{
    private const int ReadSize = 64 * 1024;
    private const int MaxFrame = 1 << 20;
    private const int MaxClients = 64;

    /// <summary>How far an attached client may fall behind (kernel memory, used only while it lags) before it is dropped.</summary>
    private const int ClientSendBuffer = 4 << 20;

    /// <summary>Output kept for attaches made before the start; a container that writes more before its first attach falls back to the log.</summary>
    private const int StartBacklog = 32 * 1024;

    private readonly ShimArgs _args;
    private readonly byte[] _buffer = new byte[ReadSize];
    private readonly byte[] _frame = new byte[5 + ReadSize];
    private readonly Client?[] _clients = new Client?[MaxClients];
    private readonly int[] _outputs = new int[2];
    private readonly int[] _outputStreams = new int[2];
    private int _outputCount;
    private int _stdin;
    private int _clientCount;
    private byte[]? _start = new byte[StartBacklog];
    private int _startLength;
    private CriLogFile? _log;

    public Supervisor(ShimArgs args)
    {
        _args = args;
        _stdin = args.Pty >= 0 ? -1 : args.Stdin;
        if (args.Pty >= 0)
        {
            AddOutput(args.Pty, 1);
        }
        else
        {
            AddOutput(args.Stdout, 1);
            AddOutput(args.Stderr, 2);
        }
    }

    private sealed class Client(int fd)
    {
        public int Fd { get; } = fd;

        public bool Attached { get; set; }

        public byte[] Input { get; set; } = new byte[256];

        public int Length { get; set; }
    }

    private void AddOutput(int fd, int stream)
    {
        if (fd >= 0)
        {
            // A bigger pipe means fewer wake-ups for a chatty container; the kernel caps it (pipe-max-size).
            _ = ShimCalls.TrySetPipeSize(fd, 1 << 20);
            _outputs[_outputCount] = fd;
            _outputStreams[_outputCount++] = stream;
        }
    }

    public int Run()
    {
        ShimCalls.IgnoreSigpipe();
        var log = _log = new CriLogFile(_args.LogPath, _args.LogMaxSize, _args.LogMaxFiles);
        var status = Supervise(log);
        log.Close();

        var exit = ExitJson(status, log.DroppedBytes);

        // The socket goes first: whoever sees the exit file (the engine, a test) finds no stale socket;
        // connected clients still get the exit frame.
        _ = ShimCalls.Unlink(_args.ControlSocket);
        WriteExitFile(exit);
        Broadcast(3, exit);
        for (var i = 0; i < _clientCount; i++)
        {
            Sys.Close(_clients[i]!.Fd);
        }

        Sys.Close(_args.Listen);
        Sys.Close(_args.Pidfd);
        return 0;
    }

    private int Supervise(CriLogFile log)
    {
        var status = -1;
        var exited = false;
        long drainUntil = long.MaxValue;
        Span<(int Fd, short Events, short REvents)> fds = stackalloc (int, short, short)[4 + MaxClients];
        Span<int> polledClients = stackalloc int[MaxClients];
        while (_outputCount > 0 || !exited)
        {
            if (exited && Environment.TickCount64 > drainUntil)
            {
                break;
            }

            var count = 0;
            for (var i = 0; i < _outputCount; i++)
            {
                fds[count++] = (_outputs[i], Sys.POLLIN, 0);
            }

            var pidfdIndex = -1;
            if (!exited)
            {
                pidfdIndex = count;
                fds[count++] = (_args.Pidfd, Sys.POLLIN, 0);
            }

            var listenIndex = count;
            fds[count++] = (_args.Listen, Sys.POLLIN, 0);
            var clientsStart = count;
            var polled = _clientCount;
            for (var i = 0; i < polled; i++)
            {
                polledClients[i] = _clients[i]!.Fd;
                fds[count++] = (_clients[i]!.Fd, Sys.POLLIN, 0);
            }

            _ = Sys.Poll(fds[..count], exited ? 100 : -1);

            // Outputs first (and backwards, so closing one keeps the earlier indices valid).
            for (var i = _outputCount - 1; i >= 0; i--)
            {
                if (fds[i].REvents != 0)
                {
                    ReadOutput(log, i);
                }
            }

            if (pidfdIndex >= 0 && fds[pidfdIndex].REvents != 0)
            {
                status = Sys.WaitPidfd(_args.Pidfd);
                exited = true;
                // Processes of a dead pid namespace die with its init; give their last output a moment.
                drainUntil = Environment.TickCount64 + 2000;
            }

            for (var i = 0; i < polled; i++)
            {
                if (fds[clientsStart + i].REvents == 0)
                {
                    continue;
                }

                var at = IndexOfClient(polledClients[i]);
                if (at >= 0)
                {
                    HandleClient(_clients[at]!);
                }
            }

            if (fds[listenIndex].REvents != 0)
            {
                Accept();
            }
        }

        return status < 0 ? 0 : status;
    }

    private void ReadOutput(CriLogFile log, int index)
    {
        var fd = _outputs[index];
        int n;
        try
        {
            n = Sys.Read(fd, _buffer);
        }
        catch (SyscallException)
        {
            n = 0; // EIO: the pty master after the last slave closed
        }

        if (n <= 0)
        {
            Sys.Close(fd);
            _outputCount--;
            for (var i = index; i < _outputCount; i++)
            {
                _outputs[i] = _outputs[i + 1];
                _outputStreams[i] = _outputStreams[i + 1];
            }

            return;
        }

        var stream = _outputStreams[index];
        log.Write(stream, _buffer.AsSpan(0, n));
        Broadcast(stream, _buffer.AsSpan(0, n));
        if (_start is not null)
        {
            if (_startLength + 5 + n > _start.Length)
            {
                _start = null;
            }
            else
            {
                _start[_startLength] = (byte)stream;
                BinaryPrimitives.WriteInt32BigEndian(_start.AsSpan(_startLength + 1), n);
                _buffer.AsSpan(0, n).CopyTo(_start.AsSpan(_startLength + 5));
                _startLength += 5 + n;
            }
        }
    }

    private void Accept()
    {
        int fd;
        try
        {
            fd = UnixSocket.Accept(_args.Listen);
        }
        catch (SyscallException)
        {
            return;
        }

        if (_clientCount == MaxClients)
        {
            Sys.Close(fd);
            return;
        }

        _ = ShimCalls.TrySetSendBuffer(fd, ClientSendBuffer);
        _clients[_clientCount++] = new Client(fd);
    }

    private int IndexOfClient(int fd)
    {
        for (var i = 0; i < _clientCount; i++)
        {
            if (_clients[i]!.Fd == fd)
            {
                return i;
            }
        }

        return -1;
    }

    private void DropClient(Client client)
    {
        var at = IndexOfClient(client.Fd);
        if (at < 0)
        {
            return;
        }

        Sys.Close(client.Fd);
        _clientCount--;
        _clients[at] = _clients[_clientCount];
        _clients[_clientCount] = null;
    }

    private void HandleClient(Client client)
    {
        int n;
        try
        {
            n = Sys.Read(client.Fd, _buffer);
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

        if (client.Length + n > client.Input.Length)
        {
            if (client.Length + n > 5 + MaxFrame)
            {
                DropClient(client);
                return;
            }

            var bigger = new byte[Math.Max(client.Input.Length * 2, client.Length + n)];
            client.Input.AsSpan(0, client.Length).CopyTo(bigger);
            client.Input = bigger;
        }

        _buffer.AsSpan(0, n).CopyTo(client.Input.AsSpan(client.Length));
        client.Length += n;
        var consumed = 0;
        if (!client.Attached)
        {
            var newline = client.Input.AsSpan(0, client.Length).IndexOf((byte)'\n');
            if (newline < 0)
            {
                if (client.Length > 4096)
                {
                    DropClient(client);
                }

                return;
            }

            var line = client.Input.AsSpan(0, newline);
            var op = ControlJson.String(line, "op"u8);
            if (op.SequenceEqual("attach"u8))
            {
                if (!HandOver(client, ControlJson.String(line, "replay"u8)))
                {
                    DropClient(client);
                    return;
                }

                client.Attached = true;
                consumed = newline + 1;
            }
            else
            {
                if (op.SequenceEqual("resize"u8))
                {
                    Resize(line);
                }

                DropClient(client);
                return;
            }
        }

        while (client.Length - consumed >= 5)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(client.Input.AsSpan(consumed + 1));
            if (length is < 0 or > MaxFrame)
            {
                DropClient(client);
                return;
            }

            if (client.Length - consumed < 5 + length)
            {
                break;
            }

            var type = client.Input[consumed];
            var payload = client.Input.AsSpan(consumed + 5, length);
            switch (type)
            {
                case 0:
                    WriteStdin(payload);
                    break;
                case 1 when _stdin >= 0:
                    Sys.Close(_stdin);
                    _stdin = -1;
                    break;
                case 2:
                    Resize(payload);
                    break;
            }

            consumed += 5 + length;
        }

        client.Input.AsSpan(consumed, client.Length - consumed).CopyTo(client.Input);
        client.Length -= consumed;
    }

    /// <summary>The position frame and the output the client would miss (see the class remarks); false when the client is gone.</summary>
    private bool HandOver(Client client, ReadOnlySpan<byte> replay)
    {
        var fromStart = replay.SequenceEqual("start"u8);
        if (!fromStart && !replay.SequenceEqual("log"u8))
        {
            return true;
        }

        Span<byte> json = stackalloc byte[96];
        var w = new JsonOut(json);
        var (inode, offset) = _log!.Position;
        if (fromStart && _start is not null)
        {
            w.Raw("{\"log\":false}"u8);
        }
        else
        {
            w.Raw("{\"log\":true,\"inode\":"u8);
            w.Number((long)inode);
            w.Raw(",\"offset\":"u8);
            w.Number(offset);
            w.Raw("}"u8);
        }

        try
        {
            SendFrame(client.Fd, 4, json[..w.Length]);
            if (fromStart && _start is not null)
            {
                Sys.WriteAll(client.Fd, _start.AsSpan(0, _startLength));
            }
            else
            {
                for (var stream = 1; stream <= 2; stream++)
                {
                    if (_log.Pending(stream).Length > 0)
                    {
                        SendFrame(client.Fd, stream, _log.Pending(stream));
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

    private void SendFrame(int fd, int type, ReadOnlySpan<byte> data)
    {
        var frame = _frame.AsSpan(0, 5 + data.Length);
        frame[0] = (byte)type;
        BinaryPrimitives.WriteInt32BigEndian(frame[1..], data.Length);
        data.CopyTo(frame[5..]);
        Sys.WriteAll(fd, frame);
    }

    private void WriteStdin(ReadOnlySpan<byte> data)
    {
        var fd = _args.Pty >= 0 ? _args.Pty : _stdin;
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

    private void Resize(ReadOnlySpan<byte> json)
    {
        var height = ControlJson.Number(json, "height"u8);
        var width = ControlJson.Number(json, "width"u8);
        if (_args.Pty >= 0 && height is > 0 and <= ushort.MaxValue && width is > 0 and <= ushort.MaxValue)
        {
            try
            {
                Terminal.SetWindowSize(_args.Pty, (ushort)height, (ushort)width);
            }
            catch (SyscallException)
            {
                // The pty is gone with the container.
            }
        }
    }

    private void Broadcast(int stream, ReadOnlySpan<byte> data)
    {
        if (_clientCount == 0)
        {
            return;
        }

        var frame = data.Length + 5 <= _frame.Length ? _frame.AsSpan(0, data.Length + 5) : new byte[data.Length + 5];
        frame[0] = (byte)stream;
        BinaryPrimitives.WriteInt32BigEndian(frame[1..], data.Length);
        data.CopyTo(frame[5..]);
        for (var i = _clientCount - 1; i >= 0; i--)
        {
            var client = _clients[i]!;
            if (!client.Attached)
            {
                continue;
            }

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

    private bool OomKilled()
    {
        if (_args.OomFile is null)
        {
            return false;
        }

        var fd = Sys.TryOpen(_args.OomFile, OpenFlags.O_RDONLY);
        if (fd < 0)
        {
            return false;
        }

        Span<byte> text = stackalloc byte[512];
        var n = ShimCalls.TryPreadStart(fd, text);
        Sys.Close(fd);
        return n > 0 && ControlJson.Counter(text[..(int)n], "oom_kill"u8) > _args.OomBefore;
    }

    private byte[] ExitJson(int status, long dropped)
    {
        // The same fields as Dashboard.Runtime's ExitRecord (the engine and tests read either shim's file).
        var buffer = new byte[256];
        var w = new JsonOut(buffer);
        w.Raw("{\"exitCode\":"u8);
        w.Number(status);
        w.Raw(",\"signal\":"u8);
        w.Number(status > 128 ? status - 128 : 0);
        w.Raw(",\"oomKilled\":"u8);
        w.Raw(OomKilled() ? "true"u8 : "false"u8);
        w.Raw(",\"startedAt\":\""u8);
        w.Time(_args.StartedAtTicks > 0 ? new DateTime(_args.StartedAtTicks, DateTimeKind.Utc) : DateTime.UtcNow);
        w.Raw("\",\"finishedAt\":\""u8);
        w.Time(DateTime.UtcNow);
        w.Raw("\",\"droppedLogBytes\":"u8);
        w.Number(dropped);
        w.Raw("}"u8);
        return buffer[..w.Length];
    }

    private void WriteExitFile(byte[] json)
    {
        var tmp = _args.ExitFile + ".tmp";
        var fd = Sys.TryOpen(tmp, OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_TRUNC, 0x1a4 /* 0644 */);
        if (fd < 0)
        {
            return;
        }

        try
        {
            Sys.WriteAll(fd, json);
            _ = ShimCalls.Fsync(fd);
        }
        catch (SyscallException)
        {
            Sys.Close(fd);
            return;
        }

        Sys.Close(fd);
        _ = ShimCalls.Rename(tmp, _args.ExitFile);
    }

    private ref struct JsonOut(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;

        public int Length { get; private set; }

        public void Raw(ReadOnlySpan<byte> text)
        {
            text.CopyTo(_buffer[Length..]);
            Length += text.Length;
        }

        public void Number(long value)
        {
            if (value < 0)
            {
                _buffer[Length++] = (byte)'-';
                value = -value;
            }

            Span<byte> digits = stackalloc byte[20];
            var n = 0;
            do
            {
                digits[n++] = (byte)('0' + (value % 10));
                value /= 10;
            }
            while (value > 0);
            while (n > 0)
            {
                _buffer[Length++] = digits[--n];
            }
        }

        public void Time(DateTime t) => Length += CriLogFile.FormatTime(t, _buffer[Length..], nanoseconds: false);
    }
}
