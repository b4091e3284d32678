using System.Text;
using System.Text.Json;

namespace Dashboard.Oci.Runtime;

/// <summary>
/// A hand-written reader for config.json (and the <c>process</c> and <c>resources</c> documents of
/// <c>exec --process</c> and <c>update</c>) over <see cref="Utf8JsonReader"/>. It builds the same
/// object graph as the source-generated serializer but without JsonSerializer's metadata, whose
/// first-use set-up cost several milliseconds of every <c>create</c>.
/// </summary>
/// <remarks>
/// Rules, as the serializer's options in <see cref="RuntimeJsonContext"/>: names match
/// case-sensitively (escaped names are unescaped first), unknown properties are skipped, a property
/// or map key given twice is refused (security.md D4: whoever checks a config and the runtime must
/// see one object), numbers must be JSON numbers in range without a fraction, no comments or
/// trailing commas, depth at most 64. Unlike the serializer, JSON <c>null</c> is refused where the
/// model has no null (<c>root.path</c>, <c>process.user</c>, list elements, map values): the schema
/// forbids it and the runtime would fail later on it. Errors are <see cref="JsonException"/>s whose
/// message starts with the path of the offending value (<c>process.user.uid: expected …</c>).
/// </remarks>
public static class SpecReader
{
    public static Spec ReadSpec(ReadOnlySpan<byte> utf8) =>
        Read(utf8, "config.json", static (ref SpecParser p) => p.ReadSpec());

    public static Process ReadProcess(ReadOnlySpan<byte> utf8) =>
        Read(utf8, "process.json", static (ref SpecParser p) => p.ReadProcess());

    public static Resources ReadResources(ReadOnlySpan<byte> utf8) =>
        Read(utf8, "resources", static (ref SpecParser p) => p.ReadResources());

    private static T Read<T>(ReadOnlySpan<byte> utf8, string what, SpecParser.ValueReader<T> read)
        where T : class
    {
        var parser = new SpecParser(utf8);
        return parser.ReadDocument(what, read);
    }
}

/// <summary>The parser state: the JSON reader plus the path of the current value, for error messages.</summary>
internal ref struct SpecParser
{
    private const int MaxDepth = 64;

    private readonly ReadOnlySpan<byte> _utf8;
    private Utf8JsonReader _reader;

    // The path as a stack of segments: a property name or map key (by the offset of its token in
    // the input, decoded only when an error needs it) or an array index.
    private readonly int[] _segments;
    private readonly SegmentKind[] _kinds;
    private int _depth;

    // Set when the current token is an array element already read by NextElement.
    private bool _pending;

    public SpecParser(ReadOnlySpan<byte> utf8)
    {
        _utf8 = utf8;
        _reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = MaxDepth });
        _segments = new int[MaxDepth + 1];
        _kinds = new SegmentKind[MaxDepth + 1];
    }

    public delegate T ValueReader<T>(ref SpecParser parser);

    private enum SegmentKind : byte
    {
        Property,
        Key,
        Index,
    }

    public T ReadDocument<T>(string what, ValueReader<T> read)
        where T : class
    {
        try
        {
            Read();
            if (_reader.TokenType == JsonTokenType.Null)
            {
                throw new JsonException($"{what} is null");
            }

            _pending = true;
            var value = read(ref this);

            // Anything but whitespace after the document is an error (the reader throws).
            if (_reader.Read())
            {
                throw new JsonException("unexpected data after the JSON document");
            }

            return value;
        }
        catch (JsonException e) when (e.Path is null)
        {
            // A syntax error from Utf8JsonReader: say where in the document it happened.
            throw Error(e.Message, e);
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader's GetString on invalid UTF-8 or an invalid escape.
            throw Error(Lowercase(e.Message), e);
        }
    }

    public Spec ReadSpec()
    {
        var spec = new Spec();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("ociVersion"u8, 0, ref seen)) spec.OciVersion = ReadString();
            else if (Is("process"u8, 1, ref seen)) spec.Process = ReadNullable(static (ref SpecParser p) => p.ReadProcess());
            else if (Is("root"u8, 2, ref seen)) spec.Root = ReadNullable(static (ref SpecParser p) => p.ReadRoot());
            else if (Is("hostname"u8, 3, ref seen)) spec.Hostname = ReadNullableString();
            else if (Is("domainname"u8, 4, ref seen)) spec.Domainname = ReadNullableString();
            else if (Is("mounts"u8, 5, ref seen)) spec.Mounts = ReadList(static (ref SpecParser p) => p.ReadMount());
            else if (Is("hooks"u8, 6, ref seen)) spec.Hooks = ReadNullable(static (ref SpecParser p) => p.ReadHooks());
            else if (Is("annotations"u8, 7, ref seen)) spec.Annotations = ReadStringMap();
            else if (Is("linux"u8, 8, ref seen)) spec.Linux = ReadNullable(static (ref SpecParser p) => p.ReadLinux());
            else SkipValue();
        }

        return spec;
    }

    public Process ReadProcess()
    {
        var process = new Process();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("terminal"u8, 0, ref seen)) process.Terminal = ReadBool();
            else if (Is("consoleSize"u8, 1, ref seen)) process.ConsoleSize = ReadNullable(static (ref SpecParser p) => p.ReadConsoleSize());
            else if (Is("user"u8, 2, ref seen)) process.User = ReadUser();
            else if (Is("args"u8, 3, ref seen)) process.Args = ReadStringList();
            else if (Is("commandLine"u8, 4, ref seen)) process.CommandLine = ReadNullableString();
            else if (Is("env"u8, 5, ref seen)) process.Env = ReadStringList();
            else if (Is("cwd"u8, 6, ref seen)) process.Cwd = ReadString();
            else if (Is("capabilities"u8, 7, ref seen)) process.Capabilities = ReadNullable(static (ref SpecParser p) => p.ReadCapabilities());
            else if (Is("rlimits"u8, 8, ref seen)) process.Rlimits = ReadList(static (ref SpecParser p) => p.ReadRlimit());
            else if (Is("noNewPrivileges"u8, 9, ref seen)) process.NoNewPrivileges = ReadBool();
            else if (Is("apparmorProfile"u8, 10, ref seen)) process.ApparmorProfile = ReadNullableString();
            else if (Is("oomScoreAdj"u8, 11, ref seen)) process.OomScoreAdj = ReadNullableInt32();
            else if (Is("selinuxLabel"u8, 12, ref seen)) process.SelinuxLabel = ReadNullableString();
            else if (Is("ioPriority"u8, 13, ref seen)) process.IoPriority = ReadNullable(static (ref SpecParser p) => p.ReadIoPriority());
            else if (Is("scheduler"u8, 14, ref seen)) process.Scheduler = ReadNullable(static (ref SpecParser p) => p.ReadScheduler());
            else if (Is("execCPUAffinity"u8, 15, ref seen)) process.ExecCpuAffinity = ReadNullable(static (ref SpecParser p) => p.ReadCpuAffinity());
            else SkipValue();
        }

        return process;
    }

    public Resources ReadResources()
    {
        var resources = new Resources();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("devices"u8, 0, ref seen)) resources.Devices = ReadList(static (ref SpecParser p) => p.ReadDeviceCgroup());
            else if (Is("memory"u8, 1, ref seen)) resources.Memory = ReadNullable(static (ref SpecParser p) => p.ReadMemory());
            else if (Is("cpu"u8, 2, ref seen)) resources.Cpu = ReadNullable(static (ref SpecParser p) => p.ReadCpu());
            else if (Is("pids"u8, 3, ref seen)) resources.Pids = ReadNullable(static (ref SpecParser p) => p.ReadPids());
            else if (Is("blockIO"u8, 4, ref seen)) resources.BlockIo = ReadNullable(static (ref SpecParser p) => p.ReadBlockIo());
            else if (Is("hugepageLimits"u8, 5, ref seen)) resources.HugepageLimits = ReadList(static (ref SpecParser p) => p.ReadHugepageLimit());
            else if (Is("network"u8, 6, ref seen)) resources.Network = ReadNullable(static (ref SpecParser p) => p.ReadNetwork());
            else if (Is("rdma"u8, 7, ref seen)) resources.Rdma = ReadMap(static (ref SpecParser p) => p.ReadRdmaLimit());
            else if (Is("unified"u8, 8, ref seen)) resources.Unified = ReadStringMap();
            else SkipValue();
        }

        return resources;
    }

    private Root ReadRoot()
    {
        var root = new Root();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("path"u8, 0, ref seen)) root.Path = ReadString();
            else if (Is("readonly"u8, 1, ref seen)) root.Readonly = ReadBool();
            else SkipValue();
        }

        return root;
    }

    private ConsoleSize ReadConsoleSize()
    {
        var size = new ConsoleSize();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("height"u8, 0, ref seen)) size.Height = ReadUInt32();
            else if (Is("width"u8, 1, ref seen)) size.Width = ReadUInt32();
            else SkipValue();
        }

        return size;
    }

    private User ReadUser()
    {
        var user = new User();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("uid"u8, 0, ref seen)) user.Uid = ReadUInt32();
            else if (Is("gid"u8, 1, ref seen)) user.Gid = ReadUInt32();
            else if (Is("umask"u8, 2, ref seen)) user.Umask = ReadNullableUInt32();
            else if (Is("additionalGids"u8, 3, ref seen)) user.AdditionalGids = ReadList(static (ref SpecParser p) => p.ReadUInt32());
            else if (Is("username"u8, 4, ref seen)) user.Username = ReadNullableString();
            else SkipValue();
        }

        return user;
    }

    private Capabilities ReadCapabilities()
    {
        var caps = new Capabilities();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("bounding"u8, 0, ref seen)) caps.Bounding = ReadStringList();
            else if (Is("effective"u8, 1, ref seen)) caps.Effective = ReadStringList();
            else if (Is("inheritable"u8, 2, ref seen)) caps.Inheritable = ReadStringList();
            else if (Is("permitted"u8, 3, ref seen)) caps.Permitted = ReadStringList();
            else if (Is("ambient"u8, 4, ref seen)) caps.Ambient = ReadStringList();
            else SkipValue();
        }

        return caps;
    }

    private Rlimit ReadRlimit()
    {
        var rlimit = new Rlimit();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("type"u8, 0, ref seen)) rlimit.Type = ReadString();
            else if (Is("hard"u8, 1, ref seen)) rlimit.Hard = ReadUInt64();
            else if (Is("soft"u8, 2, ref seen)) rlimit.Soft = ReadUInt64();
            else SkipValue();
        }

        return rlimit;
    }

    private IoPriority ReadIoPriority()
    {
        var priority = new IoPriority();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("class"u8, 0, ref seen)) priority.Class = ReadString();
            else if (Is("priority"u8, 1, ref seen)) priority.Priority = ReadInt32();
            else SkipValue();
        }

        return priority;
    }

    private Scheduler ReadScheduler()
    {
        var scheduler = new Scheduler();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("policy"u8, 0, ref seen)) scheduler.Policy = ReadString();
            else if (Is("nice"u8, 1, ref seen)) scheduler.Nice = ReadNullableInt32();
            else if (Is("priority"u8, 2, ref seen)) scheduler.Priority = ReadNullableInt32();
            else if (Is("flags"u8, 3, ref seen)) scheduler.Flags = ReadStringList();
            else if (Is("runtime"u8, 4, ref seen)) scheduler.Runtime = ReadNullableUInt64();
            else if (Is("deadline"u8, 5, ref seen)) scheduler.Deadline = ReadNullableUInt64();
            else if (Is("period"u8, 6, ref seen)) scheduler.Period = ReadNullableUInt64();
            else SkipValue();
        }

        return scheduler;
    }

    private CpuAffinity ReadCpuAffinity()
    {
        var affinity = new CpuAffinity();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("initial"u8, 0, ref seen)) affinity.Initial = ReadNullableString();
            else if (Is("final"u8, 1, ref seen)) affinity.Final = ReadNullableString();
            else SkipValue();
        }

        return affinity;
    }

    private Mount ReadMount()
    {
        var mount = new Mount();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("destination"u8, 0, ref seen)) mount.Destination = ReadString();
            else if (Is("type"u8, 1, ref seen)) mount.Type = ReadNullableString();
            else if (Is("source"u8, 2, ref seen)) mount.Source = ReadNullableString();
            else if (Is("options"u8, 3, ref seen)) mount.Options = ReadStringList();
            else if (Is("uidMappings"u8, 4, ref seen)) mount.UidMappings = ReadList(static (ref SpecParser p) => p.ReadIdMapping());
            else if (Is("gidMappings"u8, 5, ref seen)) mount.GidMappings = ReadList(static (ref SpecParser p) => p.ReadIdMapping());
            else SkipValue();
        }

        return mount;
    }

    private IdMapping ReadIdMapping()
    {
        var mapping = new IdMapping();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("containerID"u8, 0, ref seen)) mapping.ContainerId = ReadUInt32();
            else if (Is("hostID"u8, 1, ref seen)) mapping.HostId = ReadUInt32();
            else if (Is("size"u8, 2, ref seen)) mapping.Size = ReadUInt32();
            else SkipValue();
        }

        return mapping;
    }

    private Hooks ReadHooks()
    {
        var hooks = new Hooks();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("prestart"u8, 0, ref seen)) hooks.Prestart = ReadList(static (ref SpecParser p) => p.ReadHook());
            else if (Is("createRuntime"u8, 1, ref seen)) hooks.CreateRuntime = ReadList(static (ref SpecParser p) => p.ReadHook());
            else if (Is("createContainer"u8, 2, ref seen)) hooks.CreateContainer = ReadList(static (ref SpecParser p) => p.ReadHook());
            else if (Is("startContainer"u8, 3, ref seen)) hooks.StartContainer = ReadList(static (ref SpecParser p) => p.ReadHook());
            else if (Is("poststart"u8, 4, ref seen)) hooks.Poststart = ReadList(static (ref SpecParser p) => p.ReadHook());
            else if (Is("poststop"u8, 5, ref seen)) hooks.Poststop = ReadList(static (ref SpecParser p) => p.ReadHook());
            else SkipValue();
        }

        return hooks;
    }

    private Hook ReadHook()
    {
        var hook = new Hook();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("path"u8, 0, ref seen)) hook.Path = ReadString();
            else if (Is("args"u8, 1, ref seen)) hook.Args = ReadStringList();
            else if (Is("env"u8, 2, ref seen)) hook.Env = ReadStringList();
            else if (Is("timeout"u8, 3, ref seen)) hook.Timeout = ReadNullableInt32();
            else SkipValue();
        }

        return hook;
    }

    private Linux ReadLinux()
    {
        var linux = new Linux();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("namespaces"u8, 0, ref seen)) linux.Namespaces = ReadList(static (ref SpecParser p) => p.ReadNamespace());
            else if (Is("uidMappings"u8, 1, ref seen)) linux.UidMappings = ReadList(static (ref SpecParser p) => p.ReadIdMapping());
            else if (Is("gidMappings"u8, 2, ref seen)) linux.GidMappings = ReadList(static (ref SpecParser p) => p.ReadIdMapping());
            else if (Is("timeOffsets"u8, 3, ref seen)) linux.TimeOffsets = ReadMap(static (ref SpecParser p) => p.ReadTimeOffset());
            else if (Is("devices"u8, 4, ref seen)) linux.Devices = ReadList(static (ref SpecParser p) => p.ReadDevice());
            else if (Is("netDevices"u8, 5, ref seen)) linux.NetDevices = ReadMap(static (ref SpecParser p) => p.ReadNetDevice());
            else if (Is("cgroupsPath"u8, 6, ref seen)) linux.CgroupsPath = ReadNullableString();
            else if (Is("resources"u8, 7, ref seen)) linux.Resources = ReadNullable(static (ref SpecParser p) => p.ReadResources());
            else if (Is("rootfsPropagation"u8, 8, ref seen)) linux.RootfsPropagation = ReadNullableString();
            else if (Is("seccomp"u8, 9, ref seen)) linux.Seccomp = ReadNullable(static (ref SpecParser p) => p.ReadSeccomp());
            else if (Is("sysctl"u8, 10, ref seen)) linux.Sysctl = ReadStringMap();
            else if (Is("maskedPaths"u8, 11, ref seen)) linux.MaskedPaths = ReadStringList();
            else if (Is("readonlyPaths"u8, 12, ref seen)) linux.ReadonlyPaths = ReadStringList();
            else if (Is("mountLabel"u8, 13, ref seen)) linux.MountLabel = ReadNullableString();
            else if (Is("personality"u8, 14, ref seen)) linux.Personality = ReadNullable(static (ref SpecParser p) => p.ReadPersonality());
            else if (Is("intelRdt"u8, 15, ref seen)) linux.IntelRdt = ReadNullable(static (ref SpecParser p) => p.ReadIntelRdt());
            else if (Is("memoryPolicy"u8, 16, ref seen)) linux.MemoryPolicy = ReadNullable(static (ref SpecParser p) => p.ReadMemoryPolicy());
            else SkipValue();
        }

        return linux;
    }

    private Namespace ReadNamespace()
    {
        var ns = new Namespace();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("type"u8, 0, ref seen)) ns.Type = ReadString();
            else if (Is("path"u8, 1, ref seen)) ns.Path = ReadNullableString();
            else SkipValue();
        }

        return ns;
    }

    private TimeOffset ReadTimeOffset()
    {
        var offset = new TimeOffset();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("secs"u8, 0, ref seen)) offset.Secs = ReadInt64();
            else if (Is("nanosecs"u8, 1, ref seen)) offset.Nanosecs = ReadUInt32();
            else SkipValue();
        }

        return offset;
    }

    private Device ReadDevice()
    {
        var device = new Device();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("type"u8, 0, ref seen)) device.Type = ReadString();
            else if (Is("path"u8, 1, ref seen)) device.Path = ReadString();
            else if (Is("major"u8, 2, ref seen)) device.Major = ReadInt64();
            else if (Is("minor"u8, 3, ref seen)) device.Minor = ReadInt64();
            else if (Is("fileMode"u8, 4, ref seen)) device.FileMode = ReadNullableUInt32();
            else if (Is("uid"u8, 5, ref seen)) device.Uid = ReadNullableUInt32();
            else if (Is("gid"u8, 6, ref seen)) device.Gid = ReadNullableUInt32();
            else SkipValue();
        }

        return device;
    }

    private NetDevice ReadNetDevice()
    {
        var device = new NetDevice();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("name"u8, 0, ref seen)) device.Name = ReadNullableString();
            else SkipValue();
        }

        return device;
    }

    private Personality ReadPersonality()
    {
        var personality = new Personality();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("domain"u8, 0, ref seen)) personality.Domain = ReadString();
            else if (Is("flags"u8, 1, ref seen)) personality.Flags = ReadStringList();
            else SkipValue();
        }

        return personality;
    }

    private IntelRdt ReadIntelRdt()
    {
        var rdt = new IntelRdt();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("closID"u8, 0, ref seen)) rdt.ClosId = ReadNullableString();
            else if (Is("l3CacheSchema"u8, 1, ref seen)) rdt.L3CacheSchema = ReadNullableString();
            else if (Is("memBwSchema"u8, 2, ref seen)) rdt.MemBwSchema = ReadNullableString();
            else SkipValue();
        }

        return rdt;
    }

    private MemoryPolicy ReadMemoryPolicy()
    {
        var policy = new MemoryPolicy();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("mode"u8, 0, ref seen)) policy.Mode = ReadString();
            else if (Is("nodes"u8, 1, ref seen)) policy.Nodes = ReadNullableString();
            else if (Is("flags"u8, 2, ref seen)) policy.Flags = ReadStringList();
            else SkipValue();
        }

        return policy;
    }

    private DeviceCgroup ReadDeviceCgroup()
    {
        var rule = new DeviceCgroup();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("allow"u8, 0, ref seen)) rule.Allow = ReadBool();
            else if (Is("type"u8, 1, ref seen)) rule.Type = ReadNullableString();
            else if (Is("major"u8, 2, ref seen)) rule.Major = ReadNullableInt64();
            else if (Is("minor"u8, 3, ref seen)) rule.Minor = ReadNullableInt64();
            else if (Is("access"u8, 4, ref seen)) rule.Access = ReadNullableString();
            else SkipValue();
        }

        return rule;
    }

    private MemoryResources ReadMemory()
    {
        var memory = new MemoryResources();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("limit"u8, 0, ref seen)) memory.Limit = ReadNullableInt64();
            else if (Is("reservation"u8, 1, ref seen)) memory.Reservation = ReadNullableInt64();
            else if (Is("swap"u8, 2, ref seen)) memory.Swap = ReadNullableInt64();
            else if (Is("kernel"u8, 3, ref seen)) memory.Kernel = ReadNullableInt64();
            else if (Is("kernelTCP"u8, 4, ref seen)) memory.KernelTcp = ReadNullableInt64();
            else if (Is("swappiness"u8, 5, ref seen)) memory.Swappiness = ReadNullableUInt64();
            else if (Is("disableOOMKiller"u8, 6, ref seen)) memory.DisableOomKiller = ReadNullableBool();
            else if (Is("useHierarchy"u8, 7, ref seen)) memory.UseHierarchy = ReadNullableBool();
            else if (Is("checkBeforeUpdate"u8, 8, ref seen)) memory.CheckBeforeUpdate = ReadNullableBool();
            else SkipValue();
        }

        return memory;
    }

    private CpuResources ReadCpu()
    {
        var cpu = new CpuResources();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("shares"u8, 0, ref seen)) cpu.Shares = ReadNullableUInt64();
            else if (Is("quota"u8, 1, ref seen)) cpu.Quota = ReadNullableInt64();
            else if (Is("burst"u8, 2, ref seen)) cpu.Burst = ReadNullableUInt64();
            else if (Is("period"u8, 3, ref seen)) cpu.Period = ReadNullableUInt64();
            else if (Is("realtimeRuntime"u8, 4, ref seen)) cpu.RealtimeRuntime = ReadNullableInt64();
            else if (Is("realtimePeriod"u8, 5, ref seen)) cpu.RealtimePeriod = ReadNullableUInt64();
            else if (Is("cpus"u8, 6, ref seen)) cpu.Cpus = ReadNullableString();
            else if (Is("mems"u8, 7, ref seen)) cpu.Mems = ReadNullableString();
            else if (Is("idle"u8, 8, ref seen)) cpu.Idle = ReadNullableInt64();
            else SkipValue();
        }

        return cpu;
    }

    private PidsResources ReadPids()
    {
        var pids = new PidsResources();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("limit"u8, 0, ref seen)) pids.Limit = ReadInt64();
            else SkipValue();
        }

        return pids;
    }

    private BlockIo ReadBlockIo()
    {
        var blockIo = new BlockIo();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("weight"u8, 0, ref seen)) blockIo.Weight = ReadNullableUInt16();
            else if (Is("leafWeight"u8, 1, ref seen)) blockIo.LeafWeight = ReadNullableUInt16();
            else if (Is("weightDevice"u8, 2, ref seen)) blockIo.WeightDevice = ReadList(static (ref SpecParser p) => p.ReadWeightDevice());
            else if (Is("throttleReadBpsDevice"u8, 3, ref seen)) blockIo.ThrottleReadBpsDevice = ReadList(static (ref SpecParser p) => p.ReadThrottleDevice());
            else if (Is("throttleWriteBpsDevice"u8, 4, ref seen)) blockIo.ThrottleWriteBpsDevice = ReadList(static (ref SpecParser p) => p.ReadThrottleDevice());
            else if (Is("throttleReadIOPSDevice"u8, 5, ref seen)) blockIo.ThrottleReadIopsDevice = ReadList(static (ref SpecParser p) => p.ReadThrottleDevice());
            else if (Is("throttleWriteIOPSDevice"u8, 6, ref seen)) blockIo.ThrottleWriteIopsDevice = ReadList(static (ref SpecParser p) => p.ReadThrottleDevice());
            else SkipValue();
        }

        return blockIo;
    }

    private WeightDevice ReadWeightDevice()
    {
        var device = new WeightDevice();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("major"u8, 0, ref seen)) device.Major = ReadInt64();
            else if (Is("minor"u8, 1, ref seen)) device.Minor = ReadInt64();
            else if (Is("weight"u8, 2, ref seen)) device.Weight = ReadNullableUInt16();
            else if (Is("leafWeight"u8, 3, ref seen)) device.LeafWeight = ReadNullableUInt16();
            else SkipValue();
        }

        return device;
    }

    private ThrottleDevice ReadThrottleDevice()
    {
        var device = new ThrottleDevice();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("major"u8, 0, ref seen)) device.Major = ReadInt64();
            else if (Is("minor"u8, 1, ref seen)) device.Minor = ReadInt64();
            else if (Is("rate"u8, 2, ref seen)) device.Rate = ReadUInt64();
            else SkipValue();
        }

        return device;
    }

    private HugepageLimit ReadHugepageLimit()
    {
        var limit = new HugepageLimit();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("pageSize"u8, 0, ref seen)) limit.PageSize = ReadString();
            else if (Is("limit"u8, 1, ref seen)) limit.Limit = ReadUInt64();
            else SkipValue();
        }

        return limit;
    }

    private NetworkResources ReadNetwork()
    {
        var network = new NetworkResources();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("classID"u8, 0, ref seen)) network.ClassId = ReadNullableUInt32();
            else if (Is("priorities"u8, 1, ref seen)) network.Priorities = ReadList(static (ref SpecParser p) => p.ReadInterfacePriority());
            else SkipValue();
        }

        return network;
    }

    private InterfacePriority ReadInterfacePriority()
    {
        var priority = new InterfacePriority();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("name"u8, 0, ref seen)) priority.Name = ReadString();
            else if (Is("priority"u8, 1, ref seen)) priority.Priority = ReadUInt32();
            else SkipValue();
        }

        return priority;
    }

    private RdmaLimit ReadRdmaLimit()
    {
        var limit = new RdmaLimit();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("hcaHandles"u8, 0, ref seen)) limit.HcaHandles = ReadNullableUInt32();
            else if (Is("hcaObjects"u8, 1, ref seen)) limit.HcaObjects = ReadNullableUInt32();
            else SkipValue();
        }

        return limit;
    }

    private Seccomp ReadSeccomp()
    {
        var seccomp = new Seccomp();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("defaultAction"u8, 0, ref seen)) seccomp.DefaultAction = ReadString();
            else if (Is("defaultErrnoRet"u8, 1, ref seen)) seccomp.DefaultErrnoRet = ReadNullableUInt32();
            else if (Is("architectures"u8, 2, ref seen)) seccomp.Architectures = ReadStringList();
            else if (Is("flags"u8, 3, ref seen)) seccomp.Flags = ReadStringList();
            else if (Is("listenerPath"u8, 4, ref seen)) seccomp.ListenerPath = ReadNullableString();
            else if (Is("listenerMetadata"u8, 5, ref seen)) seccomp.ListenerMetadata = ReadNullableString();
            else if (Is("syscalls"u8, 6, ref seen)) seccomp.Syscalls = ReadList(static (ref SpecParser p) => p.ReadSeccompSyscall());
            else SkipValue();
        }

        return seccomp;
    }

    private SeccompSyscall ReadSeccompSyscall()
    {
        var syscall = new SeccompSyscall();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("names"u8, 0, ref seen)) syscall.Names = ReadList(static (ref SpecParser p) => p.ReadString(), allowNull: false)!;
            else if (Is("action"u8, 1, ref seen)) syscall.Action = ReadString();
            else if (Is("errnoRet"u8, 2, ref seen)) syscall.ErrnoRet = ReadNullableUInt32();
            else if (Is("args"u8, 3, ref seen)) syscall.Args = ReadList(static (ref SpecParser p) => p.ReadSeccompArg());
            else SkipValue();
        }

        return syscall;
    }

    private SeccompArg ReadSeccompArg()
    {
        var arg = new SeccompArg();
        ulong seen = 0;
        BeginObject();
        while (NextProperty())
        {
            if (Is("index"u8, 0, ref seen)) arg.Index = ReadUInt32();
            else if (Is("value"u8, 1, ref seen)) arg.Value = ReadUInt64();
            else if (Is("valueTwo"u8, 2, ref seen)) arg.ValueTwo = ReadUInt64();
            else if (Is("op"u8, 3, ref seen)) arg.Op = ReadString();
            else SkipValue();
        }

        return arg;
    }

    // ---- structure ----

    private void Read()
    {
        if (!_reader.Read())
        {
            throw Error("unexpected end of data");
        }
    }

    /// <summary>Moves to the next value unless an array loop already did.</summary>
    private void Advance()
    {
        if (_pending)
        {
            _pending = false;
        }
        else
        {
            Read();
        }
    }

    /// <summary>Expects an object (the caller has handled null) and opens a path segment for its properties.</summary>
    private void BeginObject()
    {
        Advance();
        if (_reader.TokenType != JsonTokenType.StartObject)
        {
            throw Expected("an object");
        }

        Push(SegmentKind.Property, -1);
    }

    /// <summary>Reads the next property name; false (and the segment closed) at the end of the object.</summary>
    private bool NextProperty()
    {
        Read();
        if (_reader.TokenType == JsonTokenType.EndObject)
        {
            _depth--;
            return false;
        }

        _segments[_depth - 1] = checked((int)_reader.TokenStartIndex);
        return true;
    }

    private bool NextElement(ref int index)
    {
        Read();
        if (_reader.TokenType == JsonTokenType.EndArray)
        {
            _depth--;
            return false;
        }

        _segments[_depth - 1] = index++;
        _pending = true;
        return true;
    }

    /// <summary>Matches the current property name; a property seen before in this object is refused (security.md D4).</summary>
    private bool Is(ReadOnlySpan<byte> name, int bit, ref ulong seen)
    {
        if (!_reader.ValueTextEquals(name))
        {
            return false;
        }

        var mask = 1UL << bit;
        if ((seen & mask) != 0)
        {
            throw Error("duplicate property");
        }

        seen |= mask;
        return true;
    }

    private void SkipValue() => _reader.Skip();

    private void Push(SegmentKind kind, int value)
    {
        _kinds[_depth] = kind;
        _segments[_depth] = value;
        _depth++;
    }

    // ---- values ----

    private T? ReadNullable<T>(ValueReader<T> read)
        where T : class
    {
        Advance();
        if (_reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        _pending = true;
        return read(ref this);
    }

    private List<T>? ReadList<T>(ValueReader<T> read, bool allowNull = true)
    {
        Advance();
        if (_reader.TokenType == JsonTokenType.Null && allowNull)
        {
            return null;
        }

        if (_reader.TokenType != JsonTokenType.StartArray)
        {
            throw Expected("an array");
        }

        var list = new List<T>();
        Push(SegmentKind.Index, 0);
        var index = 0;
        while (NextElement(ref index))
        {
            list.Add(read(ref this));
        }

        return list;
    }

    private List<string>? ReadStringList() => ReadList(static (ref SpecParser p) => p.ReadString());

    private Dictionary<string, T>? ReadMap<T>(ValueReader<T> read)
    {
        Advance();
        if (_reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (_reader.TokenType != JsonTokenType.StartObject)
        {
            throw Expected("an object");
        }

        var map = new Dictionary<string, T>(StringComparer.Ordinal);
        Push(SegmentKind.Key, -1);
        while (NextProperty())
        {
            var key = _reader.GetString()!;
            var value = read(ref this);
            if (!map.TryAdd(key, value))
            {
                throw Error("duplicate key");
            }
        }

        return map;
    }

    private Dictionary<string, string>? ReadStringMap() => ReadMap(static (ref SpecParser p) => p.ReadString());

    private string ReadString()
    {
        Advance();
        return _reader.TokenType == JsonTokenType.String ? _reader.GetString()! : throw Expected("a string");
    }

    private string? ReadNullableString()
    {
        Advance();
        return _reader.TokenType switch
        {
            JsonTokenType.String => _reader.GetString(),
            JsonTokenType.Null => null,
            _ => throw Expected("a string"),
        };
    }

    private bool ReadBool()
    {
        Advance();
        return _reader.TokenType switch
        {
            JsonTokenType.True => true,
            JsonTokenType.False => false,
            _ => throw Expected("true or false"),
        };
    }

    private bool? ReadNullableBool() => PeekNull() ? null : ReadBool();

    private uint ReadUInt32()
    {
        Advance();
        return _reader.TokenType == JsonTokenType.Number && _reader.TryGetUInt32(out var value) ? value : throw Expected("an unsigned 32-bit integer");
    }

    private int ReadInt32()
    {
        Advance();
        return _reader.TokenType == JsonTokenType.Number && _reader.TryGetInt32(out var value) ? value : throw Expected("a 32-bit integer");
    }

    private ulong ReadUInt64()
    {
        Advance();
        return _reader.TokenType == JsonTokenType.Number && _reader.TryGetUInt64(out var value) ? value : throw Expected("an unsigned 64-bit integer");
    }

    private long ReadInt64()
    {
        Advance();
        return _reader.TokenType == JsonTokenType.Number && _reader.TryGetInt64(out var value) ? value : throw Expected("a 64-bit integer");
    }

    private ushort ReadUInt16()
    {
        Advance();
        return _reader.TokenType == JsonTokenType.Number && _reader.TryGetUInt16(out var value) ? value : throw Expected("an unsigned 16-bit integer");
    }

    private bool PeekNull()
    {
        Advance();
        if (_reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        _pending = true;
        return false;
    }

    private uint? ReadNullableUInt32() => PeekNull() ? null : ReadUInt32();

    private int? ReadNullableInt32() => PeekNull() ? null : ReadInt32();

    private ulong? ReadNullableUInt64() => PeekNull() ? null : ReadUInt64();

    private long? ReadNullableInt64() => PeekNull() ? null : ReadInt64();

    private ushort? ReadNullableUInt16() => PeekNull() ? null : ReadUInt16();

    // ---- errors ----

    private readonly JsonException Expected(string what) => Error($"expected {what}, found {Describe(_reader.TokenType)}");

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    private readonly JsonException Error(string message, Exception? inner = null)
    {
        var path = FormatPath();
        return new JsonException(path.Length == 0 ? message : path + ": " + message, "$" + (path.Length == 0 || path[0] == '[' ? path : "." + path), null, null, inner);
    }

    /// <summary>The path of the current value: <c>process.user.uid</c>, <c>mounts[2].options[0]</c>, <c>linux.sysctl["net.ipv4.ip_forward"]</c>.</summary>
    private readonly string FormatPath()
    {
        var text = new StringBuilder();
        for (var i = 0; i < _depth; i++)
        {
            var value = _segments[i];
            switch (_kinds[i])
            {
                case SegmentKind.Index:
                    text.Append('[').Append(value).Append(']');
                    break;
                case SegmentKind.Property when value >= 0:
                    if (text.Length > 0)
                    {
                        text.Append('.');
                    }

                    text.Append(NameAt(value));
                    break;
                case SegmentKind.Key when value >= 0:
                    text.Append("[\"").Append(NameAt(value)).Append("\"]");
                    break;
                default:
                    break;
            }
        }

        return text.ToString();
    }

    /// <summary>Decodes the property name whose token starts at <paramref name="offset"/> (escapes resolved).</summary>
    private readonly string NameAt(int offset)
    {
        try
        {
            var reader = new Utf8JsonReader(_utf8[offset..]);
            return reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString() ?? "" : "?";
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return "?";
        }
    }

    private static string Lowercase(string message) =>
        message.Length > 0 && char.IsUpper(message[0]) ? char.ToLowerInvariant(message[0]) + message[1..] : message;
}
