using System.Globalization;
using System.Text.Json;
using Dashboard.Engine.Api;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Store;

namespace Dashboard.Engine.Networking;

public sealed class NetworkCreateBody
{
    public string? Name { get; set; }
    public bool? CheckDuplicate { get; set; }
    public string? Driver { get; set; }
    public string? Scope { get; set; }
    public bool Internal { get; set; }
    public bool Attachable { get; set; }
    public bool Ingress { get; set; }
    public bool ConfigOnly { get; set; }
    public ConfigReference? ConfigFrom { get; set; }
    public IpamView? IPAM { get; set; }
    public bool? EnableIPv6 { get; set; }
    public Dictionary<string, string>? Options { get; set; }
    public Dictionary<string, string>? Labels { get; set; }
}

public sealed class ConfigReference
{
    public string Network { get; set; } = "";
}

public sealed class IpamView
{
    public string? Driver { get; set; } = "default";
    public Dictionary<string, string>? Options { get; set; }
    public List<IpamConfigView>? Config { get; set; }
}

public sealed class IpamConfigView
{
    public string? Subnet { get; set; }
    public string? IPRange { get; set; }
    public string? Gateway { get; set; }
    public Dictionary<string, string>? AuxiliaryAddresses { get; set; }
}

public sealed record NetworkCreateResponse(string Id, string Warning);

public sealed class NetworkConnectBody
{
    public string? Container { get; set; }
    public EndpointSettings? EndpointConfig { get; set; }
    public bool Force { get; set; }
}

public sealed record NetworkPruneResponse(IReadOnlyList<string> NetworksDeleted);

public sealed class NetworkInspectView
{
    public string Name { get; set; } = "";
    public string Id { get; set; } = "";
    public string Created { get; set; } = "";
    public string Scope { get; set; } = "local";
    public string Driver { get; set; } = "";
    public bool EnableIPv6 { get; set; }
    public IpamView IPAM { get; set; } = new();
    public bool Internal { get; set; }
    public bool Attachable { get; set; }
    public bool Ingress { get; set; }
    public ConfigReference ConfigFrom { get; set; } = new();
    public bool ConfigOnly { get; set; }
    public Dictionary<string, NetworkContainerView> Containers { get; set; } = [];
    public Dictionary<string, string> Options { get; set; } = [];
    public Dictionary<string, string> Labels { get; set; } = [];
}

public sealed class NetworkContainerView
{
    public string Name { get; set; } = "";
    public string EndpointID { get; set; } = "";
    public string MacAddress { get; set; } = "";
    public string IPv4Address { get; set; } = "";
    public string IPv6Address { get; set; } = "";
}

/// <summary>An entry of a container's <c>NetworkSettings.Networks</c>.</summary>
public sealed class EndpointView
{
    public EndpointIpamConfig? IPAMConfig { get; set; }
    public List<string>? Links { get; set; }
    public List<string>? Aliases { get; set; }
    public string NetworkID { get; set; } = "";
    public string EndpointID { get; set; } = "";
    public string Gateway { get; set; } = "";
    public string IPAddress { get; set; } = "";
    public int IPPrefixLen { get; set; }
    public string IPv6Gateway { get; set; } = "";
    public string GlobalIPv6Address { get; set; } = "";
    public int GlobalIPv6PrefixLen { get; set; }
    public string MacAddress { get; set; } = "";
    public Dictionary<string, string>? DriverOpts { get; set; }
    public List<string>? DNSNames { get; set; }
}

public sealed record PortView(string? IP, int PrivatePort, int? PublicPort, string Type);

/// <summary>The networking parts of the Docker API's network and container views.</summary>
public static class NetworkViews
{
    public static NetworkInspectView View(NetworkRecord n, IEnumerable<(ContainerRecord Container, Endpoint Endpoint)> members) => new()
    {
        Name = n.Name,
        Id = n.Id,
        Created = n.Created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
        Driver = n.Driver,
        IPAM = new IpamView
        {
            Driver = "default",
            Config = n.Subnet is null ? [] : [new IpamConfigView { Subnet = n.Subnet, Gateway = n.Gateway }],
        },
        Containers = members.Where(m => m.Endpoint.Attached is not null).ToDictionary(
            m => m.Container.Id,
            m => new NetworkContainerView
            {
                Name = m.Container.Name,
                EndpointID = m.Endpoint.EndpointId,
                MacAddress = m.Endpoint.Attached!.MacAddress,
                IPv4Address = m.Endpoint.Attached.IpAddress.Length > 0
                    ? m.Endpoint.Attached.IpAddress + "/" + m.Endpoint.Attached.PrefixLen.ToString(CultureInfo.InvariantCulture)
                    : "",
            },
            StringComparer.Ordinal),
        Options = n.Driver == NetworkManager.BridgeDriver
            ? new Dictionary<string, string>(StringComparer.Ordinal) { ["com.docker.network.bridge.name"] = NetworkManager.BridgeName(n.Id) }
            : [],
        Labels = new Dictionary<string, string>(n.Labels, StringComparer.Ordinal),
    };

    /// <summary>Fills inspect's network settings and <c>/etc</c> file paths from the container's network state.</summary>
    public static void Apply(ContainerInspectView view, ContainerRecord c)
    {
        var state = ContainerNetworkState.Read(c.BundleDir);
        view.NetworkSettings.Ports = PortMappings.InspectView(Exposed(c), state?.Netns is not null ? state.Ports : []);
        if (state is null)
        {
            return;
        }

        var etc = state.Mode == "container" && state.JoinedContainer is { } joined ? Path.Combine(Path.GetDirectoryName(c.BundleDir)!, joined) : c.BundleDir;
        view.HostsPath = Path.Combine(etc, EtcFiles.Hosts);
        view.ResolvConfPath = Path.Combine(etc, EtcFiles.ResolvConf);
        view.HostnamePath = Path.Combine(c.BundleDir, EtcFiles.Hostname);
        view.NetworkSettings.Networks = Endpoints(state, c);
        view.NetworkSettings.SandboxKey = state.Netns ?? "";
        if (state.Endpoints.FirstOrDefault(e => e.NetworkName == NetworkManager.DefaultNetwork)?.Attached is { } primary)
        {
            view.NetworkSettings.IPAddress = primary.IpAddress;
            view.NetworkSettings.IPPrefixLen = primary.PrefixLen;
            view.NetworkSettings.Gateway = primary.Gateway;
            view.NetworkSettings.MacAddress = primary.MacAddress;
        }
    }

    /// <summary>The list view's <c>Ports</c> and <c>NetworkSettings.Networks</c>.</summary>
    public static void Apply(ContainerSummaryView view, ContainerRecord c)
    {
        var state = ContainerNetworkState.Read(c.BundleDir);
        var active = state?.Netns is not null ? state.Ports : [];
        var ports = new List<PortView>();
        foreach (var m in active)
        {
            ports.Add(new PortView(m.HostIp, m.ContainerPort, m.HostPort, m.Protocol));
        }

        foreach (var key in Exposed(c))
        {
            var (port, proto) = PortMappings.ParseKey(key);
            if (!active.Any(m => m.ContainerPort == port && m.Protocol == proto))
            {
                ports.Add(new PortView(null, port, null, proto));
            }
        }

        view.Ports = ports.Select(p => JsonSerializer.SerializeToElement(p, DockerJson.Info<PortView>(DockerJson.Storage))).ToList();
        if (state is not null)
        {
            view.NetworkSettings.Networks = Endpoints(state, c);
        }
    }

    private static List<string> Exposed(ContainerRecord c)
    {
        var keys = new List<string>();
        foreach (var key in (c.Config.ExposedPorts?.Keys ?? Enumerable.Empty<string>()).Concat(c.HostConfig.PortBindings?.Keys ?? Enumerable.Empty<string>()))
        {
            try
            {
                var (port, proto) = PortMappings.ParseKey(key);
                var k = PortMappings.Key(port, proto);
                if (!keys.Contains(k))
                {
                    keys.Add(k);
                }
            }
            catch (EngineException)
            {
            }
        }

        return keys;
    }

    private static Dictionary<string, JsonElement> Endpoints(ContainerNetworkState state, ContainerRecord c)
    {
        var result = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (state.Mode is "host" or "none")
        {
            result[state.Mode] = JsonSerializer.SerializeToElement(new EndpointView(), DockerJson.Info<EndpointView>(DockerJson.Options));
            return result;
        }

        foreach (var e in state.Endpoints)
        {
            var a = e.Attached;
            result[e.NetworkName] = JsonSerializer.SerializeToElement(new EndpointView
            {
                IPAMConfig = e.RequestedIp is null ? null : new EndpointIpamConfig { IPv4Address = e.RequestedIp },
                Aliases = e.Aliases.Count > 0 ? [.. e.Aliases] : null,
                NetworkID = e.NetworkId,
                EndpointID = a is null ? "" : e.EndpointId,
                Gateway = a?.Gateway ?? "",
                IPAddress = a?.IpAddress ?? "",
                IPPrefixLen = a?.PrefixLen ?? 0,
                MacAddress = a?.MacAddress ?? "",
                DNSNames = e.NetworkName == NetworkManager.DefaultNetwork ? null : [c.Name, c.Id[..12], .. e.Aliases],
            }, DockerJson.Info<EndpointView>(DockerJson.Options));
        }

        return result;
    }
}
