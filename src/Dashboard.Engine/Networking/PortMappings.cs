using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Dashboard.Engine.Api;

namespace Dashboard.Engine.Networking;

/// <summary>Published ports: parsed from Docker's <c>PortBindings</c>/<c>PublishAllPorts</c>, checked against the host, shown as Docker shows them.</summary>
public static class PortMappings
{
    /// <summary>Validates the create body's bindings (400 on malformed input); host ports stay 0 where Docker picks one at start.</summary>
    public static List<PortMapping> Parse(HostConfig host, Dictionary<string, JsonElement>? exposed)
    {
        var result = new List<PortMapping>();
        foreach (var (key, bindings) in host.PortBindings ?? [])
        {
            var (port, proto) = ParseKey(key);
            foreach (var b in bindings is { Count: > 0 } ? bindings : [new PortBinding()])
            {
                var hostIp = string.IsNullOrEmpty(b.HostIp) ? "0.0.0.0" : b.HostIp;
                if (!IPAddress.TryParse(hostIp, out var ip) || ip.AddressFamily != AddressFamily.InterNetwork)
                {
                    throw new EngineException(ErrorKind.InvalidArgument, $"invalid host IP address for port binding: {hostIp} (IPv4 only)");
                }

                var hostPort = 0;
                if (!string.IsNullOrEmpty(b.HostPort)
                    && (!int.TryParse(b.HostPort, NumberStyles.None, CultureInfo.InvariantCulture, out hostPort) || hostPort is < 1 or > 65535))
                {
                    throw new EngineException(ErrorKind.InvalidArgument, $"invalid hostPort: {b.HostPort}");
                }

                result.Add(new PortMapping(ip.ToString(), hostPort, port, proto));
            }
        }

        if (host.PublishAllPorts)
        {
            foreach (var key in exposed?.Keys ?? Enumerable.Empty<string>())
            {
                var (port, proto) = ParseKey(key);
                if (!result.Any(m => m.ContainerPort == port && m.Protocol == proto))
                {
                    result.Add(new PortMapping("0.0.0.0", 0, port, proto));
                }
            }
        }

        var seen = new HashSet<(int, string, string)>();
        foreach (var m in result.Where(m => m.HostPort != 0))
        {
            if (!seen.Add((m.HostPort, m.Protocol, m.HostIp)))
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"Bind for {m.HostIp}:{m.HostPort} failed: port is already allocated");
            }
        }

        return result;
    }

    public static (int Port, string Protocol) ParseKey(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var portText = slash < 0 ? key : key[..slash];
        var proto = slash < 0 ? "tcp" : key[(slash + 1)..].ToLowerInvariant();
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid containerPort: {portText}");
        }

        if (proto is not ("tcp" or "udp" or "sctp"))
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid proto: {proto}");
        }

        if (proto == "sctp")
        {
            throw new EngineException(ErrorKind.InvalidArgument, "publishing sctp ports is not supported by this engine");
        }

        return (port, proto);
    }

    /// <summary>
    /// Docker's userland proxy binds every published port, so a port a host process holds fails the
    /// start; portmap only adds DNAT rules, so we test-bind the port to give the same answer.
    /// Host port 0 becomes a port the kernel picks.
    /// </summary>
    public static PortMapping Reserve(PortMapping m)
    {
        var type = m.Protocol == "udp" ? SocketType.Dgram : SocketType.Stream;
        var proto = m.Protocol == "udp" ? ProtocolType.Udp : ProtocolType.Tcp;
        using var socket = new Socket(AddressFamily.InterNetwork, type, proto);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Parse(m.HostIp), m.HostPort));
        }
        catch (SocketException e)
        {
            var what = e.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => "bind: address already in use",
                SocketError.AddressNotAvailable => "bind: cannot assign requested address",
                _ => "bind: " + e.Message,
            };
            throw new EngineException(ErrorKind.Internal, $"Error starting userland proxy: listen {m.Protocol}4 {m.HostIp}:{m.HostPort}: {what}");
        }

        return m.HostPort != 0 ? m : m with { HostPort = ((IPEndPoint)socket.LocalEndPoint!).Port };
    }

    public static bool Conflicts(PortMapping a, PortMapping b) =>
        a.HostPort == b.HostPort && a.Protocol == b.Protocol && (a.HostIp == b.HostIp || a.HostIp == "0.0.0.0" || b.HostIp == "0.0.0.0");

    /// <summary>Inspect's <c>NetworkSettings.Ports</c>: every exposed or published port, bound ones with their host side.</summary>
    public static Dictionary<string, List<PortBinding>?> InspectView(IEnumerable<string> exposed, IReadOnlyList<PortMapping> active)
    {
        var view = new Dictionary<string, List<PortBinding>?>(StringComparer.Ordinal);
        foreach (var key in exposed)
        {
            var (port, proto) = ParseKey(key);
            view[Key(port, proto)] = null;
        }

        foreach (var m in active)
        {
            var key = Key(m.ContainerPort, m.Protocol);
            var list = view.GetValueOrDefault(key) ?? [];
            list.Add(new PortBinding { HostIp = m.HostIp, HostPort = m.HostPort.ToString(CultureInfo.InvariantCulture) });
            view[key] = list;
        }

        return view;
    }

    public static string Key(int port, string proto) => port.ToString(CultureInfo.InvariantCulture) + "/" + proto;
}
