namespace Dashboard.Web.Engines;

/// <summary>Volumes, networks, the engine's /info and its database backup.</summary>
public partial interface IEngineClient
{
    Task<EngineInfo> GetInfoAsync(CancellationToken cancellationToken);

    /// <summary>Every volume, with the names of the containers that mount it.</summary>
    Task<IReadOnlyList<VolumeSummary>> ListVolumesAsync(CancellationToken cancellationToken);

    /// <summary>The engine's inspect answer, as indented JSON.</summary>
    Task<string> InspectVolumeAsync(string name, CancellationToken cancellationToken);

    Task CreateVolumeAsync(string name, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken);

    Task RemoveVolumeAsync(string name, bool force, CancellationToken cancellationToken);

    /// <summary>Removes every volume no container uses (named ones too).</summary>
    Task<PruneResult> PruneVolumesAsync(CancellationToken cancellationToken);

    /// <summary>Every network, with the names of the containers attached to it.</summary>
    Task<IReadOnlyList<NetworkSummary>> ListNetworksAsync(CancellationToken cancellationToken);

    Task<string> InspectNetworkAsync(string id, CancellationToken cancellationToken);

    /// <summary>Creates a network; returns its id.</summary>
    Task<string> CreateNetworkAsync(string name, string driver, bool isInternal, CancellationToken cancellationToken);

    Task RemoveNetworkAsync(string id, CancellationToken cancellationToken);

    Task<PruneResult> PruneNetworksAsync(CancellationToken cancellationToken);

    /// <summary>An online copy of the engine's own database (our engine's <c>POST /dashboard/backup</c>); NotFound for engines without one.</summary>
    Task<EngineBackup> BackupAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Sends an engine database backup to our engine's <c>POST /dashboard/restore</c>: it is checked (a newer schema is
    /// refused), then the engine restarts itself with it while containers keep running. Returns the backup's schema.
    /// </summary>
    Task<string> RestoreAsync(Stream database, CancellationToken cancellationToken);
}

public sealed record EngineInfo(
    string Name,
    string ServerVersion,
    string OperatingSystem,
    string KernelVersion,
    long Cpus,
    long MemoryBytes,
    long Containers,
    long Running,
    long Paused,
    long Stopped,
    long Images);

public sealed record VolumeSummary(
    string Name,
    string Driver,
    string Mountpoint,
    DateTimeOffset? Created,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<string> UsedBy);

public sealed record NetworkSummary(
    string Id,
    string Name,
    string Driver,
    string Scope,
    bool Internal,
    IReadOnlyList<string> Subnets,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<string> UsedBy)
{
    public string ShortId => Id.Length > 12 ? Id[..12] : Id;

    /// <summary>The networks every engine has; removing them is refused by the engine anyway.</summary>
    public bool IsPredefined => Name is "bridge" or "host" or "none";
}

public sealed record PruneResult(IReadOnlyList<string> Deleted, ulong SpaceReclaimed);

/// <summary>A database copy being downloaded; <see cref="Schema"/> is its latest migration when the engine says.</summary>
public sealed class EngineBackup(Stream content, string? schema) : IAsyncDisposable
{
    public Stream Content { get; } = content;

    public string? Schema { get; } = schema;

    public ValueTask DisposeAsync() => Content.DisposeAsync();
}
