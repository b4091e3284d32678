using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Security;

namespace Dashboard.Runtime;

/// <summary>
/// Validates config.json before anything is created (runc <c>libcontainer/configs/validate</c>,
/// security.md A11). Every problem is an <see cref="ErrorKind.InvalidSpec"/> error naming the field.
/// </summary>
public static class SpecValidator
{
    private static readonly HashSet<string> s_namespaceTypes = ["pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"];

    private static readonly HashSet<string> s_ipcSysctls =
        ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"];

    private static readonly HashSet<string> s_propagation = ["shared", "rshared", "slave", "rslave", "private", "rprivate", "unbindable", "runbindable"];

    /// <summary>Validates a spec whose bundle is <paramref name="bundle"/>; returns the absolute rootfs path.</summary>
    public static string Validate(Spec spec, string bundle)
    {
        if (!RuntimeJson.IsSupportedVersion(spec.OciVersion))
        {
            throw RuntimeException.InvalidSpec($"unsupported spec version \"{spec.OciVersion}\" (this runtime implements 1.0.0 to {RuntimeJson.SpecVersion[..3]}.x)");
        }

        if (spec.Root is null || string.IsNullOrEmpty(spec.Root.Path))
        {
            throw RuntimeException.InvalidSpec("root.path is required");
        }

        var rootfs = System.IO.Path.GetFullPath(spec.Root.Path, bundle);
        // statx rather than Directory.Exists/DirectoryInfo: create's path stays off FileSystem's code.
        if (!Linux.Native.Sys.TryStat(rootfs, follow: true, out var target) || (target.Mode & 0xF000) != 0x4000 /* S_IFDIR */)
        {
            throw RuntimeException.InvalidSpec($"rootfs ({rootfs}) does not exist");
        }

        if (Linux.Native.Sys.TryStat(rootfs, follow: false, out var entry) && (entry.Mode & 0xF000) == 0xA000 /* S_IFLNK */)
        {
            throw RuntimeException.InvalidSpec($"rootfs ({rootfs}) is a symlink");
        }

        var namespaces = ValidateNamespaces(spec.Linux?.Namespaces);
        bool NewNs(string type) => namespaces.TryGetValue(type, out var path) && path is null;

        if (spec.Process is { } process)
        {
            ValidateProcess(process);
        }

        if (!string.IsNullOrEmpty(spec.Hostname) && !NewNs("uts") && !namespaces.ContainsKey("uts"))
        {
            throw RuntimeException.InvalidSpec("unable to set hostname without a private UTS namespace");
        }

        if (!string.IsNullOrEmpty(spec.Domainname) && !NewNs("uts") && !namespaces.ContainsKey("uts"))
        {
            throw RuntimeException.InvalidSpec("unable to set domainname without a private UTS namespace");
        }

        if (!NewNs("mount"))
        {
            throw RuntimeException.InvalidSpec("a new mount namespace is required (linux.namespaces must contain \"mount\" without a path)");
        }

        if (namespaces.ContainsKey("user") && NewNs("user") && (spec.Linux?.UidMappings is not { Count: > 0 } || spec.Linux?.GidMappings is not { Count: > 0 }))
        {
            throw RuntimeException.InvalidSpec("user namespace requires uidMappings and gidMappings");
        }

        if (!namespaces.ContainsKey("user") && (spec.Linux?.UidMappings is { Count: > 0 } || spec.Linux?.GidMappings is { Count: > 0 }))
        {
            throw RuntimeException.InvalidSpec("uidMappings and gidMappings need a user namespace");
        }

        if (spec.Linux?.TimeOffsets is { Count: > 0 } && !NewNs("time"))
        {
            throw RuntimeException.InvalidSpec("timeOffsets need a new time namespace");
        }

        foreach (var mount in spec.Mounts ?? [])
        {
            ValidateMount(mount);
        }

        foreach (var path in (spec.Linux?.MaskedPaths ?? []).Concat(spec.Linux?.ReadonlyPaths ?? []))
        {
            if (!path.StartsWith('/') || path.Contains('\0', StringComparison.Ordinal))
            {
                throw RuntimeException.InvalidSpec($"masked or readonly path \"{path}\" must be absolute");
            }
        }

        foreach (var (key, value) in spec.Linux?.Sysctl ?? [])
        {
            ValidateSysctl(key, value, spec, NewNs);
        }

        foreach (var device in spec.Linux?.Devices ?? [])
        {
            ValidateDevice(device);
        }

        if (spec.Linux?.RootfsPropagation is { Length: > 0 } prop && !s_propagation.Contains(prop))
        {
            throw RuntimeException.InvalidSpec($"invalid rootfsPropagation \"{prop}\"");
        }

        if (spec.Linux?.CgroupsPath is { } cgroupsPath && (cgroupsPath.Contains('\n', StringComparison.Ordinal) || cgroupsPath.Split('/').Contains("..")))
        {
            throw RuntimeException.InvalidSpec($"invalid cgroupsPath \"{cgroupsPath.ReplaceLineEndings(" ")}\"");
        }

        if (spec.Linux?.Personality is { } personality && personality.Domain is not ("LINUX" or "LINUX32"))
        {
            throw RuntimeException.InvalidSpec($"invalid personality domain \"{personality.Domain}\"");
        }

        ValidateHooks(spec.Hooks);
        return rootfs;
    }

    private static Dictionary<string, string?> ValidateNamespaces(List<Namespace>? namespaces)
    {
        var seen = new Dictionary<string, string?>();
        foreach (var ns in namespaces ?? [])
        {
            if (!s_namespaceTypes.Contains(ns.Type))
            {
                throw RuntimeException.InvalidSpec($"unknown namespace type \"{ns.Type}\"");
            }

            if (!seen.TryAdd(ns.Type, string.IsNullOrEmpty(ns.Path) ? null : ns.Path))
            {
                throw RuntimeException.InvalidSpec($"duplicate namespace type \"{ns.Type}\"");
            }

            if (!string.IsNullOrEmpty(ns.Path) && !ns.Path.StartsWith('/'))
            {
                throw RuntimeException.InvalidSpec($"namespace {ns.Type} path \"{ns.Path}\" must be absolute");
            }
        }

        return seen;
    }

    public static void ValidateProcess(Oci.Runtime.Process process)
    {
        if (process.Args is not { Count: > 0 } || string.IsNullOrEmpty(process.Args[0]))
        {
            throw RuntimeException.InvalidSpec("process.args must not be empty");
        }

        if (!process.Cwd.StartsWith('/'))
        {
            throw RuntimeException.InvalidSpec($"process.cwd \"{process.Cwd}\" must be an absolute path");
        }

        foreach (var text in process.Args.Concat(process.Env ?? []).Append(process.Cwd))
        {
            if (text.Contains('\0', StringComparison.Ordinal))
            {
                throw RuntimeException.InvalidSpec("process args, env and cwd must not contain NUL bytes");
            }
        }

        foreach (var env in process.Env ?? [])
        {
            if (env.IndexOf('=', StringComparison.Ordinal) <= 0)
            {
                throw RuntimeException.InvalidSpec($"process.env entry \"{env}\" is not KEY=value");
            }
        }

        var types = new HashSet<string>();
        foreach (var rlimit in process.Rlimits ?? [])
        {
            if (RlimitNames.Number(rlimit.Type) < 0)
            {
                throw RuntimeException.InvalidSpec($"unknown rlimit type \"{rlimit.Type}\"");
            }

            if (!types.Add(rlimit.Type))
            {
                throw RuntimeException.InvalidSpec($"duplicate rlimit type \"{rlimit.Type}\"");
            }

            if (rlimit.Soft > rlimit.Hard)
            {
                throw RuntimeException.InvalidSpec($"rlimit {rlimit.Type}: soft limit {rlimit.Soft} is greater than hard limit {rlimit.Hard}");
            }
        }

        if (process.Capabilities is { } caps)
        {
            CapabilityNames.ToMask(caps.Bounding, "bounding");
            CapabilityNames.ToMask(caps.Effective, "effective");
            CapabilityNames.ToMask(caps.Permitted, "permitted");
            CapabilityNames.ToMask(caps.Inheritable, "inheritable");
            CapabilityNames.ToMask(caps.Ambient, "ambient");
        }

        if (process.OomScoreAdj is < -1000 or > 1000)
        {
            throw RuntimeException.InvalidSpec($"process.oomScoreAdj {process.OomScoreAdj} is outside -1000..1000");
        }

        if (process.User.Umask is > 0x1ff)
        {
            throw RuntimeException.InvalidSpec($"process.user.umask {process.User.Umask} is not a permission mask");
        }
    }

    private static void ValidateMount(Mount mount)
    {
        var dest = mount.Destination;
        if (string.IsNullOrEmpty(dest) || dest.Contains('\0', StringComparison.Ordinal))
        {
            throw RuntimeException.InvalidSpec("mount destination must not be empty");
        }

        if (!dest.StartsWith('/'))
        {
            throw RuntimeException.InvalidSpec($"mount destination \"{dest}\" is not absolute");
        }

        var clean = "/" + string.Join('/', dest.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != "."));
        if (clean.Split('/').Contains(".."))
        {
            throw RuntimeException.InvalidSpec($"mount destination \"{dest}\" contains \"..\"");
        }

        if (clean == "/")
        {
            throw RuntimeException.InvalidSpec("mount destination \"/\" is not allowed (use root.path)");
        }

        var options = mount.Options ?? [];
        var isBind = mount.Type == "bind" || options.Contains("bind") || options.Contains("rbind");
        if (!isBind && string.IsNullOrEmpty(mount.Type))
        {
            throw RuntimeException.InvalidSpec($"mount {dest}: type is required unless it is a bind mount");
        }

        if ((options.Contains("idmap") || options.Contains("ridmap") || mount.UidMappings is { Count: > 0 }) && !isBind)
        {
            throw RuntimeException.InvalidSpec($"mount {dest}: id-mapped mounts are only supported for bind mounts");
        }

        // Only a fresh procfs may cover /proc, and nothing but a few lxcfs-style files may be bound
        // inside it (CVE-2019-16884, CVE-2023-27561; runc checkProcMount).
        if (clean == "/proc" && !isBind && mount.Type != "proc")
        {
            throw RuntimeException.InvalidSpec($"mount {dest}: only procfs may be mounted on /proc");
        }

        if (clean.StartsWith("/proc/", StringComparison.Ordinal) && !IsAllowedProcSubMount(clean))
        {
            throw RuntimeException.InvalidSpec($"mount {dest}: mounts inside /proc are not allowed");
        }
    }

    private static bool IsAllowedProcSubMount(string dest) => dest is
        "/proc/cpuinfo" or "/proc/diskstats" or "/proc/meminfo" or "/proc/stat" or "/proc/swaps" or "/proc/uptime"
        or "/proc/loadavg" or "/proc/slabinfo" or "/proc/sys/kernel/ns_last_pid" or "/proc/sys/crypto/fips_enabled";

    private static void ValidateSysctl(string key, string value, Spec spec, Func<string, bool> newNs)
    {
        if (key.Length == 0 || key.Contains('/', StringComparison.Ordinal) || key.Split('.').Any(p => p.Length == 0 || p == ".."))
        {
            throw RuntimeException.InvalidSpec($"sysctl \"{key}\" is not a valid key");
        }

        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw RuntimeException.InvalidSpec($"sysctl \"{key}\" has a NUL byte in its value");
        }

        if (s_ipcSysctls.Contains(key) || key.StartsWith("fs.mqueue.", StringComparison.Ordinal))
        {
            if (!newNs("ipc"))
            {
                throw RuntimeException.InvalidSpec($"sysctl \"{key}\" is not allowed in the host's ipc namespace");
            }

            return;
        }

        if (key.StartsWith("net.", StringComparison.Ordinal))
        {
            var ns = spec.Linux?.Namespaces?.FirstOrDefault(n => n.Type == "network");
            if (ns is null)
            {
                throw RuntimeException.InvalidSpec($"sysctl \"{key}\" is not allowed in the host's network namespace");
            }

            return;
        }

        if (key is "kernel.hostname" or "kernel.domainname")
        {
            if (!newNs("uts"))
            {
                throw RuntimeException.InvalidSpec($"sysctl \"{key}\" is not allowed in the host's uts namespace");
            }

            if ((key == "kernel.hostname" && !string.IsNullOrEmpty(spec.Hostname) && spec.Hostname != value)
                || (key == "kernel.domainname" && !string.IsNullOrEmpty(spec.Domainname) && spec.Domainname != value))
            {
                throw RuntimeException.InvalidSpec($"sysctl \"{key}\" conflicts with the configured {key[7..]}");
            }

            return;
        }

        throw RuntimeException.InvalidSpec($"sysctl \"{key}\" is not in a separate kernel namespace");
    }

    private static void ValidateDevice(Device device)
    {
        if (device.Type is not ("c" or "b" or "u" or "p"))
        {
            throw RuntimeException.InvalidSpec($"device {device.Path}: invalid type \"{device.Type}\"");
        }

        var parts = device.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (!device.Path.StartsWith("/dev/", StringComparison.Ordinal) || parts.Contains("..") || parts.Length < 2)
        {
            throw RuntimeException.InvalidSpec($"device path \"{device.Path}\" must be inside /dev");
        }

        if (device.Type != "p" && (device.Major < 0 || device.Minor < 0 || device.Major > 0xfff || device.Minor > 0xfffff))
        {
            throw RuntimeException.InvalidSpec($"device {device.Path}: invalid major/minor {device.Major}:{device.Minor}");
        }
    }

    private static void ValidateHooks(Hooks? hooks)
    {
        if (hooks is null)
        {
            return;
        }

        foreach (var hook in new[] { hooks.Prestart, hooks.CreateRuntime, hooks.CreateContainer, hooks.StartContainer, hooks.Poststart, hooks.Poststop }.Where(h => h is not null).SelectMany(h => h!))
        {
            if (!hook.Path.StartsWith('/'))
            {
                throw RuntimeException.InvalidSpec($"hook path \"{hook.Path}\" must be absolute");
            }

            if (hook.Timeout is <= 0)
            {
                throw RuntimeException.InvalidSpec($"hook {hook.Path}: timeout must be positive");
            }
        }
    }
}
