using System.Text.Json;
using System.Text.Json.Serialization;
using Dashboard.Engine.Api;
using Dashboard.Oci.Runtime;

namespace Dashboard.Engine.Policy;

/// <summary>
/// The host administrator's engine policy (issue 4 §11, security.md D3/D4): what any container of this
/// engine may do, decided on the final OCI runtime spec that will run — never on the API fields — so
/// that every spelling of a forbidden thing (Binds vs Mounts, CapAdd ALL vs Privileged, NetworkMode
/// host vs joining a host-network container) meets the same check. Keys left out of the file take the
/// restrictive default; with no file at all the engine runs without a policy.
/// </summary>
public sealed class EnginePolicy
{
    /// <summary>Kubernetes Pod Security "baseline": the namespaced sysctls safe for untrusted containers.</summary>
    public static readonly IReadOnlyList<string> SafeSysctls =
    [
        "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
    ];

    /// <summary>Docker's default capability set (moby oci/caps/defaults.go).</summary>
    public static readonly IReadOnlyList<string> DefaultCapabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    /// <summary>May containers be privileged (every device, unmasked /proc, writable /sys)?</summary>
    [JsonPropertyName("privileged")] public bool Privileged { get; set; }

    /// <summary>Namespaces a container may share with the host: <c>pid</c>, <c>ipc</c>, <c>uts</c>, <c>network</c>, <c>user</c>, <c>cgroup</c>.</summary>
    [JsonPropertyName("hostNamespaces")] public List<string> HostNamespaces { get; set; } = [];

    /// <summary>Host directories under which bind mount sources may lie (symlinks resolved); empty = no bind mounts.</summary>
    [JsonPropertyName("bindMountPrefixes")] public List<string> BindMountPrefixes { get; set; } = [];

    /// <summary>May containers get device nodes or device cgroup rules beyond Docker's defaults?</summary>
    [JsonPropertyName("devices")] public bool Devices { get; set; }

    /// <summary>Capabilities a container may hold (names with or without <c>CAP_</c>); default Docker's set.</summary>
    [JsonPropertyName("capabilities")] public List<string> Capabilities { get; set; } = [.. DefaultCapabilities];

    /// <summary>May containers run without the engine's default seccomp profile (<c>seccomp=unconfined</c> or a custom profile)? Privileged ones follow <see cref="Privileged"/>.</summary>
    [JsonPropertyName("seccompProfiles")] public bool SeccompProfiles { get; set; }

    /// <summary>Sysctls a container may set; an entry ending in <c>*</c> is a prefix. Default the safe namespaced set.</summary>
    [JsonPropertyName("sysctls")] public List<string> Sysctls { get; set; } = [.. SafeSysctls];

    private static readonly JsonSerializerOptions s_json = new()
    {
        AllowDuplicateProperties = false,
        PropertyNameCaseInsensitive = false,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        TypeInfoResolver = EngineJsonContext.Default,
    };

    /// <summary>The policy file's JSON rules (for the contract tests).</summary>
    internal static JsonSerializerOptions JsonOptions => s_json;

    private static readonly string[] s_namespaceTypes = ["pid", "ipc", "uts", "network", "user", "cgroup"];

    /// <summary>Parses a policy document; unknown keys and duplicate keys are errors (a typo must not silently allow).</summary>
    public static EnginePolicy Parse(string json, string source)
    {
        EnginePolicy policy;
        try
        {
            policy = JsonSerializer.Deserialize(json, DockerJson.Info<EnginePolicy>(s_json)) ?? throw new JsonException("null document");
        }
        catch (JsonException e)
        {
            throw new EngineException(ErrorKind.Internal, $"engine policy {source}: {e.Message}", e);
        }

        foreach (var ns in policy.HostNamespaces)
        {
            if (!s_namespaceTypes.Contains(ns))
            {
                throw new EngineException(ErrorKind.Internal, $"engine policy {source}: unknown namespace '{ns}' in hostNamespaces");
            }
        }

        foreach (var prefix in policy.BindMountPrefixes)
        {
            if (!prefix.StartsWith('/'))
            {
                throw new EngineException(ErrorKind.Internal, $"engine policy {source}: bind mount prefix '{prefix}' is not an absolute path");
            }
        }

        policy.Capabilities = policy.Capabilities.Select(Canonical).ToList();
        return policy;
    }

    private static string Canonical(string cap)
    {
        var c = cap.Trim().ToUpperInvariant();
        return c.StartsWith("CAP_", StringComparison.Ordinal) ? c : "CAP_" + c;
    }

    /// <summary>
    /// Every violation of this policy by <paramref name="spec"/>, as messages (empty = allowed).
    /// <paramref name="managedRoots"/> are the engine's own directories (volumes, this container's files)
    /// whose bind mounts the engine made itself.
    /// </summary>
    public IReadOnlyList<string> Check(Spec spec, IReadOnlyList<string> managedRoots, Func<string, string>? resolvePath = null)
    {
        resolvePath ??= HostPath.Resolve;
        var violations = new List<string>();
        var linux = spec.Linux ?? new Oci.Runtime.Linux();

        var privileged = (linux.Resources?.Devices ?? []).Any(d => d.Allow && d.Type is null or "a" && d.Major is null && d.Minor is null)
            || linux.MaskedPaths is not { Count: > 0 };
        if (privileged && !Privileged)
        {
            violations.Add("privileged mode is not allowed");
        }

        foreach (var type in s_namespaceTypes.Where(t => !HostNamespaces.Contains(t)))
        {
            var ns = linux.Namespaces?.FirstOrDefault(n => n.Type == type);
            var shared = type switch
            {
                // Without user namespace remapping every container shares the host's user namespace; only an explicit join counts.
                "user" or "cgroup" => ns?.Path is { } p && HostPath.IsHostNamespace(type, p),
                _ => ns is null || (ns.Path is { } path && HostPath.IsHostNamespace(type, path)),
            };
            if (shared)
            {
                violations.Add($"sharing the host's {type} namespace is not allowed");
            }
        }

        foreach (var mount in spec.Mounts ?? [])
        {
            var options = mount.Options ?? [];
            if (options.Any(o => o is "shared" or "rshared"))
            {
                violations.Add($"mount {mount.Destination}: shared propagation is not allowed");
            }

            if (mount.Type != "bind" && !options.Any(o => o is "bind" or "rbind"))
            {
                continue;
            }

            var source = mount.Source ?? "";
            string real;
            try
            {
                real = resolvePath(source);
            }
            catch (IOException e)
            {
                violations.Add($"bind mount {source}: {e.Message}");
                continue;
            }

            if (managedRoots.Any(root => Under(real, root)))
            {
                continue;
            }

            if (!BindMountPrefixes.Any(prefix => Under(real, resolvePath(prefix))))
            {
                violations.Add(BindMountPrefixes.Count == 0
                    ? $"bind mount of host path {source} is not allowed"
                    : $"bind mount of host path {source} is not allowed: only paths under {string.Join(", ", BindMountPrefixes)}");
            }
        }

        if (!Devices && !privileged)
        {
            if (linux.Devices is { Count: > 0 } nodes)
            {
                violations.Add($"device {nodes[0].Path} is not allowed");
            }

            foreach (var rule in (linux.Resources?.Devices ?? []).Where(d => d.Allow && !IsDefaultDeviceRule(d)))
            {
                violations.Add($"device access {rule.Type ?? "a"} {rule.Major?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "*"}:{rule.Minor?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "*"} {rule.Access} is not allowed");
            }
        }

        var caps = spec.Process?.Capabilities is { } c
            ? (c.Bounding ?? []).Concat(c.Effective ?? []).Concat(c.Permitted ?? []).Concat(c.Inheritable ?? []).Concat(c.Ambient ?? []).Distinct().ToList()
            : [];
        var extra = caps.Where(cap => !Capabilities.Contains(cap)).ToList();
        if (extra.Count > 0 && !(privileged && Privileged))
        {
            violations.Add($"capabilities {string.Join(", ", extra)} are not allowed");
        }

        foreach (var key in (linux.Sysctl ?? []).Keys)
        {
            if (!Sysctls.Any(s => s.EndsWith('*') ? key.StartsWith(s[..^1], StringComparison.Ordinal) : key == s))
            {
                violations.Add($"sysctl {key} is not allowed");
            }
        }

        if (spec.Hooks is not null)
        {
            violations.Add("OCI hooks are not allowed");
        }

        // Compared with the default profile for the same capabilities, so any spelling of "unconfined"
        // (option, custom profile allowing everything, a profile missing one rule) is the same refusal (security.md D3).
        if (!privileged && !SeccompProfiles)
        {
            var expected = Containers.SeccompOptions.ForContainer(null, false, spec.Process?.Capabilities?.Bounding ?? []);
            if (JsonSerializer.Serialize(linux.Seccomp, DockerJson.Info<Seccomp?>(s_json)) != JsonSerializer.Serialize(expected, DockerJson.Info<Seccomp?>(s_json)))
            {
                violations.Add("seccomp profiles other than the default are not allowed");
            }
        }

        return violations;
    }

    /// <summary>The device rules SpecBuilder grants every container (moby's default devices).</summary>
    private static bool IsDefaultDeviceRule(DeviceCgroup d) =>
        (d.Type, d.Major, d.Minor, d.Access) switch
        {
            ("c" or "b", null, null, "m") => true,
            ("c", 1, 3 or 5 or 7 or 8 or 9, "rwm") => true,
            ("c", 5, 0 or 1 or 2, "rwm") => true,
            ("c", 136, null, "rwm") => true,
            ("c", 10, 200, "rwm") => true,
            _ => false,
        };

    private static bool Under(string path, string root)
    {
        root = root.TrimEnd('/');
        return root.Length == 0 || path == root || path.StartsWith(root + "/", StringComparison.Ordinal);
    }
}
