using System.Globalization;
using System.Text.Json.Nodes;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Store;

namespace Dashboard.Engine.Networking;

public sealed partial class NetworkManager
{
    public async Task SetupAsync(ContainerRecord container, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var state = ContainerNetworkState.Read(container.BundleDir);
            if (state is null)
            {
                return;
            }

            if (state is { Mode: "none", RuntimeNamespace: true })
            {
                // The runtime makes the namespace with the container; a pin a joiner left from the previous run goes.
                if (state.Netns is not null)
                {
                    HostNetwork.RemoveNamespace(state.Netns);
                    state.Netns = null;
                    state.Write(container.BundleDir);
                }

                return;
            }

            await DetachAllAsync(container.Id, container.BundleDir, state);
            switch (state.Mode)
            {
                case "host":
                    return;
                case "container":
                    var joined = await _store.GetContainerAsync(state.JoinedContainer!, cancellationToken);
                    if (joined is null || !joined.State.Status.IsActive() || (!File.Exists(NetnsPath(joined.Id)) && !PinRuntimeNamespace(joined)))
                    {
                        throw new EngineException(ErrorKind.InvalidState, $"cannot join network namespace of a non running container: {state.JoinedContainer}");
                    }

                    return;
            }

            try
            {
                state.Netns = NetnsPath(container.Id);
                state.Write(container.BundleDir);
                await HostNetwork.CreateNamespaceAsync(state.Netns, cancellationToken);
                await _cni.ExecAsync("ADD", new JsonObject { ["cniVersion"] = CniPlugins.CniVersion, ["name"] = "loopback", ["type"] = "loopback" },
                    container.Id, state.Netns, "lo", null, cancellationToken);
                if (state.Mode == "bridge")
                {
                    state.Ports = await ReservePortsAsync(container, state.Ports, cancellationToken);
                    state.Write(container.BundleDir);
                    for (var i = 0; i < state.Endpoints.Count; i++)
                    {
                        await AttachAsync(container, state, state.Endpoints[i], publish: i == 0, cancellationToken);
                    }
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _log.LogWarning("network setup of container {ContainerId} failed: {Error}", container.Id, e.Message);
                await DetachAllAsync(container.Id, container.BundleDir, state);
                if (e is EngineException)
                {
                    throw;
                }

                throw new EngineException(ErrorKind.Internal, $"set up network of container {container.Id}: {e.Message}", e);
            }
            catch (OperationCanceledException)
            {
                await DetachAllAsync(container.Id, container.BundleDir, state);
                throw;
            }

            await RewriteHostsAsync(CancellationToken.None);
            foreach (var endpoint in state.Endpoints)
            {
                await PublishAsync("connect", endpoint.NetworkId, endpoint.NetworkName, container.Id);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// A <c>none</c> container's namespace belongs to its process, not to a file: the first <c>container:</c> joiner
    /// binds it to the usual namespace file, which the target's teardown removes as for a bridge container.
    /// </summary>
    private bool PinRuntimeNamespace(ContainerRecord target)
    {
        var state = ContainerNetworkState.Read(target.BundleDir);
        var source = "/proc/" + target.State.Pid.ToString(CultureInfo.InvariantCulture) + "/ns/net";

        if (state is not { Mode: "none", RuntimeNamespace: true } || target.State.Pid <= 0 || !InContainerCgroup(target.State.Pid, target.Id))
        {
            return false;
        }

        state.Netns = NetnsPath(target.Id);
        state.Write(target.BundleDir);
        try
        {
            HostNetwork.PinNamespace(source, state.Netns);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogWarning("pin the network namespace of container {ContainerId}: {Error}", target.Id, e.Message);
            HostNetwork.RemoveNamespace(state.Netns);
            state.Netns = null;
            state.Write(target.BundleDir);
            return false;
        }

        return true;
    }

    /// <summary>A pid outside the container's cgroup (named by its id) is no longer its process: the pid was reused.</summary>
    private static bool InContainerCgroup(int pid, string id)
    {
        try
        {
            return File.ReadAllText("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/cgroup").Contains("/" + id, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public async Task TeardownAsync(ContainerRecord container, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (ContainerNetworkState.Read(container.BundleDir) is not { } state || !HoldsAnything(state))
            {
                return;
            }

            var detached = state.Endpoints.Where(e => e.Attached is not null).ToList();
            await DetachAllAsync(container.Id, container.BundleDir, state);
            await RewriteHostsAsync(CancellationToken.None);
            foreach (var endpoint in detached)
            {
                await PublishAsync("disconnect", endpoint.NetworkId, endpoint.NetworkName, container.Id);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task TeardownOrphanAsync(string id, string bundleDir, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (ContainerNetworkState.Read(bundleDir) is { } state && HoldsAnything(state))
            {
                // No events and no /etc/hosts rewrite: without a row the container was never listed anywhere.
                await DetachAllAsync(id, bundleDir, state);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Whether a teardown has anything to release: a namespace or an attached endpoint.</summary>
    private static bool HoldsAnything(ContainerNetworkState state) => state.Netns is not null || state.Endpoints.Any(e => e.Attached is not null);

    /// <summary>Engine-wide conflicts first ("port is already allocated"), then a test bind against host processes (the userland proxy's error).</summary>
    private async Task<List<PortMapping>> ReservePortsAsync(ContainerRecord container, List<PortMapping> requested, CancellationToken cancellationToken)
    {
        if (requested.Count == 0)
        {
            return requested;
        }

        var inUse = new List<PortMapping>();
        foreach (var other in await _store.ListContainersAsync(cancellationToken))
        {
            if (other.Id != container.Id && ContainerNetworkState.Read(other.BundleDir) is { Netns: not null } s)
            {
                inUse.AddRange(s.Ports);
            }
        }

        var configured = PortMappings.Parse(container.HostConfig, container.Config.ExposedPorts);
        var result = new List<PortMapping>();
        foreach (var m in configured)
        {
            if (m.HostPort != 0 && inUse.FirstOrDefault(u => PortMappings.Conflicts(u, m)) is not null)
            {
                throw ExternalConnectivity(container, $"Bind for {m.HostIp}:{m.HostPort} failed: port is already allocated");
            }

            try
            {
                var reserved = PortMappings.Reserve(m);
                inUse.Add(reserved);
                result.Add(reserved);
            }
            catch (EngineException e)
            {
                throw ExternalConnectivity(container, e.Message);
            }
        }

        return result;
    }

    private static EngineException ExternalConnectivity(ContainerRecord container, string message) =>
        new(ErrorKind.Internal, $"driver failed programming external connectivity on endpoint {container.Name} ({container.Id[..12]}): {message}");

    private async Task AttachAsync(ContainerRecord container, ContainerNetworkState state, Endpoint endpoint, bool publish, CancellationToken cancellationToken)
    {
        var network = await _store.GetNetworkAsync(endpoint.NetworkId, cancellationToken)
            ?? throw new EngineException(ErrorKind.NotFound, $"network {endpoint.NetworkName} not found");
        network = await EnsureBridgeAsync(network, cancellationToken);
        var used = state.Endpoints.Where(e => e.Attached is not null).Select(e => e.Attached!.IfName).ToHashSet(StringComparer.Ordinal);
        var ifName = Enumerable.Range(0, 64).Select(i => "eth" + i.ToString(CultureInfo.InvariantCulture)).First(n => !used.Contains(n));
        var plugins = new List<JsonObject> { BridgeConfig(network) };
        if (publish && state.Ports.Count > 0)
        {
            plugins.Add(PortmapConfig(network, state.Ports));
        }

        endpoint.EndpointId = ContainerManager.NewId();
        endpoint.Attached = new Attachment { IfName = ifName, Plugins = plugins };
        state.Write(container.BundleDir);

        var cniArgs = endpoint.RequestedIp is null ? null : "IgnoreUnknown=1;IP=" + endpoint.RequestedIp;
        JsonObject? result = null;
        foreach (var plugin in plugins)
        {
            var config = (JsonObject)plugin.DeepClone();
            if (result is not null)
            {
                config["prevResult"] = result.DeepClone();
            }

            result = await _cni.ExecAsync("ADD", config, container.Id, state.Netns!, ifName, cniArgs, cancellationToken);
        }

        var attached = endpoint.Attached;
        attached.Result = result;
        if (result?["ips"] is JsonArray { Count: > 0 } ips && ips[0] is JsonObject ip
            && Ipv4Network.TryParse(ip["address"]?.GetValue<string>(), out var address))
        {
            attached.IpAddress = Ipv4Network.Format(address.Address);
            attached.PrefixLen = address.Prefix;
            attached.Gateway = ip["gateway"]?.GetValue<string>() ?? network.Gateway ?? "";
            if (ip["interface"]?.GetValue<int>() is int index && result["interfaces"] is JsonArray interfaces && index < interfaces.Count)
            {
                attached.MacAddress = interfaces[index]?["mac"]?.GetValue<string>() ?? "";
            }
        }

        state.Write(container.BundleDir);
    }

    /// <summary>DEL in reverse plugin order, each with the result it returned at ADD as prevResult (CNI SPEC "DEL").</summary>
    private async Task DetachAsync(string containerId, string bundleDir, ContainerNetworkState state, Endpoint endpoint)
    {
        if (endpoint.Attached is not { } attached)
        {
            return;
        }

        if (state.Netns is not null && File.Exists(state.Netns))
        {
            for (var i = attached.Plugins.Count - 1; i >= 0; i--)
            {
                var config = (JsonObject)attached.Plugins[i].DeepClone();
                if (attached.Result is not null)
                {
                    config["prevResult"] = attached.Result.DeepClone();
                }

                try
                {
                    await _cni.ExecAsync("DEL", config, containerId, state.Netns, attached.IfName, null, CancellationToken.None);
                }
                catch (EngineException e)
                {
                    _log.LogWarning("cni DEL of container {ContainerId} on network {Network}: {Error}", containerId, endpoint.NetworkName, e.Message);
                }
            }
        }
        else
        {
            // Without the namespace the plugins still release the address (keyed on the container id); the bridge plugin's
            // masquerade rules need the namespace's addresses, so callers tear down while it exists (see TeardownOrphanAsync).
            foreach (var plugin in attached.Plugins.AsEnumerable().Reverse())
            {
                try
                {
                    await _cni.ExecAsync("DEL", (JsonObject)plugin.DeepClone(), containerId, "", attached.IfName, null, CancellationToken.None);
                }
                catch (EngineException e)
                {
                    _log.LogWarning("cni DEL of container {ContainerId} without namespace: {Error}", containerId, e.Message);
                }
            }
        }

        endpoint.Attached = null;
        state.Write(bundleDir);
        await RemoveUnusedBridgeAsync(endpoint.NetworkId, containerId);
    }

    private async Task DetachAllAsync(string containerId, string bundleDir, ContainerNetworkState state)
    {
        foreach (var endpoint in state.Endpoints)
        {
            await DetachAsync(containerId, bundleDir, state, endpoint);
        }

        if (state.Netns is not null)
        {
            HostNetwork.RemoveNamespace(state.Netns);
            state.Netns = null;
        }

        state.Write(bundleDir);
    }

    private JsonObject BridgeConfig(NetworkRecord network) => new()
    {
        ["cniVersion"] = CniPlugins.CniVersion,
        ["name"] = CniName(network.Id),
        ["type"] = "bridge",
        ["bridge"] = BridgeName(network.Id),
        ["isGateway"] = true,
        ["ipMasq"] = true,
        ["hairpinMode"] = true,
        ["ipam"] = new JsonObject
        {
            ["type"] = "host-local",
            ["dataDir"] = IpamDir,
            ["ranges"] = new JsonArray(new JsonArray(new JsonObject { ["subnet"] = network.Subnet, ["gateway"] = network.Gateway })),
            ["routes"] = new JsonArray(new JsonObject { ["dst"] = "0.0.0.0/0" }),
        },
    };

    private static JsonObject PortmapConfig(NetworkRecord network, IReadOnlyList<PortMapping> ports)
    {
        var mappings = new JsonArray();
        foreach (var p in ports)
        {
            var m = new JsonObject { ["hostPort"] = p.HostPort, ["containerPort"] = p.ContainerPort, ["protocol"] = p.Protocol };
            if (p.HostIp != "0.0.0.0")
            {
                m["hostIP"] = p.HostIp;
            }

            mappings.Add((JsonNode)m);
        }

        return new JsonObject
        {
            ["cniVersion"] = CniPlugins.CniVersion,
            ["name"] = CniName(network.Id),
            ["type"] = "portmap",
            ["capabilities"] = new JsonObject { ["portMappings"] = true },
            ["snat"] = true,
            ["runtimeConfig"] = new JsonObject { ["portMappings"] = mappings },
        };
    }

    /// <summary>
    /// Creates the bridge under the host-wide lock, after checking that no route of another device
    /// overlaps the subnet (another engine's network, a VPN…). The default network, which nobody
    /// addressed explicitly, moves to a free pool instead of failing.
    /// </summary>
    private async Task<NetworkRecord> EnsureBridgeAsync(NetworkRecord network, CancellationToken cancellationToken)
    {
        var bridge = BridgeName(network.Id);
        if (HostNetwork.LinkExists(bridge))
        {
            return network;
        }

        await using var hostLock = await HostLockAsync(cancellationToken);
        if (HostNetwork.LinkExists(bridge))
        {
            return network;
        }

        var subnet = Ipv4Network.Parse(network.Subnet ?? "");
        var clash = Ipv4Network.HostRoutes().Where(r => r.Interface != bridge && r.Network.Overlaps(subnet)).Select(r => r.Interface).FirstOrDefault();
        if (clash is not null)
        {
            if (network.Name != DefaultNetwork)
            {
                throw new EngineException(ErrorKind.InvalidState, $"network {network.Name}: subnet {network.Subnet} overlaps with a route on {clash}");
            }

            var moved = PickSubnet((await _store.ListNetworksAsync(cancellationToken)).Where(n => n.Id != network.Id).ToList());
            _log.LogInformation("default network moves from {Old} to {New}: {Device} routes the old subnet", network.Subnet, moved, clash);
            network = network with { Subnet = moved.ToString(), Gateway = Ipv4Network.Format(moved.First + 1) };
            await _store.RemoveNetworkAsync(network.Id, cancellationToken);
            await _store.AddNetworkAsync(network, cancellationToken);
            TryDeleteDirectory(Path.Combine(IpamDir, CniName(network.Id)));
            subnet = moved;
        }

        await HostNetwork.CreateBridgeAsync(bridge, network.Gateway + "/" + subnet.Prefix.ToString(CultureInfo.InvariantCulture), cancellationToken);
        RecordBridge(bridge);
        return network;
    }

    private async Task RemoveUnusedBridgeAsync(string networkId, string exceptContainer)
    {
        if (await IsDefaultNetworkAsync(networkId))
        {
            return;
        }

        foreach (var c in await _store.ListContainersAsync(CancellationToken.None))
        {
            if (c.Id != exceptContainer && ContainerNetworkState.Read(c.BundleDir) is { } s && s.Endpoints.Any(e => e.NetworkId == networkId && e.Attached is not null))
            {
                return;
            }
        }

        try
        {
            await HostNetwork.DeleteLinkAsync(BridgeName(networkId), CancellationToken.None);
            ForgetBridge(BridgeName(networkId));
        }
        catch (EngineException e)
        {
            _log.LogWarning("remove bridge {Bridge}: {Error}", BridgeName(networkId), e.Message);
        }
    }

    private static void TryDeleteDirectory(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// Name resolution without a DNS server: every attached container's <c>/etc/hosts</c> lists the
    /// others on its user-defined networks by name, short id and alias (Docker's embedded DNS
    /// answers the same names; the default network resolves none, as in Docker).
    /// </summary>
    private async Task RewriteHostsAsync(CancellationToken cancellationToken)
    {
        var all = new List<(ContainerRecord Container, ContainerNetworkState State)>();
        foreach (var c in await _store.ListContainersAsync(cancellationToken))
        {
            if (ContainerNetworkState.Read(c.BundleDir) is { Mode: "bridge" } s)
            {
                all.Add((c, s));
            }
        }

        foreach (var (container, state) in all.Where(x => x.State.Netns is not null))
        {
            var own = state.Endpoints.FirstOrDefault(e => e.Attached is { IpAddress.Length: > 0 })?.Attached;
            var peers = new List<(string, IReadOnlyList<string>)>();
            foreach (var endpoint in state.Endpoints.Where(e => e.Attached is not null && e.NetworkName != DefaultNetwork))
            {
                foreach (var (peer, peerState) in all.Where(x => x.Container.Id != container.Id && x.State.Netns is not null))
                {
                    if (peerState.Endpoints.FirstOrDefault(e => e.NetworkId == endpoint.NetworkId) is { Attached.IpAddress.Length: > 0 } pe)
                    {
                        peers.Add((pe.Attached!.IpAddress, [peer.Name, peer.Id[..12], .. pe.Aliases]));
                    }
                }
            }

            var hostname = string.IsNullOrEmpty(container.Config.Hostname) ? container.Id[..12] : container.Config.Hostname;
            var path = Path.Combine(container.BundleDir, EtcFiles.Hosts);
            try
            {
                EtcFiles.WriteInPlace(path, EtcFiles.HostsFile(own?.IpAddress, [hostname], peers, container.HostConfig.ExtraHosts ?? [], own?.Gateway));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or EngineException)
            {
                _log.LogWarning("write {Path}: {Error}", path, e.Message);
            }
        }
    }

    private Task<EngineEvent> PublishAsync(string action, string networkId, string networkName, string? containerId)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal) { ["name"] = networkName, ["type"] = BridgeDriver };
        if (containerId is not null)
        {
            attributes["container"] = containerId;
        }

        return _events.PublishAsync("network", action, networkId, attributes);
    }
}
