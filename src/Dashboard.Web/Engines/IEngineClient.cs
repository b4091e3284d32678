namespace Dashboard.Web.Engines;

/// <summary>
/// The only way the web side reaches an engine (ours, Docker or Podman). Every stream is a
/// cancellable sequence of batches so callers can render at most once per batch.
/// </summary>
public partial interface IEngineClient
{
    Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(IReadOnlyCollection<string>? ids, CancellationToken cancellationToken);

    Task<ContainerDetails> InspectContainerAsync(string id, CancellationToken cancellationToken);

    Task StartContainerAsync(string id, CancellationToken cancellationToken);

    Task StopContainerAsync(string id, CancellationToken cancellationToken);

    Task RestartContainerAsync(string id, CancellationToken cancellationToken);

    Task KillContainerAsync(string id, CancellationToken cancellationToken);

    Task PauseContainerAsync(string id, CancellationToken cancellationToken);

    Task UnpauseContainerAsync(string id, CancellationToken cancellationToken);

    Task RemoveContainerAsync(string id, bool force, CancellationToken cancellationToken);

    /// <summary>The last <paramref name="tail"/> lines, then (when <paramref name="follow"/>) new lines as they are written.</summary>
    IAsyncEnumerable<IReadOnlyList<LogLine>> GetLogsAsync(string id, int tail, bool follow, CancellationToken cancellationToken);

    IAsyncEnumerable<IReadOnlyList<ContainerStatsSample>> GetStatsAsync(string id, CancellationToken cancellationToken);

    IAsyncEnumerable<IReadOnlyList<EngineEvent>> GetEventsAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<ImageSummary>> ListImagesAsync(CancellationToken cancellationToken);

    IAsyncEnumerable<IReadOnlyList<PullProgress>> PullImageAsync(string reference, CancellationToken cancellationToken);

    Task RemoveImageAsync(string id, bool force, CancellationToken cancellationToken);

    /// <summary>Creates (does not start) a container; returns its id.</summary>
    Task<string> CreateContainerAsync(ContainerCreateRequest request, CancellationToken cancellationToken);

    /// <summary>The create request that would make a container like <paramref name="id"/> (edit and clone start from it).</summary>
    Task<ContainerCreateRequest> GetCreateRequestAsync(string id, CancellationToken cancellationToken);

    Task RenameContainerAsync(string id, string newName, CancellationToken cancellationToken);

    /// <summary>Starts <paramref name="request"/> in a running container with a TTY and attaches to it.</summary>
    Task<IExecSession> StartExecAsync(string id, ExecRequest request, CancellationToken cancellationToken);
}
