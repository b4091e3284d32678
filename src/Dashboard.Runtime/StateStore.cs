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

[JsonSourceGenerationOptions(WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ContainerRecord))]
internal sealed partial class StateJsonContext : JsonSerializerContext;

/// <summary>
/// The runtime's state directory (runc's <c>--root</c>): one directory per container holding
/// state.json, the config the container was created from, and the exec fifo while "created".
/// </summary>
public sealed class StateStore
{
    public const string DefaultRoot = "/run/dashboard/runtime";

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

    public string FifoPath(string id) => System.IO.Path.Combine(DirectoryOf(id), "exec.fifo");

    public string ConfigPath(string id) => System.IO.Path.Combine(DirectoryOf(id), "config.json");

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

    public bool Exists(string id) => File.Exists(System.IO.Path.Combine(DirectoryOf(id), "state.json"));

    public ContainerRecord Load(string id)
    {
        var path = System.IO.Path.Combine(DirectoryOf(id), "state.json");
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), StateJsonContext.Default.ContainerRecord)
                ?? throw RuntimeException.NotFound(id);
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
        var tmp = System.IO.Path.Combine(dir, ".state.json.tmp");
        File.WriteAllBytes(tmp, JsonSerializer.SerializeToUtf8Bytes(record, StateJsonContext.Default.ContainerRecord));
        File.Move(tmp, System.IO.Path.Combine(dir, "state.json"), overwrite: true);
    }

    public void SaveConfig(string id, Spec spec) => File.WriteAllBytes(ConfigPath(id), RuntimeJson.SerializeToUtf8(spec));

    public void Remove(string id)
    {
        var dir = DirectoryOf(id);
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
            if (File.Exists(System.IO.Path.Combine(dir, "state.json")))
            {
                yield return id;
            }
        }
    }
}
