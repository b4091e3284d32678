using Dashboard.Oci.Runtime;

namespace Dashboard.Engine.Runtime;

/// <summary>What the engine asks of a shim: start container <see cref="Id"/> from <see cref="BundleDir"/> and supervise it (<see cref="Stdin"/>: keep a stdin pipe for attach).</summary>
public sealed record ShimStartRequest(
    string Id,
    string BundleDir,
    string LogPath,
    string ExitFile,
    string ControlSocket,
    long LogMaxSize,
    int LogMaxFiles,
    bool Stdin = false);

/// <summary>The container's init pid (host pid namespace) and the pid of the shim supervising it.</summary>
public sealed record ShimStarted(int Pid, int ShimPid);

/// <summary>How a container ended, as its shim wrote it to the exit file.</summary>
public sealed record ContainerExit(int ExitCode, bool OomKilled, DateTimeOffset FinishedAt, string Error = "");

/// <summary>
/// How the engine drives containers (podman's OCIRuntime seam). The real implementation runs the
/// <c>dashboard-runtime</c> binary; tests use a fake. Failures are <see cref="EngineException"/>s whose
/// message is the runtime's own (strerror wording).
/// </summary>
public interface IOciRuntime
{
    /// <summary>
    /// A start is likely soon (a container was just created): get ready off the start's path. The runtime CLI spawns
    /// its standby shim here, while the create waits on its disk writes, rather than during a start or an exit.
    /// </summary>
    void PrepareStart()
    {
    }

    /// <summary>Starts a shim that creates and starts the container; returns once it runs.</summary>
    Task<ShimStarted> StartAsync(ShimStartRequest request, CancellationToken cancellationToken);

    /// <summary>Completes when the container has exited (also for a shim started by an earlier engine process).</summary>
    Task<ContainerExit> WaitAsync(string id, string exitFile, int shimPid, CancellationToken cancellationToken);

    /// <summary>The runtime's view of the container, or null when it does not know it.</summary>
    Task<State?> StateAsync(string id, CancellationToken cancellationToken);

    Task KillAsync(string id, int signal, CancellationToken cancellationToken);

    /// <summary>Removes the runtime's state of a stopped container (force: kill it first). Unknown ids are not an error.</summary>
    Task DeleteAsync(string id, bool force, CancellationToken cancellationToken);

    Task PauseAsync(string id, CancellationToken cancellationToken);

    Task ResumeAsync(string id, CancellationToken cancellationToken);

    /// <summary>Host pids of the container's processes.</summary>
    Task<IReadOnlyList<int>> ProcessesAsync(string id, CancellationToken cancellationToken);
}
