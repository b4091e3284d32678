namespace Dashboard.Engine.Store;

/// <summary>One engine event (Docker's events API); <see cref="Seq"/> is assigned by the store.</summary>
public sealed record EngineEvent(
    string Type,
    string Action,
    string ActorId,
    IReadOnlyDictionary<string, string> Attributes,
    long TimeNano)
{
    public long Seq { get; init; }
}

public sealed record VolumeRecord(
    string Name,
    string Driver,
    string Mountpoint,
    DateTimeOffset Created,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string> Options);

public sealed record NetworkRecord(
    string Id,
    string Name,
    string Driver,
    string? Subnet,
    string? Gateway,
    DateTimeOffset Created,
    IReadOnlyDictionary<string, string> Labels);

public sealed record ExecRecord(
    string Id,
    string ContainerId,
    string ProcessJson,
    bool Running,
    int? ExitCode,
    int Pid,
    DateTimeOffset Created);

/// <summary>One stats point at <see cref="Resolution"/> (seconds per sample: 1, 10, 60, 900…).</summary>
public sealed record StatsSample(
    string ContainerId,
    int Resolution,
    long TimeSeconds,
    long CpuUsageNanos,
    long CpuThrottledNanos,
    long MemoryUsage,
    long MemoryLimit,
    long MemoryCache,
    long Pids,
    long BlockRead,
    long BlockWrite,
    long NetRx,
    long NetTx);
