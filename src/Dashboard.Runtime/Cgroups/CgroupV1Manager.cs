using System.Diagnostics;
using Dashboard.Linux;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Cgroups;

/// <summary>
/// cgroup v1: one directory per hierarchy (<c>/sys/fs/cgroup/&lt;controller&gt;/&lt;path&gt;</c>). On a hybrid
/// host the container also gets a directory in the controller-less cgroup2 mount (key ""), which gives
/// it cgroup.kill and a cgroup for CLONE_INTO_CGROUP; limits stay on the v1 side.
/// </summary>
internal sealed class CgroupV1Manager : CgroupManagerBase
{
    private static readonly TimeSpan s_freezeTimeout = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, string> _paths = [];
    private readonly Dictionary<string, string> _mountPointOf = [];

    public CgroupV1Manager(CgroupHost host, string cgroupPath, IReadOnlyDictionary<string, string>? savedPaths = null)
        : base(host, cgroupPath)
    {
        foreach (var mount in host.Mounts.V1)
        {
            var dir = SavedOrResolved(savedPaths, mount.Controllers[0], mount);
            _mountPointOf[dir] = mount.MountPoint;
            foreach (var controller in mount.Controllers)
            {
                _paths[controller] = dir;
            }
        }

        if (host.Mounts.Unified is { } unified)
        {
            var dir = SavedOrResolved(savedPaths, "", unified);
            _mountPointOf[dir] = unified.MountPoint;
            _paths[""] = dir;
        }
    }

    public override CgroupLayout Layout => Host.Mounts.Layout;

    public override IReadOnlyDictionary<string, string> Paths => _paths;

    protected override IReadOnlyList<string> CreateDirectories(Resources? resources)
    {
        foreach (var dir in Directories)
        {
            var levels = MakePath(_mountPointOf[dir], dir);
            if (_paths.TryGetValue("cpuset", out var cpuset) && cpuset == dir)
            {
                // A new v1 cpuset has empty cpus/mems and refuses tasks until they are set: inherit each level's parent.
                var parent = _mountPointOf[dir];
                foreach (var level in levels)
                {
                    InheritCpuset(parent, level, "cpuset.cpus");
                    InheritCpuset(parent, level, "cpuset.mems");
                    parent = level;
                }
            }
        }

        return resources is null ? [] : Apply(resources, isUpdate: false);
    }

    public override IReadOnlyList<string> Update(Resources resources) => Apply(resources, isUpdate: true);

    public override void Freeze()
    {
        var state = FreezerFile();
        var watch = Stopwatch.StartNew();
        while (true)
        {
            // Writing FROZEN again nudges tasks that were mid-fork or mid-exit when the first write came.
            Fs.Write(state, "FROZEN");
            if (Fs.Read(state).Trim() == "FROZEN")
            {
                return;
            }

            if (watch.Elapsed > s_freezeTimeout)
            {
                Fs.Write(state, "THAWED");
                throw new CgroupException(CgroupErrorKind.InvalidState, $"freeze cgroup {CgroupPath}: still FREEZING after {s_freezeTimeout.TotalSeconds:0} s");
            }

            Thread.Sleep(10);
        }
    }

    public override void Thaw() => Fs.Write(FreezerFile(), "THAWED");

    public override FreezerState GetFreezerState()
    {
        if (!_paths.TryGetValue("freezer", out var dir))
        {
            return FreezerState.Undefined;
        }

        return Fs.TryRead(dir + "/freezer.state")?.Trim() switch
        {
            "FROZEN" => FreezerState.Frozen,
            "FREEZING" => FreezerState.Freezing,
            "THAWED" => FreezerState.Thawed,
            _ => FreezerState.Undefined,
        };
    }

    public override CgroupStats GetStats() => CgroupStatsReader.ReadV1(Fs, _paths);

    public override ulong GetOomKillCount() =>
        _paths.TryGetValue("memory", out var dir) ? OomWatcherBase.ReadCounter(Fs, dir + "/memory.oom_control", "oom_kill") ?? 0 : 0;

    public override IOomWatcher WatchOom() =>
        CgroupV1OomWatcher.Open(Fs, Require("memory", "watch oom"));

    protected override void TryFreezeQuick()
    {
        if (_paths.TryGetValue("freezer", out var dir))
        {
            TryWrite(dir + "/freezer.state", "FROZEN");
        }
    }

    protected override void TryThawQuick()
    {
        if (_paths.TryGetValue("freezer", out var dir))
        {
            TryWrite(dir + "/freezer.state", "THAWED");
        }
    }

    private List<string> Apply(Resources r, bool isUpdate)
    {
        var warnings = new List<string>();
        if (r.Unified is { Count: > 0 })
        {
            throw new CgroupException(CgroupErrorKind.Unsupported, "linux.resources.unified needs cgroup v2, and this host keeps its controllers on cgroup v1");
        }

        if (r.Cpu is { } cpu)
        {
            ApplyCpuset(cpu);
            ApplyCpu(cpu);
        }

        if (r.Devices is { Count: > 0 } devices)
        {
            ApplyDevices(devices, isUpdate);
        }

        if (r.Memory is { } memory)
        {
            ApplyMemory(memory, warnings);
        }

        if (r.Pids is { Limit: not 0 } pids)
        {
            Fs.Write(Require("pids", "set pids.limit") + "/pids.max", pids.Limit > 0 ? Num(pids.Limit) : "max");
        }

        if (r.BlockIo is { } blockIo)
        {
            ApplyBlockIo(blockIo);
        }

        foreach (var hugepage in r.HugepageLimits ?? [])
        {
            var dir = Require("hugetlb", "set hugepageLimits");
            var size = CheckPageSize(hugepage.PageSize);
            Fs.Write($"{dir}/hugetlb.{size}.limit_in_bytes", Num(hugepage.Limit));
            if (Fs.Exists($"{dir}/hugetlb.{size}.rsvd.limit_in_bytes"))
            {
                Fs.Write($"{dir}/hugetlb.{size}.rsvd.limit_in_bytes", Num(hugepage.Limit));
            }
        }

        if (r.Network is { } network)
        {
            if (network.ClassId is { } classId)
            {
                Fs.Write(Require("net_cls", "set network.classID") + "/net_cls.classid", Num(classId));
            }

            foreach (var priority in network.Priorities ?? [])
            {
                Fs.Write(Require("net_prio", "set network.priorities") + "/net_prio.ifpriomap", $"{priority.Name} {priority.Priority}");
            }
        }

        foreach (var (device, limit) in r.Rdma ?? [])
        {
            Fs.Write(Require("rdma", "set rdma") + "/rdma.max", RdmaLine(device, limit));
        }

        return warnings;
    }

    private void ApplyCpuset(CpuResources cpu)
    {
        if (!string.IsNullOrEmpty(cpu.Cpus))
        {
            Fs.Write(Require("cpuset", "set cpu.cpus") + "/cpuset.cpus", cpu.Cpus);
        }

        if (!string.IsNullOrEmpty(cpu.Mems))
        {
            Fs.Write(Require("cpuset", "set cpu.mems") + "/cpuset.mems", cpu.Mems);
        }
    }

    private void ApplyCpu(CpuResources cpu)
    {
        var needsCpu = cpu.Shares is > 0 || cpu.Quota is not (null or 0) || cpu.Period is > 0 || cpu.Burst is not null
            || cpu.RealtimePeriod is > 0 || cpu.RealtimeRuntime is not (null or 0) || cpu.Idle is not null;
        if (!needsCpu)
        {
            return;
        }

        var dir = Require("cpu", "set cpu limits");

        // Realtime budget first: a cgroup without one refuses SCHED_RR/SCHED_FIFO tasks.
        if (cpu.RealtimePeriod is > 0)
        {
            Fs.Write(dir + "/cpu.rt_period_us", Num(cpu.RealtimePeriod.Value));
        }

        if (cpu.RealtimeRuntime is not (null or 0))
        {
            Fs.Write(dir + "/cpu.rt_runtime_us", Num(cpu.RealtimeRuntime.Value));
        }

        if (cpu.Shares is > 0)
        {
            Fs.Write(dir + "/cpu.shares", Num(cpu.Shares.Value));

            // The kernel clamps out-of-range shares silently; refuse instead of running with another value.
            var actual = Fs.TryReadUInt64(dir + "/cpu.shares");
            if (actual is not null && actual != cpu.Shares)
            {
                throw new CgroupException(
                    CgroupErrorKind.InvalidSpec,
                    cpu.Shares > actual ? $"the maximum allowed cpu-shares is {actual}" : $"the minimum allowed cpu-shares is {actual}");
            }
        }

        var periodPending = false;
        if (cpu.Period is > 0)
        {
            try
            {
                Fs.Write(dir + "/cpu.cfs_period_us", Num(cpu.Period.Value));
            }
            catch (CgroupException e) when (e.InnerException is SyscallException { Errno: Errno.EINVAL } && cpu.Quota is not (null or 0))
            {
                // A shorter period can exceed the parent's quota ratio under the old quota; retry after the quota is set.
                periodPending = true;
            }
        }

        var burstPending = false;
        if (cpu.Burst is { } burst)
        {
            try
            {
                Fs.Write(dir + "/cpu.cfs_burst_us", Num(burst));
            }
            catch (CgroupException e) when (e.InnerException is SyscallException { Errno: Errno.EINVAL } && cpu.Quota is not (null or 0))
            {
                // The burst may not exceed the quota: a burst above the old quota is valid only after the new quota.
                burstPending = true;
            }
        }

        if (cpu.Quota is not (null or 0))
        {
            Fs.Write(dir + "/cpu.cfs_quota_us", Num(cpu.Quota.Value));
            if (periodPending)
            {
                Fs.Write(dir + "/cpu.cfs_period_us", Num(cpu.Period!.Value));
            }

            if (burstPending)
            {
                Fs.Write(dir + "/cpu.cfs_burst_us", Num(cpu.Burst!.Value));
            }
        }

        if (cpu.Idle is { } idle)
        {
            Fs.Write(dir + "/cpu.idle", Num(idle));
        }
    }

    /// <summary>
    /// Starts from deny-all, then writes the rules in order (config-linux.md "Allowed Device list": later
    /// rules win). Pass <see cref="CgroupDeviceRules.Effective"/> to keep the default devices usable.
    /// On update of a running container the reset would briefly take /dev/null and friends away, so when
    /// both the current list and the target are allow-lists, only the difference is written: additions first.
    /// </summary>
    private void ApplyDevices(List<DeviceCgroup> rules, bool isUpdate)
    {
        var dir = Require("devices", "set the device allow-list");
        var lines = rules.Select(rule => (rule.Allow, Lines: CgroupDeviceRules.ToV1Lines(rule))).ToList();
        if (isUpdate && TargetExceptions(lines) is { } target && CurrentExceptions(Fs.TryRead(dir + "/devices.list")) is { } current)
        {
            foreach (var (key, access) in target)
            {
                Fs.Write(dir + "/devices.allow", $"{key} {access}");
            }

            foreach (var (key, access) in current)
            {
                var keep = target.GetValueOrDefault(key, "");
                var removed = new string([.. access.Where(c => !keep.Contains(c, StringComparison.Ordinal))]);
                if (removed.Length > 0)
                {
                    Fs.Write(dir + "/devices.deny", $"{key} {removed}");
                }
            }

            return;
        }

        // Reset, then replay the rules in order; runs of the same kind go to one open file.
        var kind = "/devices.deny";
        var run = new List<string> { "a" };
        foreach (var (allow, ruleLines) in lines)
        {
            var file = allow ? "/devices.allow" : "/devices.deny";
            if (file != kind && run.Count > 0)
            {
                Fs.WriteEach(dir + kind, run);
                run = [];
            }

            kind = file;
            run.AddRange(ruleLines);
        }

        if (run.Count > 0)
        {
            Fs.WriteEach(dir + kind, run);
        }
    }

    /// <summary>
    /// The exceptions ("c 1:3" → "rwm") the kernel will hold after the reset-and-replay, as it computes
    /// them in deny-by-default mode (an allow adds access bits to the exact entry, a deny removes them);
    /// null when the rules switch to allow-by-default.
    /// </summary>
    private static Dictionary<string, string>? TargetExceptions(List<(bool Allow, IReadOnlyList<string> Lines)> rules)
    {
        var map = new Dictionary<string, string>();
        foreach (var (allow, lines) in rules)
        {
            foreach (var line in lines)
            {
                if (line == "a")
                {
                    if (allow)
                    {
                        return null;
                    }

                    map.Clear();
                    continue;
                }

                var cut = line.LastIndexOf(' ');
                var key = line[..cut];
                var access = line[(cut + 1)..];
                var old = map.GetValueOrDefault(key, "");
                var next = allow ? Canonical(old + access) : new string([.. old.Where(c => !access.Contains(c, StringComparison.Ordinal))]);
                if (next.Length == 0)
                {
                    map.Remove(key);
                }
                else
                {
                    map[key] = next;
                }
            }
        }

        return map;
    }

    /// <summary>devices.list as exceptions; null in allow-by-default mode (it shows "a *:* rwm").</summary>
    private static Dictionary<string, string>? CurrentExceptions(string? list)
    {
        if (list is null)
        {
            return null;
        }

        var map = new Dictionary<string, string>();
        foreach (var line in list.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith("a ", StringComparison.Ordinal))
            {
                return null;
            }

            var cut = line.LastIndexOf(' ');
            if (cut > 0)
            {
                map[line[..cut]] = Canonical(map.GetValueOrDefault(line[..cut], "") + line[(cut + 1)..]);
            }
        }

        return map;
    }

    private static string Canonical(string access) =>
        (access.Contains('r', StringComparison.Ordinal) ? "r" : "") + (access.Contains('w', StringComparison.Ordinal) ? "w" : "") + (access.Contains('m', StringComparison.Ordinal) ? "m" : "");

    private void ApplyMemory(MemoryResources m, List<string> warnings)
    {
        var needsMemory = m.Limit is not (null or 0) || m.Swap is not (null or 0) || m.Reservation is not (null or 0)
            || m.KernelTcp is not (null or 0) || m.Swappiness is not null || m.DisableOomKiller == true;
        if (m.Kernel is not (null or 0))
        {
            // Linux 5.4 deprecated and 6.x removed kmem limits; runc ignores them too.
            warnings.Add("memory.kernel is not supported by the kernel and is ignored");
        }

        if (!needsMemory)
        {
            return;
        }

        var dir = Require("memory", "set memory limits");
        var limitFile = dir + "/memory.limit_in_bytes";
        var swapFile = dir + "/memory.memsw.limit_in_bytes";
        var limit = m.Limit ?? 0;
        var swap = m.Swap ?? 0;
        if (limit == -1 && swap == 0 && Fs.Exists(swapFile))
        {
            swap = -1;
        }

        if (limit != 0 && swap != 0)
        {
            RequireValue(swap == -1 || limit == -1 || swap >= limit, "memory+swap limit should be >= memory limit");

            // The kernel keeps memory <= memory+swap at every step: raise memsw first when growing, the limit first when shrinking.
            var current = Fs.TryReadUInt64(limitFile) ?? 0;
            if (swap == -1 || current < (ulong)swap)
            {
                Fs.Write(swapFile, Num(swap));
                Fs.Write(limitFile, Num(limit));
            }
            else
            {
                Fs.Write(limitFile, Num(limit));
                Fs.Write(swapFile, Num(swap));
            }
        }
        else
        {
            if (limit != 0)
            {
                Fs.Write(limitFile, Num(limit));
            }

            if (swap != 0)
            {
                Fs.Write(swapFile, Num(swap));
            }
        }

        if (m.Reservation is not (null or 0))
        {
            Fs.Write(dir + "/memory.soft_limit_in_bytes", Num(m.Reservation.Value));
        }

        if (m.KernelTcp is not (null or 0))
        {
            Fs.Write(dir + "/memory.kmem.tcp.limit_in_bytes", Num(m.KernelTcp.Value));
        }

        if (m.Swappiness is { } swappiness)
        {
            RequireValue(swappiness <= 100, $"invalid memory swappiness {swappiness}: want 0 to 100");
            Fs.Write(dir + "/memory.swappiness", Num(swappiness));
        }

        if (m.DisableOomKiller == true)
        {
            Fs.Write(dir + "/memory.oom_control", "1");
        }
    }

    private void ApplyBlockIo(BlockIo b)
    {
        var any = b.Weight is > 0 || b.LeafWeight is > 0 || b.WeightDevice is { Count: > 0 }
            || b.ThrottleReadBpsDevice is { Count: > 0 } || b.ThrottleWriteBpsDevice is { Count: > 0 }
            || b.ThrottleReadIopsDevice is { Count: > 0 } || b.ThrottleWriteIopsDevice is { Count: > 0 };
        if (!any)
        {
            return;
        }

        var dir = Require("blkio", "set blockIO");

        // With the BFQ scheduler (CFQ is gone since Linux 5.0) the weight files carry a bfq. prefix.
        var bfq = !Fs.Exists(dir + "/blkio.weight") && Fs.Exists(dir + "/blkio.bfq.weight");
        var weightFile = dir + (bfq ? "/blkio.bfq.weight" : "/blkio.weight");
        var weightDeviceFile = dir + (bfq ? "/blkio.bfq.weight_device" : "/blkio.weight_device");
        if (b.Weight is > 0)
        {
            Fs.Write(weightFile, Num(b.Weight.Value));
        }

        if (b.LeafWeight is > 0)
        {
            Fs.Write(dir + "/blkio.leaf_weight", Num(b.LeafWeight.Value));
        }

        foreach (var wd in b.WeightDevice ?? [])
        {
            if (wd.Weight is > 0)
            {
                Fs.Write(weightDeviceFile, $"{wd.Major}:{wd.Minor} {wd.Weight}");
            }

            if (wd.LeafWeight is > 0)
            {
                Fs.Write(dir + "/blkio.leaf_weight_device", $"{wd.Major}:{wd.Minor} {wd.LeafWeight}");
            }
        }

        Throttle(dir + "/blkio.throttle.read_bps_device", b.ThrottleReadBpsDevice);
        Throttle(dir + "/blkio.throttle.write_bps_device", b.ThrottleWriteBpsDevice);
        Throttle(dir + "/blkio.throttle.read_iops_device", b.ThrottleReadIopsDevice);
        Throttle(dir + "/blkio.throttle.write_iops_device", b.ThrottleWriteIopsDevice);
    }

    private void Throttle(string file, List<ThrottleDevice>? devices)
    {
        foreach (var d in devices ?? [])
        {
            Fs.Write(file, $"{d.Major}:{d.Minor} {d.Rate}");
        }
    }

    private void InheritCpuset(string parent, string dir, string file)
    {
        if (string.IsNullOrWhiteSpace(Fs.TryRead($"{dir}/{file}")))
        {
            var value = Fs.Read($"{parent}/{file}").Trim();
            Fs.Write($"{dir}/{file}", value);
        }
    }

    private string FreezerFile() => Require("freezer", "freeze") + "/freezer.state";

    private string Require(string controller, string what) =>
        _paths.TryGetValue(controller, out var dir)
            ? dir
            : throw new CgroupException(CgroupErrorKind.Unsupported, $"{what}: the {controller} cgroup controller is not mounted");

    private void TryWrite(string file, string value)
    {
        try
        {
            Fs.Write(file, value);
        }
        catch (CgroupException)
        {
            // Best effort inside the kill loop: the next round retries and the loop has its own deadline.
        }
    }

    internal static string CheckPageSize(string size) =>
        size.Length is > 2 and < 16 && size.EndsWith('B') && "KMG".Contains(size[^2], StringComparison.Ordinal) && size[..^2].All(char.IsAsciiDigit)
            ? size
            : throw new CgroupException(CgroupErrorKind.InvalidSpec, $"invalid hugepage size \"{size}\": want e.g. 2MB or 1GB");

    internal static string RdmaLine(string device, RdmaLimit limit)
    {
        if (device.Length == 0 || device.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new CgroupException(CgroupErrorKind.InvalidSpec, $"invalid rdma device name \"{device}\"");
        }

        var handles = limit.HcaHandles is { } h ? Num(h) : "max";
        var objects = limit.HcaObjects is { } o ? Num(o) : "max";
        return $"{device} hca_handle={handles} hca_object={objects}";
    }
}
