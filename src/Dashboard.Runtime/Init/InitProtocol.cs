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

/// <summary>
/// Length-prefixed messages over the sync socket between the runtime and the init stage: the
/// config as JSON (written and read by hand, <see cref="InitMessageJson"/>), the small ones (ready,
/// hooks, hooks-done, error) as "type\nmessage" text; neither side pays JsonSerializer's
/// first-use cost on the create path.
/// </summary>
public static class InitChannel
{
    private const int MaxMessage = 16 << 20;

    public static void Send(int fd, InitMessage message)
    {
        var body = message.Config is null
            ? System.Text.Encoding.UTF8.GetBytes(message.Message is null ? message.Type : message.Type + "\n" + message.Message)
            : InitMessageJson.Write(message);
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
            return InitMessageJson.Read(body);
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

/// <summary>
/// The config message as JSON over Utf8JsonWriter/Utf8JsonReader: the spec with <see cref="SpecWriter"/>
/// and <see cref="SpecReader"/>, the rest by hand (compact, nulls left out, as the serializer wrote it).
/// </summary>
public static class InitMessageJson
{
    private const string Doc = "init message";

    public static byte[] Write(InitMessage message)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(8192);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("type"u8, message.Type);
            if (message.Message is { } text)
            {
                w.WriteString("message"u8, text);
            }

            if (message.Config is { } config)
            {
                w.WritePropertyName("config"u8);
                WriteConfig(w, config);
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static InitMessage Read(ReadOnlySpan<byte> utf8)
    {
        var r = new Utf8JsonReader(utf8);
        Next(ref r);
        Expect(ref r, JsonTokenType.StartObject, "message");
        var message = new InitMessage();
        while (Property(ref r))
        {
            if (r.ValueTextEquals("type"u8)) message.Type = String(ref r, "type") ?? "";
            else if (r.ValueTextEquals("message"u8)) message.Message = String(ref r, "message");
            else if (r.ValueTextEquals("config"u8)) message.Config = ReadConfig(ref r, utf8);
            else r.Skip();
        }

        return r.Read() ? throw new JsonException("init message: unexpected data after the document") : message;
    }

    private static void WriteConfig(Utf8JsonWriter w, InitConfig c)
    {
        w.WriteStartObject();
        w.WriteString("mode"u8, c.Mode);
        w.WriteString("id"u8, c.Id);
        w.WriteString("bundle"u8, c.Bundle);
        w.WriteString("rootfs"u8, c.Rootfs);
        w.WritePropertyName("spec"u8);
        SpecWriter.Write(w, c.Spec);
        w.WriteNumber("hostPid"u8, c.HostPid);
        w.WriteBoolean("noPivot"u8, c.NoPivot);
        w.WriteBoolean("noNewKeyring"u8, c.NoNewKeyring);
        w.WriteNumber("preserveFds"u8, c.PreserveFds);
        w.WriteNumber("consoleSocketFd"u8, c.ConsoleSocketFd);
        w.WriteNumber("fifoFd"u8, c.FifoFd);
        w.WriteBoolean("newCgroupNs"u8, c.NewCgroupNamespace);
        w.WriteBoolean("newTimeNs"u8, c.NewTimeNamespace);
        w.WriteBoolean("userNs"u8, c.UserNamespace);
        w.WriteStartObject("cgroupPaths"u8);
        foreach (var (key, value) in c.CgroupPaths)
        {
            w.WriteString(key, value);
        }

        w.WriteEndObject();
        w.WriteBoolean("hasHooksToRun"u8, c.ParentHooks);
        w.WriteStartObject("joinNamespaces"u8);
        foreach (var (key, value) in c.JoinNamespaces)
        {
            w.WriteNumber(key, value);
        }

        w.WriteEndObject();
        w.WriteStartObject("mountFds"u8);
        foreach (var (key, value) in c.MountFds)
        {
            w.WriteNumber(key.ToString(System.Globalization.CultureInfo.InvariantCulture), value);
        }

        w.WriteEndObject();
        w.WriteBoolean("noOpenat2"u8, c.NoOpenat2);
        w.WriteBoolean("noMountSetattr"u8, c.NoMountSetattr);
        w.WriteEndObject();
    }

    private static InitConfig ReadConfig(ref Utf8JsonReader r, ReadOnlySpan<byte> utf8)
    {
        Next(ref r);
        Expect(ref r, JsonTokenType.StartObject, "config");
        var c = new InitConfig();
        while (Property(ref r))
        {
            if (r.ValueTextEquals("mode"u8)) c.Mode = String(ref r, "mode") ?? "";
            else if (r.ValueTextEquals("id"u8)) c.Id = String(ref r, "id") ?? "";
            else if (r.ValueTextEquals("bundle"u8)) c.Bundle = String(ref r, "bundle") ?? "";
            else if (r.ValueTextEquals("rootfs"u8)) c.Rootfs = String(ref r, "rootfs") ?? "";
            else if (r.ValueTextEquals("spec"u8)) c.Spec = ReadSpec(ref r, utf8);
            else if (r.ValueTextEquals("hostPid"u8)) c.HostPid = Int32(ref r, "hostPid");
            else if (r.ValueTextEquals("noPivot"u8)) c.NoPivot = Bool(ref r, "noPivot");
            else if (r.ValueTextEquals("noNewKeyring"u8)) c.NoNewKeyring = Bool(ref r, "noNewKeyring");
            else if (r.ValueTextEquals("preserveFds"u8)) c.PreserveFds = Int32(ref r, "preserveFds");
            else if (r.ValueTextEquals("consoleSocketFd"u8)) c.ConsoleSocketFd = Int32(ref r, "consoleSocketFd");
            else if (r.ValueTextEquals("fifoFd"u8)) c.FifoFd = Int32(ref r, "fifoFd");
            else if (r.ValueTextEquals("newCgroupNs"u8)) c.NewCgroupNamespace = Bool(ref r, "newCgroupNs");
            else if (r.ValueTextEquals("newTimeNs"u8)) c.NewTimeNamespace = Bool(ref r, "newTimeNs");
            else if (r.ValueTextEquals("userNs"u8)) c.UserNamespace = Bool(ref r, "userNs");
            else if (r.ValueTextEquals("cgroupPaths"u8)) c.CgroupPaths = StringMap(ref r);
            else if (r.ValueTextEquals("hasHooksToRun"u8)) c.ParentHooks = Bool(ref r, "hasHooksToRun");
            else if (r.ValueTextEquals("joinNamespaces"u8)) c.JoinNamespaces = IntMap(ref r);
            else if (r.ValueTextEquals("mountFds"u8)) c.MountFds = IntMap(ref r).ToDictionary(p => int.Parse(p.Key, System.Globalization.CultureInfo.InvariantCulture), p => p.Value);
            else if (r.ValueTextEquals("noOpenat2"u8)) c.NoOpenat2 = Bool(ref r, "noOpenat2");
            else if (r.ValueTextEquals("noMountSetattr"u8)) c.NoMountSetattr = Bool(ref r, "noMountSetattr");
            else r.Skip();
        }

        return c;
    }

    /// <summary>The spec is handed to <see cref="SpecReader"/> as the slice of the message it spans.</summary>
    private static Spec ReadSpec(ref Utf8JsonReader r, ReadOnlySpan<byte> utf8)
    {
        Next(ref r);
        Expect(ref r, JsonTokenType.StartObject, "spec");
        var start = (int)r.TokenStartIndex;
        r.Skip();
        return SpecReader.ReadSpec(utf8[start..(int)r.BytesConsumed]);
    }

    private static bool Property(ref Utf8JsonReader r) => JsonFields.Property(ref r, Doc);

    private static void Next(ref Utf8JsonReader r) => JsonFields.Next(ref r, Doc);

    private static void Expect(ref Utf8JsonReader r, JsonTokenType token, string field) => JsonFields.Expect(ref r, token, Doc, field);

    private static string? String(ref Utf8JsonReader r, string field) => JsonFields.NullableString(ref r, Doc, field);

    private static bool Bool(ref Utf8JsonReader r, string field) => JsonFields.Bool(ref r, Doc, field);

    private static int Int32(ref Utf8JsonReader r, string field) => JsonFields.Int32(ref r, Doc, field);

    private static Dictionary<string, string> StringMap(ref Utf8JsonReader r)
    {
        Next(ref r);
        Expect(ref r, JsonTokenType.StartObject, "map");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (Property(ref r))
        {
            var key = r.GetString()!;
            map[key] = String(ref r, key) ?? "";
        }

        return map;
    }

    private static Dictionary<string, int> IntMap(ref Utf8JsonReader r)
    {
        Next(ref r);
        Expect(ref r, JsonTokenType.StartObject, "map");
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        while (Property(ref r))
        {
            var key = r.GetString()!;
            map[key] = Int32(ref r, key);
        }

        return map;
    }
}
