using System.Collections.Concurrent;
using Dashboard.Engine.Api;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Networking;
using Dashboard.Oci.Runtime;

namespace Dashboard.Engine.Tests.Networking;

/// <summary>
/// Networking for engines on the fake runtime, whose containers have no processes: it records what
/// the lifecycle asked and leaves the spec's private network namespace alone, so those tests create
/// no namespaces, veths or iptables rules on the host.
/// </summary>
public sealed class FakeContainerNetworking : IContainerNetworking
{
    public ConcurrentQueue<(string Call, string Id)> Calls { get; } = new();

    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        Calls.Enqueue(("initialize", ""));
        return Task.CompletedTask;
    }

    public Task PrepareAsync(string id, string bundleDir, ContainerCreateBody body, HostConfig host, Spec spec, CancellationToken cancellationToken)
    {
        Calls.Enqueue(("prepare", id));

        // As NetworkManager does for a name that names no network (these engines have only the predefined ones).
        var mode = host.NetworkMode ?? "";
        if (mode is not ("" or "default" or "bridge" or "none" or "host") && !mode.StartsWith("container:", StringComparison.Ordinal))
        {
            throw new EngineException(ErrorKind.NotFound, $"network {mode} not found");
        }

        return Task.CompletedTask;
    }

    public Task TeardownOrphanAsync(string id, string bundleDir, CancellationToken cancellationToken)
    {
        Calls.Enqueue(("teardown-orphan", id));
        return Task.CompletedTask;
    }

    public Task SetupAsync(ContainerRecord container, CancellationToken cancellationToken)
    {
        Calls.Enqueue(("setup", container.Id));
        return Task.CompletedTask;
    }

    public Task TeardownAsync(ContainerRecord container, CancellationToken cancellationToken)
    {
        Calls.Enqueue(("teardown", container.Id));
        return Task.CompletedTask;
    }
}
