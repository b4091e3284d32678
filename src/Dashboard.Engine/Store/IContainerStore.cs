using Dashboard.Engine.Containers;

namespace Dashboard.Engine.Store;

/// <summary>
/// The engine's persistent state (podman's <c>State</c> seam): containers, events, volumes, networks,
/// exec sessions and stats history (image records, in the same database, are
/// <see cref="Dashboard.Engine.Images.SqliteImageRecordStore"/>'s). Lookups are exact (no LIKE wildcards,
/// case-sensitive: security.md E5 c). Every method is safe to call concurrently.
/// </summary>
public interface IContainerStore
{
    /// <summary>Adds a container; AlreadyExists when its id or name is taken.</summary>
    Task AddContainerAsync(ContainerRecord container, CancellationToken cancellationToken = default);

    /// <summary>Adds a container and appends its create event in the same transaction; returns the event with its sequence number.</summary>
    Task<EngineEvent> AddContainerAsync(ContainerRecord container, EngineEvent created, CancellationToken cancellationToken = default);

    Task<ContainerRecord?> GetContainerAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Docker's lookup order: full id, name (with or without the leading slash), unique id prefix. NotFound or InvalidArgument (ambiguous).</summary>
    Task<ContainerRecord> LookupContainerAsync(string reference, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ContainerRecord>> ListContainersAsync(CancellationToken cancellationToken = default);

    /// <summary>Id and init pid of every running or paused container.</summary>
    Task<IReadOnlyList<(string Id, int Pid)>> ListActiveAsync(CancellationToken cancellationToken = default);

    /// <summary>True when a container has exactly this name.</summary>
    Task<bool> ContainerNameExistsAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Replaces the mutable state of a container, durably; NotFound when it is gone.</summary>
    Task SaveStateAsync(string id, ContainerRuntimeState state, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the mutable state and appends the events that report it, in one durable transaction; returns the events
    /// with their sequence numbers. NotFound (and nothing written) when the container is gone.
    /// </summary>
    Task<IReadOnlyList<EngineEvent>> SaveStateAsync(string id, ContainerRuntimeState state, IReadOnlyList<EngineEvent> events, CancellationToken cancellationToken = default);

    /// <summary>Renames; AlreadyExists when the name is taken, NotFound when the container is gone.</summary>
    Task RenameContainerAsync(string id, string newName, CancellationToken cancellationToken = default);

    /// <summary>Removes a container and its exec sessions and stats; false when it was already gone.</summary>
    Task<bool> RemoveContainerAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Appends an event and returns it with its sequence number.</summary>
    Task<EngineEvent> AppendEventAsync(EngineEvent engineEvent, CancellationToken cancellationToken = default);

    /// <summary>Events with <c>since &lt;= TimeNano &lt;= until</c> in order; null bounds are open.</summary>
    Task<IReadOnlyList<EngineEvent>> ListEventsAsync(long? sinceNano, long? untilNano, CancellationToken cancellationToken = default);

    Task AddVolumeAsync(VolumeRecord volume, CancellationToken cancellationToken = default);

    Task<VolumeRecord?> GetVolumeAsync(string name, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<VolumeRecord>> ListVolumesAsync(CancellationToken cancellationToken = default);

    Task<bool> RemoveVolumeAsync(string name, CancellationToken cancellationToken = default);

    Task AddNetworkAsync(NetworkRecord network, CancellationToken cancellationToken = default);

    /// <summary>Full id or exact name.</summary>
    Task<NetworkRecord?> GetNetworkAsync(string idOrName, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<NetworkRecord>> ListNetworksAsync(CancellationToken cancellationToken = default);

    Task<bool> RemoveNetworkAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Adds an exec session; NotFound when its container is gone.</summary>
    Task AddExecAsync(ExecRecord exec, CancellationToken cancellationToken = default);

    Task<ExecRecord?> GetExecAsync(string id, CancellationToken cancellationToken = default);

    Task UpdateExecAsync(string id, bool running, int? exitCode, int pid, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ExecRecord>> ListExecsAsync(string containerId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds or replaces samples (key: container, resolution, time), all in one transaction. Samples of a container that
    /// is gone (removed during a sampling round) are skipped, not an error; the others are stored.
    /// </summary>
    Task AddStatsAsync(IReadOnlyList<StatsSample> samples, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<StatsSample>> QueryStatsAsync(string containerId, int resolution, long fromSeconds, long toSeconds, CancellationToken cancellationToken = default);

    /// <summary>Deletes samples of <paramref name="resolution"/> older than <paramref name="beforeSeconds"/>; returns how many.</summary>
    Task<int> PruneStatsAsync(int resolution, long beforeSeconds, CancellationToken cancellationToken = default);
}
