using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Init;

/// <summary>What the runtime tells the in-container stage (sent once over the sync socket).</summary>
public sealed class InitConfig
{
    /// <summary>"create" (new container) or "exec" (a process joining a running one).</summary>
    [JsonPropertyName("mode")] public string Mode { get; set; } = "create";
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("bundle")] public string Bundle { get; set; } = "";
    [JsonPropertyName("rootfs")] public string Rootfs { get; set; } = "";
    [JsonPropertyName("spec")] public Spec Spec { get; set; } = new();

    /// <summary>The init's pid as the host sees it (for hook state).</summary>
    [JsonPropertyName("hostPid")] public int HostPid { get; set; }
    [JsonPropertyName("noPivot")] public bool NoPivot { get; set; }

    /// <summary>--no-new-keyring: keep the caller's session keyring instead of one per container.</summary>
    [JsonPropertyName("noNewKeyring")] public bool NoNewKeyring { get; set; }
    [JsonPropertyName("preserveFds")] public int PreserveFds { get; set; }
    [JsonPropertyName("consoleSocketFd")] public int ConsoleSocketFd { get; set; } = -1;
    [JsonPropertyName("fifoFd")] public int FifoFd { get; set; } = -1;
    [JsonPropertyName("newCgroupNs")] public bool NewCgroupNamespace { get; set; }
    [JsonPropertyName("newTimeNs")] public bool NewTimeNamespace { get; set; }
    [JsonPropertyName("userNs")] public bool UserNamespace { get; set; }

    /// <summary>Host directories of the container's cgroup per v1 controller (key "" = cgroup2), for the cgroup mount.</summary>
    [JsonPropertyName("cgroupPaths")] public Dictionary<string, string> CgroupPaths { get; set; } = [];
    [JsonPropertyName("hasHooksToRun")] public bool ParentHooks { get; set; }

    /// <summary>Namespace fds (inherited) that init joins, by type.</summary>
    [JsonPropertyName("joinNamespaces")] public Dictionary<string, int> JoinNamespaces { get; set; } = [];

    /// <summary>Detached mount trees (inherited fds) the runtime prepared, by index in spec.mounts: id-mapped binds.</summary>
    [JsonPropertyName("mountFds")] public Dictionary<int, int> MountFds { get; set; } = [];

    /// <summary>Resolve mount targets without openat2 (DASHBOARD_RUNTIME_NO_OPENAT2=1).</summary>
    [JsonPropertyName("noOpenat2")] public bool NoOpenat2 { get; set; }

    /// <summary>Make bind mounts without mount_setattr, as on kernels before 5.12 (DASHBOARD_RUNTIME_NO_MOUNT_SETATTR=1).</summary>
    [JsonPropertyName("noMountSetattr")] public bool NoMountSetattr { get; set; }
}

public sealed class InitMessage
{
    /// <summary>config, hooks, hooks-done, ready, error.</summary>
    [JsonPropertyName("type")] public string Type { get; set; } = "";
    [JsonPropertyName("message")] public string? Message { get; set; }
    [JsonPropertyName("config")] public InitConfig? Config { get; set; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(InitMessage))]
internal sealed partial class InitJsonContext : JsonSerializerContext;

/// <summary>
/// Length-prefixed messages over the sync socket between the runtime and the init stage: the
/// config as JSON, the small ones (ready, hooks, hooks-done, error) as "type\nmessage" text, which
/// spares both sides System.Text.Json's first-use cost on the create path.
/// </summary>
public static class InitChannel
{
    private const int MaxMessage = 16 << 20;

    public static void Send(int fd, InitMessage message)
    {
        var body = message.Config is null
            ? System.Text.Encoding.UTF8.GetBytes(message.Message is null ? message.Type : message.Type + "\n" + message.Message)
            : JsonSerializer.SerializeToUtf8Bytes(message, InitJsonContext.Default.InitMessage);
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        Sys.WriteAll(fd, frame, "sync socket");
    }

    /// <summary>Tells an in-process init its pid as the host sees it (4 bytes, little-endian).</summary>
    public static void SendPid(int fd, int pid)
    {
        Span<byte> frame = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(frame, pid);
        Sys.WriteAll(fd, frame, "sync socket");
    }

    public static int ReceivePid(int fd)
    {
        Span<byte> frame = stackalloc byte[4];
        return ReadExactly(fd, frame)
            ? BinaryPrimitives.ReadInt32LittleEndian(frame)
            : throw new RuntimeException(ErrorKind.Internal, "sync socket: runtime went away before start");
    }

    /// <summary>Receives a message; null when the peer closed the socket.</summary>
    public static InitMessage? Receive(int fd)
    {
        Span<byte> header = stackalloc byte[4];
        if (!ReadExactly(fd, header))
        {
            return null;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length is < 0 or > MaxMessage)
        {
            throw new RuntimeException(ErrorKind.Internal, $"sync socket: bad message length {length}");
        }

        var body = new byte[length];
        if (!ReadExactly(fd, body))
        {
            throw new RuntimeException(ErrorKind.Internal, "sync socket: truncated message");
        }

        if (length > 0 && body[0] == (byte)'{')
        {
            return JsonSerializer.Deserialize(body, InitJsonContext.Default.InitMessage);
        }

        var text = System.Text.Encoding.UTF8.GetString(body);
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? new InitMessage { Type = text } : new InitMessage { Type = text[..newline], Message = text[(newline + 1)..] };
    }

    private static bool ReadExactly(int fd, Span<byte> buffer)
    {
        var done = 0;
        while (done < buffer.Length)
        {
            var n = Sys.Read(fd, buffer[done..]);
            if (n == 0)
            {
                return done == 0 ? false : throw new RuntimeException(ErrorKind.Internal, "sync socket: truncated message");
            }

            done += n;
        }

        return true;
    }
}
