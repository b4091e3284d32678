using System.Text.Json;
using System.Text.Json.Serialization;
using Dashboard.Linux;
using Dashboard.Linux.Fs;
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
}

/// <summary>
/// state.json by hand over Utf8JsonReader and <see cref="JsonText"/>, with the output the source-generated
/// serializer gave it (compact, nulls left out, declaration order): every CLI verb reads or writes it, and JsonSerializer's first use costs
/// more than the rest of the file handling.
/// </summary>
public static class ContainerRecordJson
{
    private const string Doc = "state.json";

    public static byte[] Write(ContainerRecord record)
    {
        var w = new JsonText()
            .StartObject()
            .String("id", record.Id)
            .String("bundle", record.Bundle)
            .String("rootfs", record.Rootfs)
            .Number("pid", record.Pid)
            .Number("pidStartTime", record.PidStartTime)
            .Time("created", record.Created)
            .String("cgroupsPath", record.CgroupsPath);
        if (record.CgroupPaths is { } paths)
        {
            w.StartObject("cgroupPaths");
            foreach (var (key, value) in paths)
            {
                if (value is null)
                {
                    w.Null(key);
                }
                else
                {
                    w.String(key, value);
                }
            }

            w.EndObject();
        }

        return w.String("owner", record.Owner).EndObject().ToUtf8();
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
            else r.Skip();
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
/// The runtime's state directory (runc's <c>--root</c>), flat: for container <c>ID</c> an empty file <c>ID</c> that
/// reserves the id (created exclusively, removed last), <c>ID@state.json</c>, <c>ID@config.json</c> (the config the
/// container was created from) and, while "created", the exec fifo <c>ID@exec.fifo</c>. <c>@</c> never occurs in an
/// id, so no two containers' names meet. Containers created by earlier versions, with a directory <c>ID/</c> holding
/// state.json, config.json and exec.fifo, are still read and removed.
/// </summary>
/// <remarks>
/// No directory per container: on ext4 a directory always has a block, and where the state root is mounted with
/// <c>discard</c> (this project's CI hosts) removing one waits for a synchronous discard, 0.3–2.6 ms per container
/// measured. Nor is a state file ever replaced (ext4 would allocate its blocks at once, auto_da_alloc, and their
/// release on delete is a discard too): state.json is written once, under a name that did not exist.
/// </remarks>
public sealed class StateStore
{
    public const string DefaultRoot = "/run/dashboard/runtime";

    private const char Separator = '@';
    private const string StateSuffix = "@state.json";
    private const string ConfigSuffix = "@config.json";
    private const string FifoSuffix = "@exec.fifo";

    // The layout of earlier versions: one directory per container.
    private const string LegacyStateFile = "state.json";
    private const string LegacyStateTempFile = ".state.json.tmp";
    private const string LegacyConfigFile = "config.json";
    private const string LegacyFifoFile = "exec.fifo";
    private static readonly string[] s_legacyFiles = [LegacyStateFile, LegacyConfigFile, LegacyFifoFile, LegacyStateTempFile];

    public StateStore(string root)
    {
        Root = System.IO.Path.GetFullPath(root);
    }

    public string Root { get; }

    /// <summary>The file that reserves <paramref name="id"/> (a directory for a container of an earlier version).</summary>
    public string EntryOf(string id)
    {
        ContainerId.Validate(id);
        return System.IO.Path.Combine(Root, id);
    }

    public string FifoPath(string id) => PathOf(id, id + FifoSuffix, LegacyFifoFile);

    public string ConfigPath(string id) => PathOf(id, id + ConfigSuffix, LegacyConfigFile);

    private string StatePath(string id) => PathOf(id, id + StateSuffix, LegacyStateFile);

    private string StateTempPath(string id) => PathOf(id, StateTempName(id), LegacyStateTempFile);

    /// <summary>Starts with '.', which no id does, so it never names another container's file.</summary>
    private static string StateTempName(string id) => "." + id + StateSuffix + ".tmp";

    /// <summary><paramref name="flatName"/> in the root, or <paramref name="legacyName"/> in the container's directory of an earlier version.</summary>
    private string PathOf(string id, string flatName, string legacyName)
    {
        var entry = EntryOf(id);
        return IsLegacy(entry) ? System.IO.Path.Combine(entry, legacyName) : System.IO.Path.Combine(Root, flatName);
    }

    private static bool IsLegacy(string entry) => Sys.TryStat(entry, follow: false, out var st) && (st.Mode & 0xF000) == 0x4000 /* S_IFDIR */;

    /// <summary>Reserves the id by creating its entry exclusively (O_EXCL), which fails while another container holds it.</summary>
    public string Reserve(string id)
    {
        var entry = EntryOf(id);
        var errno = CreateExclusive(entry);
        if (errno == Errno.ENOENT)
        {
            // The first container under this root: make the root (and its parents) and try again.
            Directory.CreateDirectory(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            errno = CreateExclusive(entry);
        }

        if (errno == Errno.EEXIST)
        {
            throw new RuntimeException(ErrorKind.AlreadyExists, $"container with id \"{id}\" already exists");
        }

        return errno != 0 ? throw RuntimeException.Wrap("create state entry", new SyscallException("open", errno, entry)) : entry;
    }

    private static int CreateExclusive(string path)
    {
        var fd = Sys.TryOpen(path, OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_EXCL, 0x180 /* 0600 */);
        if (fd < 0)
        {
            return Sys.LastErrno;
        }

        Sys.Close(fd);
        return 0;
    }

    public bool Exists(string id) => Sys.TryStat(StatePath(id), follow: true, out _);

    public ContainerRecord Load(string id)
    {
        var path = StatePath(id);
        var errno = SmallFiles.TryReadAllBytes(path, out var bytes);
        if (errno is Errno.ENOENT or Errno.ENOTDIR)
        {
            throw RuntimeException.NotFound(id);
        }

        return errno != 0
            ? throw new SyscallException("read", errno, path)
            : ContainerRecordJson.Read(bytes) ?? throw RuntimeException.NotFound(id);
    }

    public Spec LoadConfig(string id) => RuntimeJson.ParseSpec(SmallFiles.ReadAllBytes(ConfigPath(id)));

    /// <summary>
    /// Writes state.json atomically (temp file, rename). Not fsynced: the state root is runtime
    /// state (tmpfs under /run by default, as runc's), meaningless after a reboot, and an fsync
    /// here cost more than the rest of <c>create</c> on a busy disk.
    /// </summary>
    public void Save(ContainerRecord record)
    {
        Stage(record);
        Publish(record.Id);
    }

    /// <summary>The first half of <see cref="Save"/>: writes the state to its temp file, which no verb reads.</summary>
    public void Stage(ContainerRecord record) => SmallFiles.WriteAllBytes(StateTempPath(record.Id), ContainerRecordJson.Write(record));

    /// <summary>The second half of <see cref="Save"/>: renames the staged state into place, where later verbs find it.</summary>
    public void Publish(string id) => SmallFiles.Rename(StateTempPath(id), StatePath(id));

    public void SaveConfig(string id, Spec spec) => SaveConfig(id, RuntimeJson.SerializeToUtf8(spec));

    /// <summary>Saves config.json as given: create passes the bundle's bytes it parsed, so later verbs see the config as it was then.</summary>
    public void SaveConfig(string id, ReadOnlySpan<byte> configJson) => SmallFiles.WriteAllBytes(ConfigPath(id), configJson);

    /// <summary>Removes every file of the container, the reserving entry last (so the id stays taken until the end).</summary>
    public void Remove(string id)
    {
        var entry = EntryOf(id);
        if (IsLegacy(entry))
        {
            RemoveLegacy(entry);
            return;
        }

        foreach (var name in (string[])[id + FifoSuffix, id + ConfigSuffix, StateTempName(id), id + StateSuffix, id])
        {
            var path = System.IO.Path.Combine(Root, name);
            var errno = Sys.TryUnlinkAt(OpenFlags.AT_FDCWD, path, 0);
            if (errno is not (0 or Errno.ENOENT))
            {
                throw new SyscallException("unlink", errno, path);
            }
        }
    }

    private static void RemoveLegacy(string dir)
    {
        // The files this store wrote, by name (a recursive delete lists and stats the directory first);
        // anything else found there falls back to the recursive delete.
        foreach (var name in s_legacyFiles)
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

    /// <summary>Ids with a saved state (a container still being created has none yet), in ordinal order.</summary>
    public IEnumerable<string> ListIds()
    {
        if (!Directory.Exists(Root))
        {
            yield break;
        }

        var ids = new List<string>();
        foreach (var path in Directory.EnumerateFileSystemEntries(Root))
        {
            var name = System.IO.Path.GetFileName(path);
            if (name.StartsWith('.') || name.Contains(Separator, StringComparison.Ordinal))
            {
                continue;
            }

            var state = IsLegacy(path) ? System.IO.Path.Combine(path, LegacyStateFile) : path + StateSuffix;
            if (File.Exists(state))
            {
                ids.Add(name);
            }
        }

        ids.Sort(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            yield return id;
        }
    }
}
