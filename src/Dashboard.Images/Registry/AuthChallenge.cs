using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace Dashboard.Images.Registry;

/// <summary>
/// A parsed <c>WWW-Authenticate</c> challenge (RFC 7235; distribution "Token Authentication
/// Specification"): <c>Bearer realm="…",service="…",scope="…"</c> or <c>Basic realm="…"</c>. A
/// challenge with control characters, a repeated parameter or an unterminated quote is refused
/// instead of guessed at (security.md C1).
/// </summary>
internal sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public bool IsBearer => Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase);

    public bool IsBasic => Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase);

    public string? Realm => Parameters.GetValueOrDefault("realm");

    public string? Service => Parameters.GetValueOrDefault("service");

    /// <summary>The first Bearer challenge, else the first Basic one, else null.</summary>
    public static AuthChallenge? From(HttpHeaderValueCollection<AuthenticationHeaderValue> headers)
    {
        var challenges = new List<AuthChallenge>();
        foreach (var header in headers)
        {
            challenges.Add(Parse(header.Scheme, header.Parameter ?? string.Empty));
        }

        return challenges.FirstOrDefault(c => c.IsBearer) ?? challenges.FirstOrDefault(c => c.IsBasic);
    }

    public static AuthChallenge Parse(string scheme, string parameter)
    {
        if (parameter.Any(char.IsControl))
        {
            throw Invalid("control characters");
        }

        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        while (i < parameter.Length)
        {
            while (i < parameter.Length && parameter[i] is ' ' or ',')
            {
                i++;
            }

            if (i >= parameter.Length)
            {
                break;
            }

            var eq = parameter.IndexOf('=', i);
            if (eq < 0)
            {
                throw Invalid("parameter without a value");
            }

            var key = parameter[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < parameter.Length && parameter[i] == '"')
            {
                var sb = new System.Text.StringBuilder();
                i++;
                var closed = false;
                while (i < parameter.Length)
                {
                    var c = parameter[i++];
                    if (c == '\\' && i < parameter.Length)
                    {
                        sb.Append(parameter[i++]);
                    }
                    else if (c == '"')
                    {
                        closed = true;
                        break;
                    }
                    else
                    {
                        sb.Append(c);
                    }
                }

                if (!closed)
                {
                    throw Invalid("unterminated quoted value");
                }

                value = sb.ToString();
            }
            else
            {
                var end = parameter.IndexOf(',', i);
                end = end < 0 ? parameter.Length : end;
                value = parameter[i..end].Trim();
                i = end;
            }

            if (key.Length == 0 || !values.TryAdd(key, value))
            {
                throw Invalid($"repeated or empty parameter \"{key}\"");
            }
        }

        return new AuthChallenge(scheme, values);
    }

    private static RegistryException Invalid(string why) => new(RegistryErrorKind.Protocol, $"invalid WWW-Authenticate challenge: {why}");
}

/// <summary>Address rules for token realms and redirect targets (security.md C1, C3).</summary>
internal static class HostPolicy
{
    /// <summary>Link-local covers the cloud metadata address 169.254.169.254; refused always.</summary>
    public static bool IsLinkLocal(string host) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var ip) && (ip.AddressFamily == AddressFamily.InterNetwork
            ? ip.GetAddressBytes() is [169, 254, ..]
            : ip.IsIPv6LinkLocal);

    /// <summary>Loopback, RFC 1918 and unique-local addresses (literal IPs and <c>localhost</c>).</summary>
    public static bool IsPrivate(string host)
    {
        host = host.Trim('[', ']');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (!IPAddress.TryParse(host, out var ip))
        {
            return false;
        }

        if (IPAddress.IsLoopback(ip))
        {
            return true;
        }

        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }

        return ip.AddressFamily == AddressFamily.InterNetwork
            ? ip.GetAddressBytes() is [10, ..] or [192, 168, ..] or [172, >= 16 and <= 31, ..] or [0, ..]
            : ip.IsIPv6UniqueLocal || ip.Equals(IPAddress.IPv6Any);
    }

    /// <summary>The registrable part of a host, roughly: its last two labels (<c>auth.docker.io</c> → <c>docker.io</c>).</summary>
    public static string Site(string host)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out _))
        {
            return host;
        }

        var labels = host.Split('.');
        return labels.Length <= 2 ? host : string.Join('.', labels[^2..]);
    }
}
