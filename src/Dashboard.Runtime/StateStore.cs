using System.Text.Json;
using System.Text.Json.Serialization;
using Dashboard.Linux;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime;

/// <summary>What the runtime remembers about a container between CLI processes (<c>&lt;root&gt;/&lt;id&gt;/state.json</c>).</summary>
public sealed class ContainerRecord
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("bundle")] public string Bundle { get; set; } = "";
    [JsonPropertyName("rootfs")] public string Rootfs { get; set; } = "";
    [JsonPropertyName("pid")] public int Pid { get; set; }

    /// <summary>Start time of the init process in clock ticks, so a recycled pid is never taken for ours.</summary>
    [JsonPropertyName("pidStartTime")] public ulong PidStartTime { get; set; }

    [JsonPropertyName("created")] public DateTimeOffset Created { get; set; }
    [JsonPropertyName("cgroupsPath")] public string? CgroupsPath { get; set; }

    /// <summary>Cgroup directory per controller, as created: a later CLI process in another cgroup must find the same ones.</summary>
    [JsonPropertyName("cgroupPaths")] public Dictionary<string, string> CgroupPaths { get; set; } = [];
    [JsonPropertyName("owner")] public string Owner { get; set; } = "";

    /// <summary>Set once <c>start</c> has released the container; "created" is derived from the exec fifo otherwise.</summary>
    [JsonPropertyName("started")] public bool Started { get; set; }
}

/// <summary>
/// state.json by hand over Utf8JsonReader/Utf8JsonWriter, with the output the source-generated
/// serializer gave it (compact, nulls left out, declaration order): every CLI verb reads or writes it, and JsonSerializer's first use costs
/// more than the rest of the file handling.
/// </summary>
public static class ContainerRecordJson
{
    private const string Doc = "state.json";

    public static byte[] Write(ContainerRecord record)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            WriteString(w, "id"u8, record.Id);
            WriteString(w, "bundle"u8, record.Bundle);
            WriteString(w, "rootfs"u8, record.Rootfs);
            w.WriteNumber("pid"u8, record.Pid);
            w.WriteNumber("pidStartTime"u8, record.PidStartTime);
            w.WriteString("created"u8, record.Created);
            WriteString(w, "cgroupsPath"u8, record.CgroupsPath);
            if (record.CgroupPaths is { } paths)
            {
                w.WriteStartObject("cgroupPaths"u8);
                foreach (var (key, value) in paths)
                {
                    if (value is null)
                    {
                        w.WriteNull(key);
                    }
                    else
                    {
                        w.WriteString(key, value);
                    }
                }

                w.WriteEndObject();
            }

            WriteString(w, "owner"u8, record.Owner);
            w.WriteBoolean("started"u8, record.Started);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads state.json; null for a JSON null document. Unknown properties are skipped.</summary>
    public static ContainerRecord? Read(ReadOnlySpan<byte> utf8)
    {
        var r = new Utf8JsonReader(utf8);
        Next(ref r);
        if (r.TokenType == JsonTokenType.Null)
        {
            return End<ContainerRecord?>(ref r, null);
        }

        Expect(ref r, JsonTokenType.StartObject, "state.json");
        var record = new ContainerRecord();
        while (true)
        {
            Next(ref r);
            if (r.TokenType == JsonTokenType.EndObject)
            {
                return End(ref r, record);
            }

            if (r.ValueTextEquals("id"u8)) record.Id = ReadString(ref r, "id");
            else if (r.ValueTextEquals("bundle"u8)) record.Bundle = ReadString(ref r, "bundle");
            else if (r.ValueTextEquals("rootfs"u8)) record.Rootfs = ReadString(ref r, "rootfs");
            else if (r.ValueTextEquals("pid"u8)) record.Pid = ReadInt32(ref r, "pid");
            else if (r.ValueTextEquals("pidStartTime"u8)) record.PidStartTime = ReadUInt64(ref r, "pidStartTime");
            else if (r.ValueTextEquals("created"u8)) record.Created = ReadCreated(ref r);
            else if (r.ValueTextEquals("cgroupsPath"u8)) record.CgroupsPath = ReadNullableString(ref r, "cgroupsPath");
            else if (r.ValueTextEquals("cgroupPaths"u8)) record.CgroupPaths = ReadMap(ref r);
            else if (r.ValueTextEquals("owner"u8)) record.Owner = ReadString(ref r, "owner");
            else if (r.ValueTextEquals("started"u8)) record.Started = ReadBool(ref r, "started");
            else r.Skip();
        }
    }

    private static void WriteString(Utf8JsonWriter w, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static T End<T>(ref Utf8JsonReader r, T value)
    {
        // Throws on anything but whitespace after the document, as the serializer does.
        return r.Read() ? throw new JsonException("state.json: unexpected data after the document") : value;
    }

    private static void Next(ref Utf8JsonReader r) => JsonFields.Next(ref r, Doc);

    private static void Expect(ref Utf8JsonReader r, JsonTokenType token, string field) => JsonFields.Expect(ref r, token, Doc, field);

    private static string ReadString(ref Utf8JsonReader r, string field) =>
        ReadNullableString(ref r, field) ?? throw new JsonException($"state.json: {field}: expected a string, found null");

    private static string? ReadNullableString(ref Utf8JsonReader r, string field) => JsonFields.NullableString(ref r, Doc, field);

    private static bool ReadBool(ref Utf8JsonReader r, string field) => JsonFields.Bool(ref r, Doc, field);

    private static int ReadInt32(ref Utf8JsonReader r, string field) => JsonFields.Int32(ref r, Doc, field);

    private static ulong ReadUInt64(ref Utf8JsonReader r, string field)
    {
        Next(ref r);
        return r.TokenType == JsonTokenType.Number && r.TryGetUInt64(out var value)
            ? value
            : throw new JsonException($"state.json: {field}: expected an unsigned 64-bit integer");
    }

    private static DateTimeOffset ReadCreated(ref Utf8JsonReader r)
    {
        Next(ref r);
        return r.TokenType == JsonTokenType.String && r.TryGetDateTimeOffset(out var created)
            ? created
            : throw new JsonException("state.json: created: expected an ISO 8601 time");
    }

    private static Dictionary<string, string> ReadMap(ref Utf8JsonReader r)
    {
        Next(ref r);
        if (r.TokenType == JsonTokenType.Null)
        {
            return [];
        }

        Expect(ref r, JsonTokenType.StartObject, "cgroupPaths");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (true)
        {
            Next(ref r);
            if (r.TokenType == JsonTokenType.EndObject)
            {
                return map;
            }

            var key = r.GetString()!;
            map[key] = ReadString(ref r, "cgroupPaths");
        }
    }
}

/// <summary>
/// The runtime's state directory (runc's <c>--root</c>): one directory per container holding
/// state.json, the config the container was created from, and the exec fifo while "created".
/// </summary>
public sealed class StateStore
{
    public const string DefaultRoot = "/run/dashboard/runtime";

    private const string StateFile = "state.json";
    private const string StateTempFile = ".state.json.tmp";
    private const string ConfigFile = "config.json";
    private const string FifoFile = "exec.fifo";

    /// <summary>Every file this store writes in a container's directory (<see cref="Remove"/> unlinks them by name).</summary>
    private static readonly string[] s_files = [StateFile, ConfigFile, FifoFile, StateTempFile];

    public StateStore(string root)
    {
        Root = System.IO.Path.GetFullPath(root);
    }

    public string Root { get; }

    public string DirectoryOf(string id)
    {
        ContainerId.Validate(id);
        return System.IO.Path.Combine(Root, id);
    }

    public string FifoPath(string id) => System.IO.Path.Combine(DirectoryOf(id), FifoFile);

    public string ConfigPath(string id) => System.IO.Path.Combine(DirectoryOf(id), ConfigFile);

    /// <summary>Reserves the id with mkdir(2), which fails when another create holds it.</summary>
    public string Reserve(string id)
    {
        var dir = DirectoryOf(id);
        Directory.CreateDirectory(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var errno = Sys.TryMkdirAt(OpenFlags.AT_FDCWD, dir, 0x1C9 /* 0711 */);
        if (errno == Errno.EEXIST)
        {
            throw new RuntimeException(ErrorKind.AlreadyExists, $"container with id \"{id}\" already exists");
        }

        return errno != 0 ? throw RuntimeException.Wrap("create state directory", new SyscallException("mkdir", errno, dir)) : dir;
    }

    public bool Exists(string id) => File.Exists(System.IO.Path.Combine(DirectoryOf(id), StateFile));

    public ContainerRecord Load(string id)
    {
        var path = System.IO.Path.Combine(DirectoryOf(id), StateFile);
        try
        {
            return ContainerRecordJson.Read(File.ReadAllBytes(path)) ?? throw RuntimeException.NotFound(id);
        }
        catch (FileNotFoundException)
        {
            throw RuntimeException.NotFound(id);
        }
        catch (DirectoryNotFoundException)
        {
            throw RuntimeException.NotFound(id);
        }
    }

    public Spec LoadConfig(string id) => RuntimeJson.ParseSpec(File.ReadAllBytes(ConfigPath(id)));

    /// <summary>
    /// Writes state.json atomically (temp file, rename). Not fsynced: the state root is runtime
    /// state (tmpfs under /run by default, as runc's), meaningless after a reboot, and an fsync
    /// here cost more than the rest of <c>create</c> on a busy disk.
    /// </summary>
    public void Save(ContainerRecord record)
    {
        var dir = DirectoryOf(record.Id);
        var tmp = System.IO.Path.Combine(dir, StateTempFile);
        File.WriteAllBytes(tmp, ContainerRecordJson.Write(record));
        File.Move(tmp, System.IO.Path.Combine(dir, StateFile), overwrite: true);
    }

    public void SaveConfig(string id, Spec spec) => File.WriteAllBytes(ConfigPath(id), RuntimeJson.SerializeToUtf8(spec));

    public void Remove(string id)
    {
        var dir = DirectoryOf(id);
        // The files this store writes, by name (a recursive delete lists and stats the directory first);
        // anything else found there falls back to the recursive delete.
        foreach (var name in s_files)
        {
            _ = Sys.TryUnlinkAt(OpenFlags.AT_FDCWD, System.IO.Path.Combine(dir, name), 0);
        }

        var errno = Sys.TryUnlinkAt(OpenFlags.AT_FDCWD, dir, OpenFlags.AT_REMOVEDIR);
        if (errno is 0 or Errno.ENOENT)
        {
            return;
        }

        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public IEnumerable<string> ListIds()
    {
        if (!Directory.Exists(Root))
        {
            yield break;
        }

        foreach (var dir in Directory.EnumerateDirectories(Root).Order(StringComparer.Ordinal))
        {
            var id = System.IO.Path.GetFileName(dir);
            if (File.Exists(System.IO.Path.Combine(dir, StateFile)))
            {
                yield return id;
            }
        }
    }
}
