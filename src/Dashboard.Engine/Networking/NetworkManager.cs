using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Dashboard.Engine.Api;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Events;
using Dashboard.Engine.Hosting;
using Dashboard.Engine.Store;
using Dashboard.Oci.Runtime;
using OciMount = Dashboard.Oci.Runtime.Mount;

namespace Dashboard.Engine.Networking;

/// <summary>
/// Container networking through the CNI plugins (DESIGN.md §7): bridge networks with host-local IPAM
/// and portmap, plus the <c>none</c>, <c>host</c> and <c>container:</c> modes. Networks are rows of
/// the store; each container's endpoints live in its <see cref="ContainerNetworkState"/>. The default
/// network's bridge stays up from engine start on (NetworkManager.DefaultBridge.cs); a user-defined
/// network's bridge exists while at least one container is attached.
/// </summary>
public sealed partial class NetworkManager : IContainerNetworking
{
    public const string DefaultNetwork = "bridge";
    public const string BridgeDriver = "bridge";

    private static readonly string[] s_predefined = [DefaultNetwork, "host", "none"];

    private readonly EngineOptions _options;
    private readonly IContainerStore _store;
    private readonly EventBus _events;
    private readonly TimeProvider _time;
    private readonly ILogger<NetworkManager> _log;
    private readonly CniPlugins _cni = new(CniPlugins.DefaultSearchPath);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public NetworkManager(EngineOptions options, IContainerStore store, EventBus events, TimeProvider time, ILogger<NetworkManager> log)
    {
        _options = options;
        _store = store;
        _events = events;
        _time = time;
        _log = log;
    }

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")]
    private static partial Regex NameRegex();

    public string NetnsDir => Path.Combine(_options.StateRoot, "netns");

    public string NetnsPath(string containerId) => Path.Combine(NetnsDir, containerId);

    private string IpamDir => Path.Combine(_options.StateRoot, "cni", "networks");

    public static string BridgeName(string networkId) => "dbr-" + networkId[..11];

    public static string CniName(string networkId) => "dashboard-" + networkId[..12];

    public static bool IsPredefined(string name) => s_predefined.Contains(name);

    /// <summary>Docker's default address pools: 172.17-31.0.0/16, then 192.168.0-240.0/20.</summary>
    private static IEnumerable<Ipv4Network> Pool()
    {
        for (uint b = 17; b <= 31; b++)
        {
            yield return new Ipv4Network((172u << 24) | (b << 16), 16);
        }

        for (uint c = 0; c < 256; c += 16)
        {
            yield return new Ipv4Network((192u << 24) | (168u << 16) | (c << 8), 20);
        }
    }

    /// <summary>A host-wide lock (all engines on the host) around choosing subnets and creating bridges.</summary>
    private static async Task<FileStream> HostLockAsync(CancellationToken cancellationToken)
    {
        var dir = Directory.Exists("/run/lock") ? "/run/lock" : Path.GetTempPath();
        var path = Path.Combine(dir, "dashboard-networks.lock");
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 3000)
            {
                await Task.Delay(10, cancellationToken);
            }
        }
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(NetnsDir);
        var networks = await _store.ListNetworksAsync(cancellationToken);
        foreach (var (name, driver) in new[] { (DefaultNetwork, BridgeDriver), ("host", "host"), ("none", "null") })
        {
            if (networks.Any(n => n.Name == name))
            {
                continue;
            }

            string? subnet = null;
            string? gateway = null;
            if (driver == BridgeDriver)
            {
                var net = PickSubnet(networks);
                subnet = net.ToString();
                gateway = Ipv4Network.Format(net.First + 1);
            }

            await _store.AddNetworkAsync(new NetworkRecord(ContainerManager.NewId(), name, driver, subnet, gateway, _time.GetUtcNow(), new Dictionary<string, string>()), cancellationToken);
        }

        // Namespace files whose container is gone (engine killed between create and record) are unmounted here.
        var ids = (await _store.ListContainersAsync(cancellationToken)).Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(NetnsDir))
        {
            if (!ids.Contains(Path.GetFileName(file)))
            {
                HostNetwork.RemoveNamespace(file);
            }
        }

        await EnsureDefaultBridgeAsync(cancellationToken);
    }

    private static Ipv4Network PickSubnet(IReadOnlyList<NetworkRecord> existing)
    {
        var taken = existing.Select(n => Ipv4Network.TryParse(n.Subnet, out var s) ? s : (Ipv4Network?)null).OfType<Ipv4Network>()
            .Concat(Ipv4Network.HostRoutes().Select(r => r.Network)).ToList();
        foreach (var candidate in Pool())
        {
            if (!taken.Any(t => t.Overlaps(candidate)))
            {
                return candidate;
            }
        }

        throw new EngineException(ErrorKind.Internal, "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network");
    }

    // ---- create-time planning -------------------------------------------------------------------

    public async Task PrepareAsync(string id, string bundleDir, ContainerCreateBody body, HostConfig host, Spec spec, CancellationToken cancellationToken)
    {
        var state = new ContainerNetworkState();
        var mode = host.NetworkMode ?? "";
        var hostname = string.IsNullOrEmpty(body.Hostname) ? id[..12] : body.Hostname;
        var etcSource = bundleDir;
        var endpoints = EndpointsConfig(body.NetworkingConfig);
        if (mode.StartsWith("container:", StringComparison.Ordinal))
        {
            var target = await _store.LookupContainerAsync(mode["container:".Length..], cancellationToken);
            if (!string.IsNullOrEmpty(body.Hostname))
            {
                throw new EngineException(ErrorKind.InvalidArgument, "conflicting options: hostname and the network mode");
            }

            if (host.PortBindings?.Values.Any(v => v is { Count: > 0 }) == true || host.PublishAllPorts)
            {
                throw new EngineException(ErrorKind.InvalidArgument, "conflicting options: port publishing and the container type network mode");
            }

            var targetState = ContainerNetworkState.Read(target.BundleDir) ?? throw new EngineException(ErrorKind.InvalidState, $"container {target.Id} has no network configuration to join");
            if (targetState.Mode == "container")
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"cannot join the network of container {target.Id}: it shares another container's network itself");
            }

            state.Mode = targetState.Mode == "host" ? "host" : "container";
            state.JoinedContainer = target.Id;
            etcSource = target.BundleDir;
        }
        else
        {
            var network = await _store.GetNetworkAsync(mode is "" or "default" ? DefaultNetwork : mode, cancellationToken)
                ?? throw new EngineException(ErrorKind.NotFound, $"network {mode} not found");
            state.Mode = network.Driver switch
            {
                "host" => "host",
                "null" => "none",
                _ => "bridge",
            };
            if (state.Mode == "bridge")
            {
                // The docker CLI names the primary endpoint as it named the mode ("default", a name, an id or a prefix).
                state.Endpoints.Add(NewEndpoint(network, endpoints.GetValueOrDefault(network.Name) ?? endpoints.GetValueOrDefault(network.Id) ?? endpoints.GetValueOrDefault(mode)));
                foreach (var (key, config) in endpoints)
                {
                    if (key == network.Name || key == network.Id || key == mode || key == "default")
                    {
                        continue;
                    }

                    var other = await _store.GetNetworkAsync(key, cancellationToken) ?? throw new EngineException(ErrorKind.NotFound, $"network {key} not found");
                    if (other.Driver != BridgeDriver)
                    {
                        throw new EngineException(ErrorKind.InvalidArgument, $"container cannot be connected to network {other.Name} and {network.Name} at once");
                    }

                    if (state.Endpoints.All(e => e.NetworkId != other.Id))
                    {
                        state.Endpoints.Add(NewEndpoint(other, config));
                    }
                }

                state.Ports = PortMappings.Parse(host, body.ExposedPorts);
            }
        }

        state.RuntimeNamespace = state.Mode == "none";
        SetNamespace(spec, state.Mode switch
        {
            "host" => null,
            "none" => "",
            _ => NetnsPath(state.JoinedContainer ?? id),
        });
        if (state.Mode != "container")
        {
            File.WriteAllText(Path.Combine(bundleDir, EtcFiles.Hostname), hostname + "\n");
            EtcFiles.WriteInPlace(Path.Combine(bundleDir, EtcFiles.Hosts), state.Mode == "host"
                ? ReadHostFile("/etc/hosts")
                : EtcFiles.HostsFile(null, [], [], host.ExtraHosts ?? [], null));
            EtcFiles.WriteInPlace(Path.Combine(bundleDir, EtcFiles.ResolvConf), ResolvConf(host, state.Mode == "host"));
        }

        AddMount(spec, "/etc/hostname", Path.Combine(state.Mode == "container" ? bundleDir : etcSource, EtcFiles.Hostname));
        AddMount(spec, "/etc/hosts", Path.Combine(etcSource, EtcFiles.Hosts));
        AddMount(spec, "/etc/resolv.conf", Path.Combine(etcSource, EtcFiles.ResolvConf));
        if (state.Mode == "container")
        {
            File.WriteAllText(Path.Combine(bundleDir, EtcFiles.Hostname), hostname + "\n");
        }

        state.Write(bundleDir);
    }

    private static Endpoint NewEndpoint(NetworkRecord network, EndpointSettings? settings)
    {
        var requested = settings?.IPAMConfig?.IPv4Address;
        if (!string.IsNullOrEmpty(requested))
        {
            if (!Ipv4Network.TryParseAddress(requested, out var ip) || !Ipv4Network.TryParse(network.Subnet, out var subnet) || !subnet.Contains(ip))
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid IPv4 address {requested} for network {network.Name}: not within {network.Subnet}");
            }

            if (network.Name == DefaultNetwork)
            {
                throw new EngineException(ErrorKind.InvalidArgument, "user specified IP address is supported on user defined networks only");
            }
        }

        foreach (var alias in settings?.Aliases ?? [])
        {
            if (!NameRegex().IsMatch(alias))
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid network alias: {alias}");
            }
        }

        return new Endpoint
        {
            NetworkId = network.Id,
            NetworkName = network.Name,
            Aliases = network.Name == DefaultNetwork ? [] : [.. settings?.Aliases ?? []],
            RequestedIp = string.IsNullOrEmpty(requested) ? null : requested,
        };
    }

    private static Dictionary<string, EndpointSettings> EndpointsConfig(JsonElement? networkingConfig)
    {
        if (networkingConfig is not { ValueKind: JsonValueKind.Object } config
            || !config.TryGetProperty("EndpointsConfig", out var endpoints) || endpoints.ValueKind != JsonValueKind.Object)
        {
            return new Dictionary<string, EndpointSettings>(StringComparer.Ordinal);
        }

        return JsonSerializer.Deserialize(endpoints.GetRawText(), DockerJson.Info<Dictionary<string, EndpointSettings>>(DockerJson.Options)) ?? [];
    }

    /// <summary><paramref name="path"/>: null = the host's namespace, "" = a new one the runtime makes, else that file.</summary>
    private static void SetNamespace(Spec spec, string? path)
    {
        var namespaces = spec.Linux?.Namespaces;
        if (namespaces is null)
        {
            return;
        }

        namespaces.RemoveAll(n => n.Type == "network");
        if (path is not null)
        {
            namespaces.Add(new Namespace { Type = "network", Path = path.Length == 0 ? null : path });
        }
    }

    private static void AddMount(Spec spec, string destination, string source)
    {
        spec.Mounts ??= [];
        if (spec.Mounts.Any(m => m.Destination == destination))
        {
            return;
        }

        spec.Mounts.Add(new OciMount { Destination = destination, Type = "bind", Source = source, Options = ["rbind", "rprivate", "rw"] });
    }

    private static string ReadHostFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static string ResolvConf(HostConfig host, bool hostNetwork)
    {
        // With systemd-resolved the stub's upstream list is the useful one (moby libnetwork/resolvconf).
        var path = File.Exists("/run/systemd/resolve/resolv.conf") && ReadHostFile("/etc/resolv.conf").Contains("127.0.0.53", StringComparison.Ordinal)
            ? "/run/systemd/resolve/resolv.conf"
            : "/etc/resolv.conf";
        return EtcFiles.ResolvFile(ReadHostFile(path), hostNetwork, host.Dns, host.DnsSearch, host.DnsOptions);
    }
}

/// <summary>One entry of <c>NetworkingConfig.EndpointsConfig</c> or a connect body's <c>EndpointConfig</c>.</summary>
public sealed class EndpointSettings
{
    public EndpointIpamConfig? IPAMConfig { get; set; }
    public List<string>? Aliases { get; set; }
}

public sealed class EndpointIpamConfig
{
    public string? IPv4Address { get; set; }
}
