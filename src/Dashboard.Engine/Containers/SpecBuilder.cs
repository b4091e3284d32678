using System.Globalization;
using Dashboard.Engine.Api;
using Dashboard.Engine.Images;
using Dashboard.Oci.Runtime;
using OciMount = Dashboard.Oci.Runtime.Mount;
using OciProcess = Dashboard.Oci.Runtime.Process;

namespace Dashboard.Engine.Containers;

/// <summary>
/// Turns a Docker create body plus the image's run config into the OCI runtime spec that will run.
/// Defaults follow moby's <c>oci/defaults.go</c>. Fields this engine cannot honour yet are refused
/// with 400 rather than ignored, so a caller never believes a limit or isolation is in place when it
/// is not (security.md D3/D4: the decision is made on what will be executed).
/// </summary>
public static class SpecBuilder
{
    public const string DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>Docker's default capability set (moby oci/caps/defaults.go).</summary>
    public static readonly IReadOnlyList<string> DefaultCapabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    /// <summary>capabilities(7) up to Linux 6.x.</summary>
    public static readonly IReadOnlyList<string> AllCapabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ];

    private static readonly string[] s_maskedPaths =
    [
        "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ];

    private static readonly string[] s_readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    /// <summary>The command the container runs: entrypoint + cmd, where the create body's entrypoint resets the image's cmd (Docker semantics).</summary>
    public static List<string> Command(ContainerConfig config, ImageRunConfig image)
    {
        var entrypoint = config.Entrypoint ?? image.Entrypoint ?? [];
        var cmd = config.Cmd ?? (config.Entrypoint is not null ? [] : image.Cmd ?? []);
        if (config.Entrypoint is { Count: 1 } e && e[0].Length == 0)
        {
            entrypoint = [];
        }

        return [.. entrypoint, .. cmd];
    }

    public static Spec Build(string id, ContainerConfig config, HostConfig host, ResolvedImage image, string cgroupParent)
    {
        RejectUnsupported(config, host);
        var args = Command(config, image.Config);
        if (args.Count == 0)
        {
            throw new EngineException(ErrorKind.InvalidArgument, "no command specified");
        }

        var hostname = string.IsNullOrEmpty(config.Hostname) ? id[..12] : config.Hostname;
        ValidateHostname(hostname);
        var env = MergeEnv(image.Config.Env, config.Env, hostname, config.Tty);
        var (uid, gid, additional) = UserResolver.Resolve(config.User ?? image.Config.User ?? "", image.RootfsPath);
        foreach (var g in host.GroupAdd ?? [])
        {
            additional.Add(uint.TryParse(g, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : UserResolver.ResolveGroup(g, image.RootfsPath));
        }

        var caps = Capabilities(host);
        var privileged = host.Privileged;
        var process = new OciProcess
        {
            Terminal = config.Tty,
            ConsoleSize = config.Tty && host.ConsoleSize is [var h, var w] && h > 0 && w > 0 ? new ConsoleSize { Height = h, Width = w } : null,
            User = new User { Uid = uid, Gid = gid, AdditionalGids = additional.Count > 0 ? additional.Distinct().ToList() : null },
            Args = args,
            Env = env,
            Cwd = string.IsNullOrEmpty(config.WorkingDir) ? string.IsNullOrEmpty(image.Config.WorkingDir) ? "/" : image.Config.WorkingDir : config.WorkingDir,
            Capabilities = new Capabilities { Bounding = caps, Effective = caps, Permitted = caps },
            NoNewPrivileges = NoNewPrivileges(host.SecurityOpt),
            OomScoreAdj = host.OomScoreAdj != 0 ? host.OomScoreAdj : null,
            Rlimits = host.Ulimits is { Count: > 0 } ulimits ? ulimits.Select(Rlimit).ToList() : null,
        };
        if (!process.Cwd.StartsWith('/'))
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"the working directory '{process.Cwd}' is invalid, it needs to be an absolute path");
        }

        var namespaces = new List<Namespace> { new() { Type = "mount" } };
        AddNamespace(namespaces, "network", NetworkNamespace(host.NetworkMode));
        AddNamespace(namespaces, "pid", HostOrPrivate(host.PidMode, "PidMode"));
        AddNamespace(namespaces, "ipc", HostOrPrivate(host.IpcMode, "IpcMode", "private", "shareable"));
        AddNamespace(namespaces, "uts", HostOrPrivate(host.UTSMode, "UTSMode"));
        if (host.CgroupnsMode == "private")
        {
            namespaces.Add(new Namespace { Type = "cgroup" });
        }
        else if (host.CgroupnsMode is not (null or "" or "host"))
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid cgroup namespace mode: {host.CgroupnsMode}");
        }

        var shmSize = host.ShmSize > 0 ? host.ShmSize : 64L * 1024 * 1024;
        var mounts = DefaultMounts(privileged, shmSize);
        AddUserMounts(mounts, host);

        return new Spec
        {
            Process = process,
            Root = new Root { Path = image.RootfsPath, Readonly = host.ReadonlyRootfs },
            Hostname = namespaces.Any(n => n.Type == "uts") ? hostname : null,
            Domainname = string.IsNullOrEmpty(config.Domainname) ? null : config.Domainname,
            Mounts = mounts,
            Annotations = host.Annotations is { Count: > 0 } a ? new Dictionary<string, string>(a, StringComparer.Ordinal) : null,
            Linux = new Oci.Runtime.Linux
            {
                Namespaces = namespaces,
                CgroupsPath = $"{cgroupParent.TrimEnd('/')}/{id}",
                Resources = Resources(host, privileged),
                Sysctl = host.Sysctls is { Count: > 0 } s ? new Dictionary<string, string>(s, StringComparer.Ordinal) : null,
                Seccomp = SeccompOptions.ForContainer(host.SecurityOpt, privileged, caps),
                MaskedPaths = privileged ? null : [.. s_maskedPaths],
                ReadonlyPaths = privileged ? null : [.. s_readonlyPaths],
            },
        };
    }

    private static void RejectUnsupported(ContainerConfig config, HostConfig host)
    {
        static void No(bool present, string what)
        {
            if (present)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"{what} is not supported by this engine yet");
            }
        }

        No(host.Devices is { Count: > 0 }, "HostConfig.Devices");
        No(host.DeviceCgroupRules is { Count: > 0 }, "HostConfig.DeviceCgroupRules");
        No(host.DeviceRequests is { Count: > 0 }, "HostConfig.DeviceRequests");
        No(host.VolumesFrom is { Count: > 0 }, "HostConfig.VolumesFrom");
        No(host.Links is { Count: > 0 }, "HostConfig.Links");
        No(!string.IsNullOrEmpty(host.CgroupParent), "HostConfig.CgroupParent");
        No(!string.IsNullOrEmpty(host.UsernsMode), "HostConfig.UsernsMode");
        No(host.Init == true, "HostConfig.Init");
        No(host.MaskedPaths is not null || host.ReadonlyPaths is not null, "custom MaskedPaths/ReadonlyPaths");
        RestartPolicyRules.Validate(host.RestartPolicy, host.AutoRemove);
        HealthcheckRules.Validate(config.Healthcheck);
        No(host.Runtime is not (null or "" or "dashboard-runtime" or "runc"), $"runtime {host.Runtime}");
        No(host.Isolation is not (null or "" or "default"), $"isolation {host.Isolation}");
        No(host.LogConfig?.Type is not (null or "" or "json-file" or "local"), $"log driver {host.LogConfig?.Type}");
        No(host.BlkioWeight != 0 || host.BlkioWeightDevice is { Count: > 0 } || host.BlkioDeviceReadBps is { Count: > 0 }
            || host.BlkioDeviceWriteBps is { Count: > 0 } || host.BlkioDeviceReadIOps is { Count: > 0 } || host.BlkioDeviceWriteIOps is { Count: > 0 }, "block IO limits");
        No(host.CpuRealtimePeriod != 0 || host.CpuRealtimeRuntime != 0, "real-time CPU scheduling");
        No(host.OomKillDisable == true, "OomKillDisable");
        No(host.StorageOpt is { Count: > 0 }, "HostConfig.StorageOpt");
        No(host.NanoCpus != 0 && (host.CpuQuota != 0 || host.CpuPeriod != 0), "NanoCpus together with CpuQuota/CpuPeriod");
    }

    private static void ValidateHostname(string hostname)
    {
        if (hostname.Length > 253 || !hostname.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_'))
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid hostname format: {hostname}");
        }
    }

    private static List<string> MergeEnv(List<string>? image, List<string>? create, string hostname, bool tty)
    {
        var env = new List<string> { DefaultPath, "HOSTNAME=" + hostname };
        if (tty)
        {
            env.Add("TERM=xterm");
        }

        void Put(string entry)
        {
            if (entry.Contains('\0', StringComparison.Ordinal))
            {
                throw new EngineException(ErrorKind.InvalidArgument, "environment variables must not contain NUL");
            }

            var eq = entry.IndexOf('=', StringComparison.Ordinal);
            var key = eq < 0 ? entry : entry[..eq];
            if (key.Length == 0)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid environment variable: {entry}");
            }

            if (eq < 0)
            {
                // Docker drops "NAME" without a value when the client did not resolve it.
                return;
            }

            env.RemoveAll(e => e.StartsWith(key + "=", StringComparison.Ordinal));
            env.Add(entry);
        }

        foreach (var e in image ?? [])
        {
            Put(e);
        }

        foreach (var e in create ?? [])
        {
            Put(e);
        }

        return env;
    }

    private static List<string> Capabilities(HostConfig host)
    {
        if (host.Privileged)
        {
            return [.. AllCapabilities.Where(HostCapabilities.InBoundingSet)];
        }

        static string Canonical(string cap)
        {
            var c = cap.Trim().ToUpperInvariant();
            if (c == "ALL")
            {
                return c;
            }

            c = c.StartsWith("CAP_", StringComparison.Ordinal) ? c : "CAP_" + c;
            return AllCapabilities.Contains(c) ? c : throw new EngineException(ErrorKind.InvalidArgument, $"unknown capability: \"{cap}\"");
        }

        var add = (host.CapAdd ?? []).Select(Canonical).ToList();
        var drop = (host.CapDrop ?? []).Select(Canonical).ToList();
        var caps = drop.Contains("ALL") ? new List<string>() : DefaultCapabilities.Where(c => !drop.Contains(c)).ToList();
        if (add.Contains("ALL"))
        {
            return AllCapabilities.Where(c => !drop.Contains(c) || add.Contains(c)).ToList();
        }

        foreach (var c in add.Where(c => !caps.Contains(c)))
        {
            caps.Add(c);
        }

        return caps;
    }

    private static bool NoNewPrivileges(List<string>? securityOpt)
    {
        var result = false;
        foreach (var opt in securityOpt ?? [])
        {
            var o = opt.Trim();
            if (SeccompOptions.IsSeccompOption(o))
            {
                continue;
            }

            var sep = o.IndexOfAny([':', '=']);
            var key = sep < 0 ? o : o[..sep];
            var value = sep < 0 ? "true" : o[(sep + 1)..];
            if (key == "no-new-privileges" && bool.TryParse(value, out var b))
            {
                result = b;
                continue;
            }

            throw new EngineException(ErrorKind.InvalidArgument, $"security option '{opt}' is not supported by this engine yet");
        }

        return result;
    }

    private static Rlimit Rlimit(Ulimit u)
    {
        var name = (u.Name ?? "").ToUpperInvariant();
        string[] known = ["CORE", "CPU", "DATA", "FSIZE", "LOCKS", "MEMLOCK", "MSGQUEUE", "NICE", "NOFILE", "NPROC", "RSS", "RTPRIO", "RTTIME", "SIGPENDING", "STACK", "AS"];
        if (!known.Contains(name) || u.Soft < 0 || u.Hard < 0 || u.Soft > u.Hard)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid ulimit: {u.Name}={u.Soft}:{u.Hard}");
        }

        return new Rlimit { Type = "RLIMIT_" + name, Soft = (ulong)u.Soft, Hard = (ulong)u.Hard };
    }

    private static void AddNamespace(List<Namespace> namespaces, string type, bool isPrivate)
    {
        if (isPrivate)
        {
            namespaces.Add(new Namespace { Type = type });
        }
    }

    /// <summary>Host mode shares the host's namespace; every other mode (networks, none, container:) gets a path from Networking.NetworkManager.</summary>
    private static bool NetworkNamespace(string? mode)
    {
        // Case and space variants of the predefined modes are refused, never looked up as network names (security.md D3).
        if (mode is not null && (mode != mode.Trim() || (mode is not ("host" or "none" or "bridge" or "default") && mode.ToLowerInvariant() is "host" or "none" or "bridge" or "default")))
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid network mode: {mode}");
        }

        return mode != "host";
    }

    private static bool HostOrPrivate(string? mode, string field, params string[] alsoPrivate) =>
        mode switch
        {
            null or "" => true,
            "host" => false,
            _ when alsoPrivate.Contains(mode) => true,
            _ => throw new EngineException(ErrorKind.InvalidArgument, $"{field} {mode} is not supported by this engine yet"),
        };

    private static List<OciMount> DefaultMounts(bool privileged, long shmSize) =>
    [
        new() { Destination = "/proc", Type = "proc", Source = "proc", Options = ["nosuid", "noexec", "nodev"] },
        new() { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "strictatime", "mode=755", "size=65536k"] },
        new() { Destination = "/dev/pts", Type = "devpts", Source = "devpts", Options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
        new() { Destination = "/sys", Type = "sysfs", Source = "sysfs", Options = ["nosuid", "noexec", "nodev", privileged ? "rw" : "ro"] },
        new() { Destination = "/sys/fs/cgroup", Type = "cgroup", Source = "cgroup", Options = ["nosuid", "noexec", "nodev", "relatime", privileged ? "rw" : "ro"] },
        new() { Destination = "/dev/mqueue", Type = "mqueue", Source = "mqueue", Options = ["nosuid", "noexec", "nodev"] },
        new() { Destination = "/dev/shm", Type = "tmpfs", Source = "shm", Options = ["nosuid", "noexec", "nodev", "mode=1777", "size=" + shmSize.ToString(CultureInfo.InvariantCulture)] },
    ];

    private static void AddUserMounts(List<OciMount> mounts, HostConfig host)
    {
        var destinations = new HashSet<string>(StringComparer.Ordinal);
        void Add(OciMount m)
        {
            if (!m.Destination.StartsWith('/') || m.Destination.Split('/').Contains(".."))
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid mount config: mount path must be absolute: {m.Destination}");
            }

            if (!destinations.Add(m.Destination))
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"Duplicate mount point: {m.Destination}");
            }

            mounts.RemoveAll(x => x.Destination == m.Destination);
            mounts.Add(m);
        }

        foreach (var bind in host.Binds ?? [])
        {
            var parts = bind.Split(':');
            if (parts.Length is < 2 or > 3)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid volume specification: '{bind}'");
            }

            if (!parts[0].StartsWith('/'))
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"named volumes are not supported by this engine yet: '{bind}'");
            }

            var opts = parts.Length == 3 ? parts[2].Split(',') : [];
            var ro = opts.Contains("ro");
            foreach (var o in opts)
            {
                if (o is not ("ro" or "rw" or "z" or "Z" or "private" or "rprivate" or "slave" or "rslave" or "nocopy"))
                {
                    throw new EngineException(ErrorKind.InvalidArgument, $"invalid mode: {o}");
                }
            }

            Add(new OciMount { Destination = parts[1], Type = "bind", Source = parts[0], Options = ["rbind", ro ? "ro" : "rw", "rprivate"] });
        }

        foreach (var m in host.Mounts ?? [])
        {
            switch (m.Type)
            {
                case "bind":
                    if (m.Source is null || !m.Source.StartsWith('/'))
                    {
                        throw new EngineException(ErrorKind.InvalidArgument, $"invalid mount config for type \"bind\": invalid mount path: '{m.Source}' mount path must be absolute");
                    }

                    Add(new OciMount { Destination = m.Target ?? "", Type = "bind", Source = m.Source, Options = ["rbind", m.ReadOnly ? "ro" : "rw", "rprivate"] });
                    break;
                case "tmpfs":
                    var options = new List<string> { "nosuid", "nodev", m.ReadOnly ? "ro" : "rw" };
                    if (m.TmpfsOptions is { SizeBytes: > 0 } t)
                    {
                        options.Add("size=" + t.SizeBytes.ToString(CultureInfo.InvariantCulture));
                    }

                    if (m.TmpfsOptions is { Mode: > 0 } tm)
                    {
                        options.Add("mode=" + Convert.ToString(tm.Mode, 8));
                    }

                    Add(new OciMount { Destination = m.Target ?? "", Type = "tmpfs", Source = "tmpfs", Options = options });
                    break;
                default:
                    throw new EngineException(ErrorKind.InvalidArgument, $"mount type \"{m.Type}\" is not supported by this engine yet");
            }
        }

        foreach (var (destination, value) in host.Tmpfs ?? [])
        {
            var options = new List<string> { "nosuid", "nodev", "noexec" };
            foreach (var o in value.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!(o is "ro" or "rw" or "exec" or "noexec" or "suid" or "nosuid" or "dev" or "nodev"
                    || o.StartsWith("size=", StringComparison.Ordinal) || o.StartsWith("mode=", StringComparison.Ordinal)
                    || o.StartsWith("uid=", StringComparison.Ordinal) || o.StartsWith("gid=", StringComparison.Ordinal)))
                {
                    throw new EngineException(ErrorKind.InvalidArgument, $"invalid tmpfs option: {o}");
                }

                options.RemoveAll(x => x == "no" + o || "no" + x == o);
                options.Add(o);
            }

            Add(new OciMount { Destination = destination, Type = "tmpfs", Source = "tmpfs", Options = options });
        }
    }

    private static Resources Resources(HostConfig host, bool privileged)
    {
        if (host.Memory is < 0 || (host.Memory is > 0 and < 6 * 1024 * 1024))
        {
            throw new EngineException(ErrorKind.InvalidArgument, "Minimum memory limit allowed is 6MB");
        }

        if (host.MemorySwap > 0 && host.Memory > 0 && host.MemorySwap < host.Memory)
        {
            throw new EngineException(ErrorKind.InvalidArgument, "Minimum memoryswap limit should be larger than memory limit, see usage");
        }

        if (host.NanoCpus < 0 || host.CpuShares < 0 || host.CpuQuota is < 0 and not -1 || host.CpuPeriod < 0 || host.PidsLimit < -1)
        {
            throw new EngineException(ErrorKind.InvalidArgument, "resource limits must not be negative");
        }

        if (host.NanoCpus > (long)Environment.ProcessorCount * 1_000_000_000)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"range of CPUs is from 0.01 to {Environment.ProcessorCount}.00, as there are only {Environment.ProcessorCount} CPUs available");
        }

        var resources = new Resources
        {
            Devices = privileged
                ? [new DeviceCgroup { Allow = true, Access = "rwm" }]
                :
                [
                    new DeviceCgroup { Allow = false, Access = "rwm" },
                    Dev('c', null, null, "m"), Dev('b', null, null, "m"),
                    Dev('c', 1, 3), Dev('c', 1, 5), Dev('c', 1, 7), Dev('c', 1, 8), Dev('c', 1, 9),
                    Dev('c', 5, 0), Dev('c', 5, 1), Dev('c', 5, 2), Dev('c', 136, null), Dev('c', 10, 200),
                ],
        };
        if (host.Memory > 0 || host.MemoryReservation > 0 || host.MemorySwap != 0 || host.MemorySwappiness is not null)
        {
            resources.Memory = new MemoryResources
            {
                Limit = host.Memory > 0 ? host.Memory : null,
                Reservation = host.MemoryReservation > 0 ? host.MemoryReservation : null,
                Swap = host.MemorySwap != 0 ? host.MemorySwap : host.Memory > 0 ? host.Memory * 2 : null,
                Swappiness = host.MemorySwappiness is >= 0 and <= 100 ? (ulong)host.MemorySwappiness.Value : null,
            };
        }

        if (host.CpuShares > 0 || host.NanoCpus > 0 || host.CpuQuota != 0 || host.CpuPeriod > 0 || !string.IsNullOrEmpty(host.CpusetCpus) || !string.IsNullOrEmpty(host.CpusetMems))
        {
            const long period = 100_000;
            resources.Cpu = new CpuResources
            {
                Shares = host.CpuShares > 0 ? (ulong)host.CpuShares : null,
                Quota = host.NanoCpus > 0 ? host.NanoCpus * period / 1_000_000_000 : host.CpuQuota != 0 ? host.CpuQuota : null,
                Period = host.NanoCpus > 0 ? period : host.CpuPeriod > 0 ? (ulong)host.CpuPeriod : null,
                Cpus = string.IsNullOrEmpty(host.CpusetCpus) ? null : host.CpusetCpus,
                Mems = string.IsNullOrEmpty(host.CpusetMems) ? null : host.CpusetMems,
            };
        }

        if (host.PidsLimit is > 0 or -1)
        {
            resources.Pids = new PidsResources { Limit = host.PidsLimit.Value };
        }

        return resources;
    }

    private static DeviceCgroup Dev(char type, long? major, long? minor, string access = "rwm") =>
        new() { Allow = true, Type = type.ToString(), Major = major, Minor = minor, Access = access };
}
