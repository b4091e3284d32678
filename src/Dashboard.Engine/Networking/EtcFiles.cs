using System.Text;

namespace Dashboard.Engine.Networking;

/// <summary>The <c>/etc/hosts</c>, <c>/etc/resolv.conf</c> and <c>/etc/hostname</c> a container sees, written as moby's libnetwork writes them.</summary>
public static class EtcFiles
{
    public const string Hosts = "hosts";
    public const string ResolvConf = "resolv.conf";
    public const string Hostname = "hostname";

    private static readonly string[] s_defaultNameservers = ["8.8.8.8", "8.8.4.4"];

    /// <summary>One line per address: <c>ip\tname alias…</c>.</summary>
    public static string HostsFile(string? ownIp, IEnumerable<string> ownNames, IEnumerable<(string Ip, IReadOnlyList<string> Names)> peers, IEnumerable<string> extraHosts, string? gateway)
    {
        var text = new StringBuilder();
        text.Append("127.0.0.1\tlocalhost\n");
        text.Append("::1\tlocalhost ip6-localhost ip6-loopback\n");
        text.Append("fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n");
        foreach (var extra in extraHosts)
        {
            // ExtraHosts entries are "name:ip"; "host-gateway" means the network's gateway (moby daemon/container_operations.go).
            var colon = extra.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid extra host: {extra}");
            }

            var ip = extra[(colon + 1)..];
            if (ip == "host-gateway")
            {
                ip = gateway ?? "127.0.0.1";
            }

            CheckEntry(extra[..colon]);
            text.Append(ip).Append('\t').Append(extra[..colon]).Append('\n');
        }

        if (ownIp is not null)
        {
            text.Append(ownIp).Append('\t').AppendJoin(' ', ownNames.Distinct(StringComparer.Ordinal)).Append('\n');
        }

        foreach (var (ip, names) in peers)
        {
            text.Append(ip).Append('\t').AppendJoin(' ', names.Distinct(StringComparer.Ordinal)).Append('\n');
        }

        return text.ToString();
    }

    private static void CheckEntry(string name)
    {
        if (name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c == '#'))
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid extra host name: {name}");
        }
    }

    /// <summary>
    /// The host's resolv.conf without loopback nameservers (they mean nothing inside another network
    /// namespace), falling back to Google DNS as Docker does; Dns/DnsSearch/DnsOptions replace the host's lines.
    /// </summary>
    public static string ResolvFile(string hostResolvConf, bool hostNetwork, IReadOnlyList<string>? dns, IReadOnlyList<string>? search, IReadOnlyList<string>? options)
    {
        var lines = hostResolvConf.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var nameservers = new List<string>();
        var searchLine = default(string);
        var optionsLine = default(string);
        foreach (var line in lines)
        {
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2)
            {
                continue;
            }

            switch (fields[0])
            {
                case "nameserver":
                    if (hostNetwork || !(fields[1].StartsWith("127.", StringComparison.Ordinal) || fields[1] == "::1"))
                    {
                        nameservers.Add(fields[1]);
                    }

                    break;
                case "search" or "domain":
                    searchLine = "search " + string.Join(' ', fields.Skip(1));
                    break;
                case "options":
                    optionsLine = line.Trim();
                    break;
            }
        }

        if (dns is { Count: > 0 })
        {
            nameservers = [.. dns];
        }
        else if (nameservers.Count == 0)
        {
            nameservers.AddRange(s_defaultNameservers);
        }

        if (search is { Count: > 0 })
        {
            searchLine = search is ["."] ? null : "search " + string.Join(' ', search);
        }

        if (options is { Count: > 0 })
        {
            optionsLine = "options " + string.Join(' ', options);
        }

        foreach (var value in nameservers.Concat(search ?? []).Concat(options ?? []))
        {
            if (value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid DNS setting: {value}");
            }
        }

        var text = new StringBuilder();
        foreach (var ns in nameservers)
        {
            text.Append("nameserver ").Append(ns).Append('\n');
        }

        if (searchLine is not null)
        {
            text.Append(searchLine).Append('\n');
        }

        if (optionsLine is not null)
        {
            text.Append(optionsLine).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Rewrites a file in place (same inode), so a bind mount of it in a running container sees the change.</summary>
    public static void WriteInPlace(string path, string content)
    {
        using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite);
        var bytes = Encoding.UTF8.GetBytes(content);
        stream.SetLength(0);
        stream.Write(bytes);
    }
}
