using System.Globalization;
using Dashboard.Engine.Api;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Store;

namespace Dashboard.Engine.Networking;

public sealed partial class NetworkManager
{
    public async Task<NetworkRecord> GetAsync(string reference, CancellationToken cancellationToken)
    {
        var network = await _store.GetNetworkAsync(reference, cancellationToken);
        if (network is null && reference.Length is >= 1 and < 64 && reference.All(char.IsAsciiHexDigitLower))
        {
            var matches = (await _store.ListNetworksAsync(cancellationToken)).Where(n => n.Id.StartsWith(reference, StringComparison.Ordinal)).ToList();
            if (matches.Count > 1)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"network {reference} is ambiguous ({matches.Count} matches found based on ID prefix)");
            }

            network = matches.FirstOrDefault();
        }

        return network ?? throw new EngineException(ErrorKind.NotFound, $"network {reference} not found");
    }

    public Task<IReadOnlyList<NetworkRecord>> ListAsync(CancellationToken cancellationToken) => _store.ListNetworksAsync(cancellationToken);

    public async Task<NetworkRecord> CreateAsync(NetworkCreateBody body, CancellationToken cancellationToken)
    {
        var name = body.Name ?? "";
        if (name.Length is 0 or > 128 || !NameRegex().IsMatch(name))
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid network name: \"{(name.Length > 64 ? name[..64] + "…" : name)}\", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
        }

        if (name.ToLowerInvariant() is "host" or "none" or "bridge" or "default" or "container")
        {
            throw new EngineException(ErrorKind.PermissionDenied, $"{name} is a pre-defined network and cannot be created");
        }

        var driver = string.IsNullOrEmpty(body.Driver) ? BridgeDriver : body.Driver;
        if (driver is "host" or "null")
        {
            throw new EngineException(ErrorKind.PermissionDenied, $"only one instance of \"{driver}\" network is allowed");
        }

        if (driver != BridgeDriver)
        {
            throw new EngineException(ErrorKind.NotFound, $"plugin \"{driver}\" not found");
        }

        if (body.Internal || body.EnableIPv6 == true || body.Ingress || body.ConfigOnly || !string.IsNullOrEmpty(body.ConfigFrom?.Network))
        {
            throw new EngineException(ErrorKind.InvalidArgument, "internal, ingress, config-only and IPv6 networks are not supported by this engine");
        }

        if (body.IPAM?.Driver is not (null or "" or "default"))
        {
            throw new EngineException(ErrorKind.NotFound, $"plugin \"{body.IPAM.Driver}\" not found");
        }

        foreach (var key in body.Options?.Keys ?? Enumerable.Empty<string>())
        {
            if (key is not ("com.docker.network.bridge.enable_ip_masquerade" or "com.docker.network.bridge.enable_icc" or "com.docker.network.driver.mtu"))
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"network option {key} is not supported by this engine");
            }
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            var existing = await _store.ListNetworksAsync(cancellationToken);
            if (existing.Any(n => n.Name == name))
            {
                throw new EngineException(ErrorKind.AlreadyExists, $"network with name {name} already exists");
            }

            Ipv4Network subnet;
            string gateway;
            var configs = body.IPAM?.Config ?? [];
            if (configs.Count > 1)
            {
                throw new EngineException(ErrorKind.InvalidArgument, "only one IPAM configuration (IPv4) is supported by this engine");
            }

            if (configs is [var config] && !string.IsNullOrEmpty(config.Subnet))
            {
                if (!string.IsNullOrEmpty(config.IPRange) || config.AuxiliaryAddresses is { Count: > 0 })
                {
                    throw new EngineException(ErrorKind.InvalidArgument, "IPRange and AuxiliaryAddresses are not supported by this engine");
                }

                subnet = Ipv4Network.Parse(config.Subnet);
                if (subnet.Address != subnet.First)
                {
                    throw new EngineException(ErrorKind.InvalidArgument, $"invalid subnet {config.Subnet}: it should be {subnet}");
                }

                if (subnet.Prefix > 30)
                {
                    throw new EngineException(ErrorKind.InvalidArgument, $"subnet {config.Subnet} is too small for a network");
                }

                if (existing.Any(n => Ipv4Network.TryParse(n.Subnet, out var s) && s.Overlaps(subnet)))
                {
                    throw new EngineException(ErrorKind.PermissionDenied, "Pool overlaps with other one on this address space");
                }

                if (string.IsNullOrEmpty(config.Gateway))
                {
                    gateway = Ipv4Network.Format(subnet.First + 1);
                }
                else if (!Ipv4Network.TryParseAddress(config.Gateway, out var gw) || !subnet.Contains(gw) || gw == subnet.First || gw == subnet.Last)
                {
                    throw new EngineException(ErrorKind.InvalidArgument, $"invalid gateway {config.Gateway}: not a host address of subnet {subnet}");
                }
                else
                {
                    gateway = Ipv4Network.Format(gw);
                }
            }
            else if (configs is [var gatewayOnly] && !string.IsNullOrEmpty(gatewayOnly.Gateway))
            {
                throw new EngineException(ErrorKind.InvalidArgument, "a gateway needs a subnet");
            }
            else
            {
                subnet = PickSubnet(existing);
                gateway = Ipv4Network.Format(subnet.First + 1);
            }

            var labels = new Dictionary<string, string>(body.Labels ?? [], StringComparer.Ordinal);
            var network = new NetworkRecord(ContainerManager.NewId(), name, BridgeDriver, subnet.ToString(), gateway, _time.GetUtcNow(), labels);
            await _store.AddNetworkAsync(network, cancellationToken);
            await PublishAsync("create", network.Id, network.Name, null);
            return network;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Containers configured with an endpoint on the network, with the endpoint (attached while they run).</summary>
    public async Task<List<(ContainerRecord Container, Endpoint Endpoint)>> MembersAsync(string networkId, CancellationToken cancellationToken)
    {
        var result = new List<(ContainerRecord, Endpoint)>();
        foreach (var c in await _store.ListContainersAsync(cancellationToken))
        {
            if (ContainerNetworkState.Read(c.BundleDir)?.Endpoints.FirstOrDefault(e => e.NetworkId == networkId) is { } endpoint)
            {
                result.Add((c, endpoint));
            }
        }

        return result;
    }

    public async Task RemoveAsync(string reference, CancellationToken cancellationToken)
    {
        var network = await GetAsync(reference, cancellationToken);
        if (IsPredefined(network.Name))
        {
            throw new EngineException(ErrorKind.PermissionDenied, $"{network.Name} is a pre-defined network and cannot be removed");
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            var members = await MembersAsync(network.Id, cancellationToken);
            if (members.Count > 0)
            {
                throw new EngineException(ErrorKind.PermissionDenied, $"error while removing network: network {network.Name} id {network.Id} has active endpoints ({string.Join(", ", members.Select(m => m.Container.Name))})");
            }

            await HostNetwork.DeleteLinkAsync(BridgeName(network.Id), cancellationToken);
            ForgetBridge(BridgeName(network.Id));
            TryDeleteDirectory(Path.Combine(IpamDir, CniName(network.Id)));
            await _store.RemoveNetworkAsync(network.Id, CancellationToken.None);
        }
        finally
        {
            _gate.Release();
        }

        await PublishAsync("destroy", network.Id, network.Name, null);
    }

    public async Task<IReadOnlyList<string>> PruneAsync(DockerFilters filters, CancellationToken cancellationToken)
    {
        long? until = null;
        if (filters.Get("until") is [var u, ..])
        {
            until = ParseUntil(u, _time.GetUtcNow());
        }

        var removed = new List<string>();
        foreach (var network in await _store.ListNetworksAsync(cancellationToken))
        {
            if (IsPredefined(network.Name) || !filters.MatchLabels(network.Labels) || (filters.Has("label!") && !NotLabels(filters, network))
                || (until is { } t && network.Created.ToUnixTimeSeconds() >= t))
            {
                continue;
            }

            try
            {
                await RemoveAsync(network.Id, cancellationToken);
                removed.Add(network.Name);
            }
            catch (EngineException e) when (e.Kind is ErrorKind.PermissionDenied or ErrorKind.NotFound)
            {
            }
        }

        await _events.PublishAsync("network", "prune", "", new Dictionary<string, string>(StringComparer.Ordinal));
        return removed;
    }

    private static bool NotLabels(DockerFilters filters, NetworkRecord network) =>
        filters.Get("label!").All(expr =>
        {
            var eq = expr.IndexOf('=', StringComparison.Ordinal);
            var key = eq < 0 ? expr : expr[..eq];
            return !network.Labels.TryGetValue(key, out var v) || (eq >= 0 && v != expr[(eq + 1)..]);
        });

    /// <summary>Docker's <c>until</c>: a unix timestamp or a Go duration such as <c>10m</c> or <c>24h</c> before now.</summary>
    private static long ParseUntil(string value, DateTimeOffset now)
    {
        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var unix))
        {
            return unix;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time.ToUnixTimeSeconds();
        }

        if (value.Length > 1 && double.TryParse(value[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
        {
            var span = value[^1] switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                _ => throw new EngineException(ErrorKind.InvalidArgument, $"invalid until filter: {value}"),
            };
            return (now - span).ToUnixTimeSeconds();
        }

        throw new EngineException(ErrorKind.InvalidArgument, $"invalid until filter: {value}");
    }

    public async Task ConnectAsync(string networkReference, string containerReference, EndpointSettings? settings, CancellationToken cancellationToken)
    {
        var network = await GetAsync(networkReference, cancellationToken);
        var container = await _store.LookupContainerAsync(containerReference, cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var state = ContainerNetworkState.Read(container.BundleDir) ?? throw new EngineException(ErrorKind.InvalidState, $"container {container.Id} has no network configuration");
            if (network.Driver != BridgeDriver || state.Mode != "bridge")
            {
                throw new EngineException(ErrorKind.PermissionDenied, state.Mode == "host" || network.Driver == "host"
                    ? "container cannot be disconnected from host network or connected to host network"
                    : "container cannot be connected to multiple networks with one of the networks in private (none) mode");
            }

            if (state.Endpoints.Any(e => e.NetworkId == network.Id))
            {
                throw new EngineException(ErrorKind.PermissionDenied, $"endpoint with name {container.Name} already exists in network {network.Name}");
            }

            var endpoint = NewEndpoint(network, settings);
            state.Endpoints.Add(endpoint);
            state.Write(container.BundleDir);
            if (state.Netns is not null)
            {
                try
                {
                    await AttachAsync(container, state, endpoint, publish: false, cancellationToken);
                }
                catch
                {
                    await DetachAsync(container.Id, container.BundleDir, state, endpoint);
                    state.Endpoints.Remove(endpoint);
                    state.Write(container.BundleDir);
                    throw;
                }

                await RewriteHostsAsync(CancellationToken.None);
            }
        }
        finally
        {
            _gate.Release();
        }

        await PublishAsync("connect", network.Id, network.Name, container.Id);
    }

    public async Task DisconnectAsync(string networkReference, string containerReference, CancellationToken cancellationToken)
    {
        var network = await GetAsync(networkReference, cancellationToken);
        var container = await _store.LookupContainerAsync(containerReference, cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var state = ContainerNetworkState.Read(container.BundleDir);
            if (state is { Mode: "host" } || network.Driver == "host")
            {
                throw new EngineException(ErrorKind.PermissionDenied, "container cannot be disconnected from host network or connected to host network");
            }

            var endpoint = state?.Endpoints.FirstOrDefault(e => e.NetworkId == network.Id)
                ?? throw new EngineException(ErrorKind.PermissionDenied, $"container {container.Id} is not connected to network {network.Name}");
            await DetachAsync(container.Id, container.BundleDir, state!, endpoint);
            state!.Endpoints.Remove(endpoint);
            state.Write(container.BundleDir);
            await RewriteHostsAsync(CancellationToken.None);
        }
        finally
        {
            _gate.Release();
        }

        await PublishAsync("disconnect", network.Id, network.Name, container.Id);
    }
}
