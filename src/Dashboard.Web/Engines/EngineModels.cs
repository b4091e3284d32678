namespace Dashboard.Web.Engines;

public enum ContainerState
{
    Unknown,
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

public enum LogStream
{
    Stdout,
    Stderr,
}

public sealed record PortMapping(int PrivatePort, int? PublicPort, string Protocol, string? HostIp);

public sealed record MountInfo(string Type, string? Source, string Destination, bool ReadWrite);

public sealed record ContainerSummary(
    string Id,
    string Name,
    string Image,
    ContainerState State,
    string Status,
    DateTimeOffset Created,
    IReadOnlyList<PortMapping> Ports,
    IReadOnlyDictionary<string, string> Labels)
{
    public string ShortId => Id.Length > 12 ? Id[..12] : Id;

    /// <summary>The engine the container lives on, set by lists that span engines (an engine client leaves it empty).</summary>
    public string Engine { get; init; } = "";
}

public sealed record ContainerDetails(
    string Id,
    string Name,
    string Image,
    ContainerState State,
    string StatusText,
    long ExitCode,
    bool OomKilled,
    string? Health,
    long RestartCount,
    string? Error,
    DateTimeOffset Created,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    bool Tty,
    IReadOnlyList<string> Command,
    IReadOnlyList<PortMapping> Ports,
    IReadOnlyList<MountInfo> Mounts,
    IReadOnlyList<string> Env,
    IReadOnlyDictionary<string, string> Labels)
{
    public string ShortId => Id.Length > 12 ? Id[..12] : Id;
}

/// <summary>One log record as the engine stored it; <see cref="Text"/> is raw container output (untrusted).</summary>
public sealed record LogLine(DateTimeOffset? Timestamp, LogStream Stream, string Text);

public sealed record ContainerStatsSample(
    string ContainerId,
    DateTimeOffset Read,
    double? CpuPercent,
    ulong? MemoryUsage,
    ulong? MemoryLimit,
    ulong? NetworkRx,
    ulong? NetworkTx,
    ulong? Pids);

public enum EngineEventType
{
    Container,
    Image,
    Volume,
    Network,
    Other,
}

public sealed record EngineEvent(EngineEventType Type, string Action, string ActorId, IReadOnlyDictionary<string, string> Attributes, DateTimeOffset Time)
{
    public const string ResyncAction = "resync";

    /// <summary>Events were dropped (a slow reader); consumers must reload their state.</summary>
    public static EngineEvent Resync(DateTimeOffset time) =>
        new(EngineEventType.Other, ResyncAction, "", new Dictionary<string, string>(StringComparer.Ordinal), time);

    public bool IsResync => Type == EngineEventType.Other && Action == ResyncAction;
}

public sealed record ImageSummary(string Id, IReadOnlyList<string> Tags, long Size, DateTimeOffset Created, long Containers)
{
    public string ShortId => (Id.StartsWith("sha256:", StringComparison.Ordinal) ? Id[7..] : Id) is var s && s.Length > 12 ? s[..12] : Id;
}

public sealed record PullProgress(string? LayerId, string Status, long? Current, long? Total, string? Error);
