using Dashboard.Engine.Api;
using Dashboard.Engine.Containers;
using Dashboard.Oci.Runtime;

namespace Dashboard.Engine.Networking;

/// <summary>What the container lifecycle asks of networking (podman's network seam): plan at create, attach before start, detach after exit.</summary>
public interface IContainerNetworking
{
    /// <summary>Creates the predefined networks and cleans namespaces no container owns (engine start).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Validates the create body's network settings and points the spec at the container's network namespace and <c>/etc</c> files.</summary>
    Task PrepareAsync(string id, string bundleDir, ContainerCreateBody body, HostConfig host, Spec spec, CancellationToken cancellationToken);

    /// <summary>Creates the namespace and attaches it (CNI ADD) before the runtime starts the container; on failure nothing is left behind.</summary>
    Task SetupAsync(ContainerRecord container, CancellationToken cancellationToken);

    /// <summary>Detaches (CNI DEL) and removes the namespace; safe to repeat, also after a crash.</summary>
    Task TeardownAsync(ContainerRecord container, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="TeardownAsync"/> for a container that has no row (an engine killed between create and record, or a
    /// restore to a backup taken before the container was made): its network state is read from <paramref name="bundleDir"/>,
    /// and the CNI plugins release its address and iptables rules by its id.
    /// </summary>
    Task TeardownOrphanAsync(string id, string bundleDir, CancellationToken cancellationToken);
}
