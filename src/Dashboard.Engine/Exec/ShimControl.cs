using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Dashboard.Engine.Api;

namespace Dashboard.Engine.Exec;

/// <summary>
/// Client of a container shim's control socket (Dashboard.Runtime ContainerShim): one JSON line
/// (<c>{"op":"attach"|"resize"}</c>), then frames <c>[type:1][length:4 BE][data]</c>. From the shim:
/// 1 stdout, 2 stderr, 3 exit JSON, 4 position JSON (the first frame of an attach that asked for a replay:
/// <see cref="AttachLine"/>). To the shim: 0 stdin data, 1 close stdin, 2 resize JSON.
/// </summary>
public static class ShimControl
{
    public const byte StdinData = 0;
    public const byte CloseStdin = 1;
    public const byte ResizeFrame = 2;
    public const byte ExitFrame = 3;
    public const byte PositionFrame = 4;

    /// <summary>Replay mode of an attach made before the start: the shim sends the output since the start (or a log position when that outgrew its backlog).</summary>
    public const string ReplayFromStart = "start";

    /// <summary>Replay mode of <c>logs=1</c>: the shim sends the log position to replay up to, then what no log record holds yet.</summary>
    public const string ReplayFromLog = "log";

    private const int MaxFrame = 1 << 20;

    /// <summary>Connects to the control socket; null when the shim is gone (the container exited).</summary>
    public static async Task<NetworkStream?> ConnectAsync(string socketPath, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }

    public static byte[] AttachLine(bool stdin, string? replay = null)
    {
        var request = new Dictionary<string, object> { ["op"] = "attach", ["stdin"] = stdin };
        if (replay is not null)
        {
            request["replay"] = replay;
        }

        return Encoding.UTF8.GetBytes(JsonSerializer.Serialize(request, DockerJson.Info<Dictionary<string, object>>(DockerJson.Plain)) + "\n");
    }

    /// <summary>
    /// A position frame: whether the client replays the log, and up to which file (inode; 0 = as the log is now)
    /// and byte offset. Everything after it reaches the attached client through the socket.
    /// </summary>
    public static (bool Log, ulong Inode, long Offset) ParsePosition(ReadOnlySpan<byte> json)
    {
        try
        {
            return ReadPosition(new Utf8JsonReader(json));
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            // Not a shim of ours: replay the log as it is now, as before positions existed.
            return (true, 0, 0);
        }
    }

    private static (bool Log, ulong Inode, long Offset) ReadPosition(Utf8JsonReader reader)
    {
        var (log, inode, offset) = (false, 0UL, 0L);
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
            {
                continue;
            }

            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "log" when reader.TokenType is JsonTokenType.True or JsonTokenType.False:
                    log = reader.GetBoolean();
                    break;
                case "inode" when reader.TokenType == JsonTokenType.Number:
                    inode = reader.GetUInt64();
                    break;
                case "offset" when reader.TokenType == JsonTokenType.Number:
                    offset = reader.GetInt64();
                    break;
            }
        }

        return (log, inode, offset);
    }

    public static async Task ResizeAsync(string socketPath, ushort height, ushort width, CancellationToken cancellationToken)
    {
        await using var stream = await ConnectAsync(socketPath, cancellationToken)
            ?? throw new EngineException(ErrorKind.InvalidState, "the container is not running");
        var line = JsonSerializer.Serialize(new Dictionary<string, object> { ["op"] = "resize", ["height"] = height, ["width"] = width }, DockerJson.Info<Dictionary<string, object>>(DockerJson.Plain)) + "\n";
        await stream.WriteAsync(Encoding.UTF8.GetBytes(line), cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    public static async Task WriteFrameAsync(Stream stream, byte type, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var frame = new byte[5 + data.Length];
        frame[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), data.Length);
        data.Span.CopyTo(frame.AsSpan(5));
        await stream.WriteAsync(frame, cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <summary>The next frame, or null at end of stream.</summary>
    public static async Task<(byte Type, byte[] Data)?> ReadFrameAsync(Stream stream, CancellationToken cancellationToken)
    {
        var header = new byte[5];
        if (!await FillAsync(stream, header, cancellationToken))
        {
            return null;
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1));
        if (length is < 0 or > MaxFrame)
        {
            throw new IOException($"shim frame of {length} bytes");
        }

        var data = new byte[length];
        return await FillAsync(stream, data, cancellationToken) ? (header[0], data) : null;
    }

    private static async Task<bool> FillAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }
}
