using Dashboard.Web.Engines;

namespace Dashboard.Web.Security;

/// <summary>
/// The allow-list for container specs created by non-admins, evaluated on the final request (security.md D1, D3):
/// no privileged mode, no host or other-container namespaces, no bind mounts (only named volumes), no devices,
/// no security options, and added capabilities only from the Kubernetes Baseline list. Admins are not limited.
/// </summary>
public static class CreatePolicy
{
    /// <summary>Kubernetes Pod Security Standards, Baseline: the capabilities a pod may add.</summary>
    public static IReadOnlySet<string> BaselineCapabilities { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP",
        "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    };

    /// <summary>The options of <paramref name="request"/> that need the Admin role; empty when none.</summary>
    public static IReadOnlyList<string> DangerousOptions(ContainerCreateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var found = new List<string>();
        if (request.Privileged)
        {
            found.Add("privileged");
        }

        CheckNamespace(found, "network", request.NetworkMode);
        CheckNamespace(found, "pid", request.PidMode);
        CheckNamespace(found, "ipc", request.IpcMode);
        CheckNamespace(found, "uts", request.UtsMode);
        foreach (var m in request.Mounts)
        {
            // A named volume's source is a name; anything path-like reaches the host filesystem (CVE-2026-44850).
            if (!string.Equals(m.Type.Trim(), "volume", StringComparison.OrdinalIgnoreCase) || !IsVolumeName(m.Source))
            {
                found.Add($"bind mount {m.Source}:{m.Target}");
            }
        }

        if (request.Devices.Count > 0)
        {
            found.Add("devices");
        }

        foreach (var cap in request.CapAdd)
        {
            var name = NormalizeCapability(cap);
            if (!BaselineCapabilities.Contains(name))
            {
                found.Add($"capability {name}");
            }
        }

        if (request.SecurityOpt.Count > 0)
        {
            found.Add("security options");
        }

        return found;
    }

    public static string NormalizeCapability(string capability)
    {
        var c = (capability ?? "").Trim().ToUpperInvariant();
        return c.StartsWith("CAP_", StringComparison.Ordinal) ? c[4..] : c;
    }

    /// <summary>Docker's volume name rule: <c>[a-zA-Z0-9][a-zA-Z0-9_.-]+</c>.</summary>
    public static bool IsVolumeName(string source) =>
        source.Length >= 2 && char.IsAsciiLetterOrDigit(source[0]) && source.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');

    private static void CheckNamespace(List<string> found, string kind, string? mode)
    {
        var m = (mode ?? "").Trim();
        if (m.Equals("host", StringComparison.OrdinalIgnoreCase))
        {
            found.Add($"host {kind} namespace");
        }
        else if (m.StartsWith("container:", StringComparison.OrdinalIgnoreCase))
        {
            found.Add($"{kind} namespace of another container");
        }
        else if (kind == "network" && m.Length > 0 && !m.Equals("bridge", StringComparison.OrdinalIgnoreCase) &&
                 !m.Equals("none", StringComparison.OrdinalIgnoreCase) && !m.Equals("default", StringComparison.OrdinalIgnoreCase) &&
                 !IsVolumeName(m))
        {
            found.Add($"network {m}");
        }
        else if (kind != "network" && m.Length > 0 && !m.Equals("private", StringComparison.OrdinalIgnoreCase) && !m.Equals("shareable", StringComparison.OrdinalIgnoreCase))
        {
            found.Add($"{kind} mode {m}");
        }
    }
}
