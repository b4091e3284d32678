using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dashboard.Engine.Api;

/// <summary>The container part of <c>POST /containers/create</c> (API definitions ContainerConfig).</summary>
public class ContainerConfig
{
    public string? Hostname { get; set; }
    public string? Domainname { get; set; }
    public string? User { get; set; }
    public bool AttachStdin { get; set; }
    public bool AttachStdout { get; set; }
    public bool AttachStderr { get; set; }
    public Dictionary<string, JsonElement>? ExposedPorts { get; set; }
    public bool Tty { get; set; }
    public bool OpenStdin { get; set; }
    public bool StdinOnce { get; set; }
    public List<string>? Env { get; set; }
    [JsonConverter(typeof(StrSliceConverter))] public List<string>? Cmd { get; set; }
    public HealthConfig? Healthcheck { get; set; }
    public bool? ArgsEscaped { get; set; }
    public string? Image { get; set; }
    public Dictionary<string, JsonElement>? Volumes { get; set; }
    public string? WorkingDir { get; set; }
    [JsonConverter(typeof(StrSliceConverter))] public List<string>? Entrypoint { get; set; }
    public bool? NetworkDisabled { get; set; }
    public string? MacAddress { get; set; }
    public List<string>? OnBuild { get; set; }
    public Dictionary<string, string>? Labels { get; set; }
    public string? StopSignal { get; set; }
    public int? StopTimeout { get; set; }
    [JsonConverter(typeof(StrSliceConverter))] public List<string>? Shell { get; set; }
}

public sealed class HealthConfig
{
    [JsonConverter(typeof(StrSliceConverter))] public List<string>? Test { get; set; }
    public long Interval { get; set; }
    public long Timeout { get; set; }
    public int Retries { get; set; }
    public long StartPeriod { get; set; }
    public long StartInterval { get; set; }
}

/// <summary>The create body: config, host config and networking config in one object.</summary>
public sealed class ContainerCreateBody : ContainerConfig
{
    public HostConfig? HostConfig { get; set; }
    public JsonElement? NetworkingConfig { get; set; }
}

public sealed class HostConfig
{
    // Resources
    public long CpuShares { get; set; }
    public long Memory { get; set; }
    public string? CgroupParent { get; set; }
    public int BlkioWeight { get; set; }
    public List<JsonElement>? BlkioWeightDevice { get; set; }
    public List<JsonElement>? BlkioDeviceReadBps { get; set; }
    public List<JsonElement>? BlkioDeviceWriteBps { get; set; }
    public List<JsonElement>? BlkioDeviceReadIOps { get; set; }
    public List<JsonElement>? BlkioDeviceWriteIOps { get; set; }
    public long CpuPeriod { get; set; }
    public long CpuQuota { get; set; }
    public long CpuRealtimePeriod { get; set; }
    public long CpuRealtimeRuntime { get; set; }
    public string? CpusetCpus { get; set; }
    public string? CpusetMems { get; set; }
    public List<JsonElement>? Devices { get; set; }
    public List<string>? DeviceCgroupRules { get; set; }
    public List<JsonElement>? DeviceRequests { get; set; }
    public long MemoryReservation { get; set; }
    public long MemorySwap { get; set; }
    public long? MemorySwappiness { get; set; }
    public long NanoCpus { get; set; }
    public bool? OomKillDisable { get; set; }
    public bool? Init { get; set; }
    public long? PidsLimit { get; set; }
    public List<Ulimit>? Ulimits { get; set; }

    // Host
    public List<string>? Binds { get; set; }
    public string? ContainerIDFile { get; set; }
    public LogConfig? LogConfig { get; set; }
    public string? NetworkMode { get; set; }
    public Dictionary<string, List<PortBinding>?>? PortBindings { get; set; }
    public RestartPolicy? RestartPolicy { get; set; }
    public bool AutoRemove { get; set; }
    public string? VolumeDriver { get; set; }
    public List<string>? VolumesFrom { get; set; }
    public List<MountSpec>? Mounts { get; set; }
    public List<uint>? ConsoleSize { get; set; }
    public Dictionary<string, string>? Annotations { get; set; }
    public List<string>? CapAdd { get; set; }
    public List<string>? CapDrop { get; set; }
    public string? CgroupnsMode { get; set; }
    public List<string>? Dns { get; set; }
    public List<string>? DnsOptions { get; set; }
    public List<string>? DnsSearch { get; set; }
    public List<string>? ExtraHosts { get; set; }
    public List<string>? GroupAdd { get; set; }
    public string? IpcMode { get; set; }
    public string? Cgroup { get; set; }
    public List<string>? Links { get; set; }
    public int OomScoreAdj { get; set; }
    public string? PidMode { get; set; }
    public bool Privileged { get; set; }
    public bool PublishAllPorts { get; set; }
    public bool ReadonlyRootfs { get; set; }
    public List<string>? SecurityOpt { get; set; }
    public Dictionary<string, string>? StorageOpt { get; set; }
    public Dictionary<string, string>? Tmpfs { get; set; }
    public string? UTSMode { get; set; }
    public string? UsernsMode { get; set; }
    public long ShmSize { get; set; }
    public Dictionary<string, string>? Sysctls { get; set; }
    public string? Runtime { get; set; }
    public string? Isolation { get; set; }
    public List<string>? MaskedPaths { get; set; }
    public List<string>? ReadonlyPaths { get; set; }
}

public sealed class Ulimit
{
    public string? Name { get; set; }
    public long Soft { get; set; }
    public long Hard { get; set; }
}

public sealed class LogConfig
{
    public string? Type { get; set; }
    public Dictionary<string, string>? Config { get; set; }
}

public sealed class PortBinding
{
    public string? HostIp { get; set; }
    public string? HostPort { get; set; }
}

public sealed class RestartPolicy
{
    public string? Name { get; set; }
    public int MaximumRetryCount { get; set; }
}

public sealed class MountSpec
{
    public string? Target { get; set; }
    public string? Source { get; set; }
    public string? Type { get; set; }
    public bool ReadOnly { get; set; }
    public string? Consistency { get; set; }
    public JsonElement? BindOptions { get; set; }
    public JsonElement? VolumeOptions { get; set; }
    public TmpfsOptions? TmpfsOptions { get; set; }
}

public sealed class TmpfsOptions
{
    public long SizeBytes { get; set; }
    public int Mode { get; set; }
}

public sealed record ContainerCreateResponse(string Id, IReadOnlyList<string> Warnings);

public sealed record ErrorResponse([property: JsonPropertyName("message")] string Message);

public sealed class ContainerStateView
{
    public string Status { get; set; } = "created";
    public bool Running { get; set; }
    public bool Paused { get; set; }
    public bool Restarting { get; set; }
    public bool OOMKilled { get; set; }
    public bool Dead { get; set; }
    public int Pid { get; set; }
    public int ExitCode { get; set; }
    public string Error { get; set; } = "";
    public string StartedAt { get; set; } = "0001-01-01T00:00:00Z";
    public string FinishedAt { get; set; } = "0001-01-01T00:00:00Z";
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Containers.HealthView? Health { get; set; }
}

public sealed class ContainerInspectView
{
    public string Id { get; set; } = "";
    public string Created { get; set; } = "";
    public string Path { get; set; } = "";
    public List<string> Args { get; set; } = [];
    public ContainerStateView State { get; set; } = new();
    public string Image { get; set; } = "";
    public string ResolvConfPath { get; set; } = "";
    public string HostnamePath { get; set; } = "";
    public string HostsPath { get; set; } = "";
    public string LogPath { get; set; } = "";
    public string Name { get; set; } = "";
    public int RestartCount { get; set; }
    public string Driver { get; set; } = "overlay2";
    public string Platform { get; set; } = "linux";
    public string MountLabel { get; set; } = "";
    public string ProcessLabel { get; set; } = "";
    public string AppArmorProfile { get; set; } = "";
    public List<string>? ExecIDs { get; set; }
    public HostConfig HostConfig { get; set; } = new();
    public List<MountPointView> Mounts { get; set; } = [];
    public ContainerConfig Config { get; set; } = new();
    public NetworkSettingsView NetworkSettings { get; set; } = new();
}

public sealed class MountPointView
{
    public string Type { get; set; } = "";
    public string? Name { get; set; }
    public string Source { get; set; } = "";
    public string Destination { get; set; } = "";
    public string Driver { get; set; } = "";
    public string Mode { get; set; } = "";
    public bool RW { get; set; }
    public string Propagation { get; set; } = "";
}

public sealed class NetworkSettingsView
{
    public string Bridge { get; set; } = "";
    public string SandboxKey { get; set; } = "";
    public string Gateway { get; set; } = "";
    public string IPAddress { get; set; } = "";
    public int IPPrefixLen { get; set; }
    public string MacAddress { get; set; } = "";
    public Dictionary<string, List<PortBinding>?> Ports { get; set; } = [];
    public Dictionary<string, JsonElement> Networks { get; set; } = [];
}

public sealed class ContainerSummaryView
{
    public string Id { get; set; } = "";
    public List<string> Names { get; set; } = [];
    public string Image { get; set; } = "";
    public string ImageID { get; set; } = "";
    public string Command { get; set; } = "";
    public long Created { get; set; }
    public List<JsonElement> Ports { get; set; } = [];
    public Dictionary<string, string> Labels { get; set; } = [];
    public string State { get; set; } = "";
    public string Status { get; set; } = "";
    public Dictionary<string, string> HostConfig { get; set; } = [];
    public NetworkSettingsView NetworkSettings { get; set; } = new();
    public List<MountPointView> Mounts { get; set; } = [];
}

public sealed record ContainerWaitResponse(long StatusCode, ContainerWaitError? Error);

public sealed record ContainerWaitError(string Message);

public sealed record ContainerTopResponse(IReadOnlyList<string> Titles, IReadOnlyList<IReadOnlyList<string>> Processes);

public sealed record ContainerPruneResponse(IReadOnlyList<string> ContainersDeleted, long SpaceReclaimed);

public sealed class EventMessage
{
    [JsonPropertyName("status")] public string? Status { get; set; }
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("from")] public string? From { get; set; }
    public string Type { get; set; } = "";
    public string Action { get; set; } = "";
    public EventActor Actor { get; set; } = new();
    [JsonPropertyName("scope")] public string Scope { get; set; } = "local";
    [JsonPropertyName("time")] public long Time { get; set; }
    [JsonPropertyName("timeNano")] public long TimeNano { get; set; }
}

public sealed class EventActor
{
    public string ID { get; set; } = "";
    public Dictionary<string, string> Attributes { get; set; } = [];
}
