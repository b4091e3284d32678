using System.Globalization;
using System.Text.Json;

namespace Dashboard.Engine.Api;

/// <summary>
/// The <c>GET /containers/json</c> filters decided on the list entry the caller sees (moby
/// <c>daemon/list.go</c> semantics): <c>network</c> (name, or network id prefix), <c>publish</c> (host port),
/// <c>expose</c> (container port), <c>volume</c> (volume name, bind source or mount destination),
/// <c>isolation</c> and <c>is-task</c>. Values are validated before anything is listed, as Docker does.
/// </summary>
public static class ContainerListFilters
{
    public static readonly string[] Keys =
    [
        "status", "name", "id", "label", "ancestor", "exited", "before", "since", "health", "isolation", "network", "publish", "expose", "volume", "is-task",
    ];

    public sealed record Compiled(HashSet<string> Publish, HashSet<string> Expose, bool? IsTask);

    public static Compiled Compile(DockerFilters filters)
    {
        ArgumentNullException.ThrowIfNull(filters);
        foreach (var value in filters.Get("isolation"))
        {
            if (value is not ("default" or ""))
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid isolation: {value}");
            }
        }

        bool? isTask = null;
        foreach (var value in filters.Get("is-task"))
        {
            isTask = value switch
            {
                "true" => true,
                "false" => false,
                _ => throw new EngineException(ErrorKind.InvalidArgument, $"invalid filter 'is-task={value}'"),
            };
        }

        return new Compiled(Ports(filters, "publish"), Ports(filters, "expose"), isTask);
    }

    /// <summary>Whether <paramref name="view"/> passes the filters only this class decides.</summary>
    public static bool Matches(ContainerSummaryView view, DockerFilters filters, Compiled compiled)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(filters);
        ArgumentNullException.ThrowIfNull(compiled);

        // No container of this engine is a swarm task; every one has the default isolation, the only valid filter value on Linux.
        if (compiled.IsTask == true)
        {
            return false;
        }

        if (filters.Has("network") && !filters.Get("network").Any(n => OnNetwork(view, n)))
        {
            return false;
        }

        if (compiled.Publish.Count > 0 || compiled.Expose.Count > 0)
        {
            var any = false;
            foreach (var port in view.Ports)
            {
                var type = port.TryGetProperty("Type", out var t) ? t.GetString() ?? "tcp" : "tcp";
                if ((port.TryGetProperty("PublicPort", out var pub) && pub.ValueKind == JsonValueKind.Number && compiled.Publish.Contains($"{pub.GetInt32()}/{type}"))
                    || (port.TryGetProperty("PrivatePort", out var priv) && priv.ValueKind == JsonValueKind.Number && compiled.Expose.Contains($"{priv.GetInt32()}/{type}")))
                {
                    any = true;
                    break;
                }
            }

            if (!any)
            {
                return false;
            }
        }

        return !filters.Has("volume") || filters.Get("volume").Any(v => view.Mounts.Any(m => m.Destination == v || (string.IsNullOrEmpty(m.Name) ? m.Source == v : m.Name == v)));
    }

    private static bool OnNetwork(ContainerSummaryView view, string value)
    {
        if (value.Length == 0)
        {
            return false;
        }

        if (view.NetworkSettings.Networks.Count == 0)
        {
            var mode = view.HostConfig.GetValueOrDefault("NetworkMode") ?? "default";
            return value == (mode == "default" ? "bridge" : mode);
        }

        return view.NetworkSettings.Networks.ContainsKey(value) || view.NetworkSettings.Networks.Values.Any(e =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty("NetworkID", out var id) && id.GetString() is { Length: > 0 } s && s.StartsWith(value, StringComparison.Ordinal));
    }

    /// <summary>Docker's port filter values: <c>80</c>, <c>80/udp</c>, <c>8000-8080/tcp</c> (tcp when no protocol is given).</summary>
    private static HashSet<string> Ports(DockerFilters filters, string key)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in filters.Get(key))
        {
            var slash = value.IndexOf('/', StringComparison.Ordinal);
            var range = slash < 0 ? value : value[..slash];
            var proto = slash < 0 ? "tcp" : value[(slash + 1)..].ToLowerInvariant();
            var dash = range.IndexOf('-', StringComparison.Ordinal);
            if (proto is not ("tcp" or "udp" or "sctp")
                || !TryPort(dash < 0 ? range : range[..dash], out var first)
                || !TryPort(dash < 0 ? range : range[(dash + 1)..], out var last)
                || last < first)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid filter '{key}={value}'");
            }

            for (var p = first; p <= last; p++)
            {
                set.Add($"{p}/{proto}");
            }
        }

        return set;
    }

    private static bool TryPort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;
}
