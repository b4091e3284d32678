namespace Dashboard.Oci.Runtime;

/// <summary>
/// The default config.json (runc's <c>runc spec</c>, security.md A0): three capabilities with no
/// inheritable set (CVE-2022-29162), no_new_privs, read-only root, masked and read-only proc paths,
/// a fresh /dev, and a deny-all device cgroup.
/// </summary>
public static class DefaultSpec
{
    public const string DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static IReadOnlyList<string> MaskedPaths { get; } =
    [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi", "/sys/devices/virtual/powercap",
        "/proc/interrupts",
    ];

    public static IReadOnlyList<string> ReadonlyPaths { get; } =
        ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    public static Spec Create(bool rootless = false)
    {
        string[] caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
        var spec = new Spec
        {
            Process = new Process
            {
                Terminal = true,
                User = new User { Uid = 0, Gid = 0 },
                Args = ["sh"],
                Env = [DefaultPath, "TERM=xterm"],
                Cwd = "/",
                Capabilities = new Capabilities { Bounding = [.. caps], Effective = [.. caps], Permitted = [.. caps] },
                Rlimits = [new Rlimit { Type = "RLIMIT_NOFILE", Hard = 1024, Soft = 1024 }],
                NoNewPrivileges = true,
            },
            Root = new Root { Path = "rootfs", Readonly = true },
            Hostname = "container",
            Mounts = DefaultMounts(),
            Linux = new Linux
            {
                Resources = new Resources { Devices = [new DeviceCgroup { Allow = false, Access = "rwm" }] },
                Namespaces =
                [
                    new Namespace { Type = "pid" }, new Namespace { Type = "network" }, new Namespace { Type = "ipc" },
                    new Namespace { Type = "uts" }, new Namespace { Type = "mount" }, new Namespace { Type = "cgroup" },
                ],
                MaskedPaths = [.. MaskedPaths],
                ReadonlyPaths = [.. ReadonlyPaths],
            },
        };

        if (rootless)
        {
            spec.Linux.Namespaces.RemoveAll(n => n.Type == "network");
            spec.Linux.Namespaces.Add(new Namespace { Type = "user" });
            spec.Linux.UidMappings = [new IdMapping { ContainerId = 0, HostId = 1000, Size = 1 }];
            spec.Linux.GidMappings = [new IdMapping { ContainerId = 0, HostId = 1000, Size = 1 }];
            spec.Linux.Resources = null;
            spec.Mounts!.RemoveAll(m => m.Destination == "/sys/fs/cgroup");
            spec.Mounts.First(m => m.Destination == "/sys").Options = ["rbind", "nosuid", "noexec", "nodev", "ro"];
            spec.Mounts.First(m => m.Destination == "/sys").Type = "none";
            spec.Mounts.First(m => m.Destination == "/sys").Source = "/sys";
        }

        return spec;
    }

    public static List<Mount> DefaultMounts() =>
    [
        new Mount { Destination = "/proc", Type = "proc", Source = "proc", Options = ["nosuid", "noexec", "nodev"] },
        new Mount { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "strictatime", "mode=755", "size=65536k"] },
        new Mount { Destination = "/dev/pts", Type = "devpts", Source = "devpts", Options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
        new Mount { Destination = "/dev/shm", Type = "tmpfs", Source = "shm", Options = ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
        new Mount { Destination = "/dev/mqueue", Type = "mqueue", Source = "mqueue", Options = ["nosuid", "noexec", "nodev"] },
        new Mount { Destination = "/sys", Type = "sysfs", Source = "sysfs", Options = ["nosuid", "noexec", "nodev", "ro"] },
        new Mount { Destination = "/sys/fs/cgroup", Type = "cgroup", Source = "cgroup", Options = ["nosuid", "noexec", "nodev", "relatime", "ro"] },
    ];
}
