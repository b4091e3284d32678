using Dashboard.Runtime.Cgroups;

namespace Dashboard.Runtime.Tests.Cgroups;

/// <summary>mountinfo and /proc/self/cgroup texts as real hosts show them.</summary>
internal static class CgroupSamples
{
    /// <summary>This development machine: one v1 hierarchy per controller plus a controller-less cgroup2 (hybrid). hugetlb and net_cls,net_prio added.</summary>
    public const string HybridMountInfo = """
        22 27 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
        37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
        38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
        39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        42 31 0:39 / /sys/fs/cgroup/hugetlb rw,relatime - cgroup cgroup rw,hugetlb
        43 31 0:40 / /sys/fs/cgroup/net_cls,net_prio rw,relatime - cgroup cgroup rw,net_cls,net_prio
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """;

    /// <summary>Debian 10 / CentOS 7 style: v1 only, cpu and cpuacct co-mounted, a path with an escaped space.</summary>
    public const string LegacyMountInfo = """
        25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:6 - tmpfs tmpfs ro,mode=755
        26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:7 - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
        29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct
        30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,memory
        31 25 0:28 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,pids
        32 25 0:29 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,freezer
        33 25 0:30 / /sys/fs/cgroup/net\040cls rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,net_cls
        34 25 0:27 /docker /mnt/memory-again rw,relatime - cgroup cgroup rw,memory
        """;

    /// <summary>Debian 12 / Fedora: pure cgroup v2.</summary>
    public const string UnifiedMountInfo = """
        24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        26 24 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        35 24 0:30 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:12 - bpf bpf rw,mode=700
        """;

    public const string HybridSelfCgroup = """
        12:net_cls,net_prio:/
        11:hugetlb:/
        9:name=systemd:/
        8:pids:/
        7:blkio:/
        6:freezer:/
        5:devices:/
        4:memory:/process_api/242f
        3:cpuset:/
        2:cpuacct:/
        1:cpu:/
        0::/
        """;

    public const string UnifiedSelfCgroup = "0::/system.slice/engine.service\n";
}

/// <summary>Fake cgroupfs trees with the files a kernel shows, for both drivers.</summary>
internal static class FakeHosts
{
    private const string Unlimited = "9223372036854771712";

    public static (CgroupHost Host, FakeCgroupFs Fs) Hybrid()
    {
        var root = NewRoot();
        var fs = new FakeCgroupFs(root, V1Files);
        var mounts = CgroupMounts.Parse(CgroupSamples.HybridMountInfo);
        foreach (var mount in mounts.V1.Append(mounts.Unified!))
        {
            foreach (var (name, content) in V1Files(mount.MountPoint + "/x"))
            {
                fs.Seed($"{mount.MountPoint}/{name}", content);
            }
        }

        fs.Seed("/sys/fs/cgroup/cpuset/cpuset.cpus", "0-1\n");
        fs.Seed("/sys/fs/cgroup/cpuset/cpuset.mems", "0\n");
        return (new CgroupHost(mounts, ProcCgroup.Parse(CgroupSamples.HybridSelfCgroup), fs), fs);
    }

    public static (CgroupHost Host, FakeCgroupFs Fs) Unified()
    {
        var root = NewRoot();
        FakeCgroupFs? fsRef = null;
        var fs = new FakeCgroupFs(root, path => V2Files(fsRef!, path));
        fsRef = fs;
        fs.Seed("/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        fs.Seed("/sys/fs/cgroup/cgroup.subtree_control", "");
        fs.Seed("/sys/fs/cgroup/cgroup.procs", "");
        var mounts = CgroupMounts.Parse(CgroupSamples.UnifiedMountInfo);
        return (new CgroupHost(mounts, ProcCgroup.Parse(CgroupSamples.UnifiedSelfCgroup), fs), fs);
    }

    private static string NewRoot()
    {
        // Fake trees are hundreds of tiny files: tmpfs keeps them off the (shared, slow) disk.
        var baseDir = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var root = Path.Combine(baseDir, "dashboard-cgfake-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        return root;
    }

    /// <summary>The files of a new v1 cgroup, by hierarchy (as Linux 6.x shows them).</summary>
    private static Dictionary<string, string> V1Files(string path)
    {
        var hierarchy = path["/sys/fs/cgroup/".Length..].Split('/')[0];
        var files = new Dictionary<string, string> { ["cgroup.procs"] = "", ["tasks"] = "", ["notify_on_release"] = "0\n" };
        switch (hierarchy)
        {
            case "cpu":
                files["cpu.shares"] = "1024\n";
                files["cpu.cfs_period_us"] = "100000\n";
                files["cpu.cfs_quota_us"] = "-1\n";
                files["cpu.cfs_burst_us"] = "0\n";
                files["cpu.rt_period_us"] = "1000000\n";
                files["cpu.rt_runtime_us"] = "0\n";
                files["cpu.idle"] = "0\n";
                files["cpu.stat"] = "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n";
                break;
            case "cpuacct":
                files["cpuacct.usage"] = "0\n";
                files["cpuacct.usage_percpu"] = "0 0 \n";
                files["cpuacct.usage_all"] = "cpu user system\n0 0 0\n1 0 0\n";
                files["cpuacct.stat"] = "user 0\nsystem 0\n";
                break;
            case "cpuset":
                files["cpuset.cpus"] = "\n";
                files["cpuset.mems"] = "\n";
                break;
            case "memory":
                files["memory.limit_in_bytes"] = Unlimited + "\n";
                files["memory.memsw.limit_in_bytes"] = Unlimited + "\n";
                files["memory.soft_limit_in_bytes"] = Unlimited + "\n";
                files["memory.kmem.tcp.limit_in_bytes"] = Unlimited + "\n";
                files["memory.swappiness"] = "60\n";
                files["memory.oom_control"] = "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n";
                files["memory.usage_in_bytes"] = "0\n";
                files["memory.max_usage_in_bytes"] = "0\n";
                files["memory.failcnt"] = "0\n";
                files["memory.stat"] = "cache 0\nrss 0\n";
                files["cgroup.event_control"] = "";
                break;
            case "devices":
                files["devices.allow"] = "";
                files["devices.deny"] = "";
                files["devices.list"] = "a *:* rwm\n";
                break;
            case "freezer":
                files["freezer.state"] = "THAWED\n";
                break;
            case "blkio":
                files["blkio.bfq.weight"] = "100\n";
                files["blkio.bfq.weight_device"] = "";
                files["blkio.bfq.io_serviced_recursive"] = "";
                files["blkio.throttle.read_bps_device"] = "";
                files["blkio.throttle.write_bps_device"] = "";
                files["blkio.throttle.read_iops_device"] = "";
                files["blkio.throttle.write_iops_device"] = "";
                files["blkio.throttle.io_service_bytes_recursive"] = "Total 0\n";
                files["blkio.throttle.io_serviced_recursive"] = "Total 0\n";
                break;
            case "pids":
                files["pids.max"] = "max\n";
                files["pids.current"] = "0\n";
                break;
            case "hugetlb":
                foreach (var size in new[] { "2MB", "1GB" })
                {
                    files[$"hugetlb.{size}.limit_in_bytes"] = Unlimited + "\n";
                    files[$"hugetlb.{size}.usage_in_bytes"] = "0\n";
                    files[$"hugetlb.{size}.max_usage_in_bytes"] = "0\n";
                    files[$"hugetlb.{size}.failcnt"] = "0\n";
                }

                break;
            case "net_cls,net_prio":
                files["net_cls.classid"] = "0\n";
                files["net_prio.ifpriomap"] = "lo 0\n";
                break;
            case "unified":
                files["cgroup.controllers"] = "";
                files["cgroup.subtree_control"] = "";
                files["cgroup.events"] = "populated 0\nfrozen 0\n";
                files["cgroup.freeze"] = "0\n";
                files["cgroup.kill"] = "";
                break;
        }

        return files;
    }

    /// <summary>The files of a new v2 cgroup: core files plus those of each controller the parent delegated.</summary>
    private static Dictionary<string, string> V2Files(FakeCgroupFs fs, string path)
    {
        var parent = path[..path.LastIndexOf('/')];
        var controllers = fs.ReadHost(parent + "/cgroup.subtree_control").Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        var files = new Dictionary<string, string>
        {
            ["cgroup.procs"] = "",
            ["cgroup.controllers"] = string.Join(' ', controllers) + "\n",
            ["cgroup.subtree_control"] = "",
            ["cgroup.events"] = "populated 0\nfrozen 0\n",
            ["cgroup.freeze"] = "0\n",
            ["cgroup.kill"] = "",
            ["cgroup.type"] = "domain\n",
            ["cpu.stat"] = "usage_usec 0\nuser_usec 0\nsystem_usec 0\n",
        };
        foreach (var c in controllers)
        {
            switch (c)
            {
                case "cpu":
                    files["cpu.weight"] = "100\n";
                    files["cpu.max"] = "max 100000\n";
                    files["cpu.max.burst"] = "0\n";
                    files["cpu.idle"] = "0\n";
                    break;
                case "cpuset":
                    files["cpuset.cpus"] = "\n";
                    files["cpuset.mems"] = "\n";
                    break;
                case "io":
                    files["io.max"] = "";
                    files["io.weight"] = "default 100\n";
                    files["io.stat"] = "";
                    break;
                case "memory":
                    files["memory.max"] = "max\n";
                    files["memory.swap.max"] = "max\n";
                    files["memory.low"] = "0\n";
                    files["memory.current"] = "0\n";
                    files["memory.swap.current"] = "0\n";
                    files["memory.events"] = "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n";
                    files["memory.stat"] = "anon 0\nfile 0\n";
                    break;
                case "hugetlb":
                    foreach (var size in new[] { "2MB", "1GB" })
                    {
                        files[$"hugetlb.{size}.max"] = "max\n";
                        files[$"hugetlb.{size}.current"] = "0\n";
                        files[$"hugetlb.{size}.events"] = "max 0\n";
                    }

                    break;
                case "pids":
                    files["pids.max"] = "max\n";
                    files["pids.current"] = "0\n";
                    break;
                case "rdma":
                    files["rdma.max"] = "";
                    break;
            }
        }

        return files;
    }
}
