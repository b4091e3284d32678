using System.Diagnostics;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Cgroups;

/// <summary>cgroup v2 (unified): one directory carries every controller; the spec's v1 units are converted as runc converts them.</summary>
internal sealed class CgroupV2Manager : CgroupManagerBase
{
    private static readonly TimeSpan s_freezeTimeout = TimeSpan.FromSeconds(5);

    private readonly string _dir;
    private readonly string _mountPoint;
    private readonly Dictionary<string, string> _paths;

    public CgroupV2Manager(CgroupHost host, string cgroupPath, IReadOnlyDictionary<string, string>? savedPaths = null)
        : base(host, cgroupPath)
    {
        var mount = host.Mounts.Unified ?? throw new CgroupException(CgroupErrorKind.Unsupported, "no cgroup2 filesystem is mounted");
        _mountPoint = mount.MountPoint;
        _dir = SavedOrResolved(savedPaths, "", mount);
        _paths = new Dictionary<string, string> { [""] = _dir };
    }

    public override CgroupLayout Layout => CgroupLayout.Unified;

    public override IReadOnlyDictionary<string, string> Paths => _paths;

    protected override IReadOnlyList<string> CreateDirectories(Resources? resources)
    {
        // Controllers reach a cgroup only through every ancestor's cgroup.subtree_control ("top-down constraint", cgroup-v2.rst),
        // so each level delegates before its child is made.
        var current = _mountPoint.TrimEnd('/');
        foreach (var component in _dir[current.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            EnableControllers(current);
            current += "/" + component;
            Fs.CreateDirectory(current);
        }

        return resources is null ? [] : Apply(resources, isUpdate: false);
    }

    public override IReadOnlyList<string> Update(Resources resources) => Apply(resources, isUpdate: true);

    public override void Freeze()
    {
        var file = FreezeFile();
        Fs.Write(file, "1");
        var watch = Stopwatch.StartNew();
        while (!IsFrozen())
        {
            if (watch.Elapsed > s_freezeTimeout)
            {
                Fs.Write(file, "0");
                throw new CgroupException(CgroupErrorKind.InvalidState, $"freeze cgroup {CgroupPath}: not frozen after {s_freezeTimeout.TotalSeconds:0} s");
            }

            Thread.Sleep(5);
        }
    }

    public override void Thaw() => Fs.Write(FreezeFile(), "0");

    public override FreezerState GetFreezerState()
    {
        var wanted = Fs.TryRead(_dir + "/cgroup.freeze")?.Trim();
        return wanted switch
        {
            null => FreezerState.Undefined,
            "1" => IsFrozen() ? FreezerState.Frozen : FreezerState.Freezing,
            _ => FreezerState.Thawed,
        };
    }

    public override CgroupStats GetStats() => CgroupStatsReader.ReadV2(Fs, _dir);

    public override ulong GetOomKillCount() => OomWatcherBase.ReadCounter(Fs, _dir + "/memory.events", "oom_kill") ?? 0;

    public override IOomWatcher WatchOom()
    {
        RequireController("memory", "watch oom");
        return CgroupV2OomWatcher.Open(Fs, _dir);
    }

    protected override void TryFreezeQuick()
    {
        // cgroup.kill already took the whole subtree; the fallback loop below runs without it only before Linux 5.14.
        if (!Fs.Exists(_dir + "/cgroup.kill") && Fs.Exists(_dir + "/cgroup.freeze"))
        {
            TryWrite(_dir + "/cgroup.freeze", "1");
        }
    }

    protected override void TryThawQuick()
    {
        if (Fs.Exists(_dir + "/cgroup.freeze"))
        {
            TryWrite(_dir + "/cgroup.freeze", "0");
        }
    }

    private List<string> Apply(Resources r, bool isUpdate)
    {
        var warnings = new List<string>();
        if (r.Pids is { Limit: not 0 } pids)
        {
            RequireController("pids", "set pids.limit");
            Fs.Write(_dir + "/pids.max", pids.Limit > 0 ? Num(pids.Limit) : "max");
        }

        if (r.Memory is { } memory)
        {
            ApplyMemory(memory, isUpdate, warnings);
        }

        if (r.BlockIo is { } blockIo)
        {
            ApplyIo(blockIo, warnings);
        }

        if (r.Cpu is { } cpu)
        {
            ApplyCpu(cpu);
        }

        foreach (var hugepage in r.HugepageLimits ?? [])
        {
            RequireController("hugetlb", "set hugepageLimits");
            var size = CgroupV1Manager.CheckPageSize(hugepage.PageSize);
            Fs.Write($"{_dir}/hugetlb.{size}.max", Num(hugepage.Limit));
            if (Fs.Exists($"{_dir}/hugetlb.{size}.rsvd.max"))
            {
                Fs.Write($"{_dir}/hugetlb.{size}.rsvd.max", Num(hugepage.Limit));
            }
        }

        foreach (var (device, limit) in r.Rdma ?? [])
        {
            RequireController("rdma", "set rdma");
            Fs.Write(_dir + "/rdma.max", CgroupV1Manager.RdmaLine(device, limit));
        }

        if (r.Network is { ClassId: not null } or { Priorities.Count: > 0 })
        {
            warnings.Add("network.classID and network.priorities need the v1 net_cls/net_prio controllers and are not enforced on cgroup v2");
        }

        if (r.Devices is { Count: > 0 } devices)
        {
            // v2 has no devices files: the allow-list becomes an eBPF program on the cgroup (as runc and crun do).
            Fs.ApplyDeviceFilter(_dir, DeviceFilter.Compile(devices));
        }

        // Last, so explicit v2 keys override the converted v1 values (runc does the same).
        foreach (var (key, value) in r.Unified ?? [])
        {
            WriteUnified(key, value);
        }

        return warnings;
    }

    private void ApplyMemory(MemoryResources m, bool isUpdate, List<string> warnings)
    {
        if (m.Swappiness is not null)
        {
            warnings.Add("memory.swappiness has no cgroup v2 equivalent and is ignored");
        }

        if (m.DisableOomKiller == true)
        {
            warnings.Add("memory.disableOOMKiller has no cgroup v2 equivalent and is ignored");
        }

        if (m.Kernel is not (null or 0) || m.KernelTcp is not (null or 0))
        {
            warnings.Add("memory.kernel and memory.kernelTCP have no cgroup v2 equivalent and are ignored");
        }

        var limit = m.Limit ?? 0;
        var swapSpec = m.Swap ?? 0;
        if (limit == 0 && swapSpec == 0 && m.Reservation is null or 0)
        {
            return;
        }

        RequireController("memory", "set memory limits");
        if (isUpdate && m.CheckBeforeUpdate == true && limit > 0)
        {
            var current = Fs.TryReadUInt64(_dir + "/memory.current") ?? 0;
            if ((ulong)limit < current)
            {
                throw new CgroupException(CgroupErrorKind.InvalidSpec, $"rejecting memory limit {limit} below current usage {current}");
            }
        }

        var swap = CgroupConversions.SwapToV2(swapSpec, limit);
        var swapText = swap switch
        {
            -1 => "max",

            // memory == memory+swap: no swap at all.
            0 when swapSpec > 0 => "0",
            0 => null,
            _ => Num(swap),
        };
        if (swapText is not null)
        {
            if (Fs.Exists(_dir + "/memory.swap.max"))
            {
                Fs.Write(_dir + "/memory.swap.max", swapText);
            }
            else if (swapText is not ("max" or "0"))
            {
                throw new CgroupException(CgroupErrorKind.Unsupported, "memory.swap is set but this kernel has no swap accounting (memory.swap.max)");
            }
        }

        if (limit != 0)
        {
            Fs.Write(_dir + "/memory.max", limit == -1 ? "max" : Num(limit));
        }

        if (m.Reservation is { } reservation and not 0)
        {
            Fs.Write(_dir + "/memory.low", reservation == -1 ? "max" : Num(reservation));
        }
    }

    private void ApplyCpu(CpuResources cpu)
    {
        if (cpu.RealtimePeriod is > 0 || cpu.RealtimeRuntime is not (null or 0))
        {
            throw new CgroupException(CgroupErrorKind.Unsupported, "cpu.realtimePeriod and cpu.realtimeRuntime need cgroup v1: cgroup v2 has no realtime budget");
        }

        var needsCpu = cpu.Shares is > 0 || cpu.Quota is not (null or 0) || cpu.Period is > 0 || cpu.Burst is not null || cpu.Idle is not null;
        if (needsCpu)
        {
            RequireController("cpu", "set cpu limits");
        }

        if (cpu.Shares is > 0)
        {
            Fs.Write(_dir + "/cpu.weight", Num(CgroupConversions.CpuSharesToWeight(cpu.Shares.Value)));
        }

        if (cpu.Idle is { } idle)
        {
            Fs.Write(_dir + "/cpu.idle", Num(idle));
        }

        var burstPending = false;
        if (cpu.Burst is { } burst)
        {
            try
            {
                Fs.Write(_dir + "/cpu.max.burst", Num(burst));
            }
            catch (CgroupException e) when (e.InnerException is Dashboard.Linux.SyscallException { Errno: Dashboard.Linux.Errno.EINVAL })
            {
                // A burst above the old quota becomes valid once the new quota is written.
                burstPending = true;
            }
        }

        if (cpu.Quota is not (null or 0) || cpu.Period is > 0)
        {
            // "$MAX $PERIOD"; without a period the kernel keeps the current one.
            var max = cpu.Quota is > 0 ? Num(cpu.Quota.Value) : "max";
            Fs.Write(_dir + "/cpu.max", cpu.Period is > 0 ? $"{max} {cpu.Period}" : max);
        }

        if (burstPending)
        {
            Fs.Write(_dir + "/cpu.max.burst", Num(cpu.Burst!.Value));
        }

        if (!string.IsNullOrEmpty(cpu.Cpus))
        {
            RequireController("cpuset", "set cpu.cpus");
            Fs.Write(_dir + "/cpuset.cpus", cpu.Cpus);
        }

        if (!string.IsNullOrEmpty(cpu.Mems))
        {
            RequireController("cpuset", "set cpu.mems");
            Fs.Write(_dir + "/cpuset.mems", cpu.Mems);
        }
    }

    private void ApplyIo(BlockIo b, List<string> warnings)
    {
        var any = b.Weight is > 0 || b.WeightDevice is { Count: > 0 }
            || b.ThrottleReadBpsDevice is { Count: > 0 } || b.ThrottleWriteBpsDevice is { Count: > 0 }
            || b.ThrottleReadIopsDevice is { Count: > 0 } || b.ThrottleWriteIopsDevice is { Count: > 0 };
        if (b.LeafWeight is > 0 || b.WeightDevice?.Any(w => w.LeafWeight is > 0) == true)
        {
            warnings.Add("blockIO leafWeight has no cgroup v2 equivalent and is ignored");
        }

        if (!any)
        {
            return;
        }

        RequireController("io", "set blockIO");

        // BFQ takes the v1 weight range [1, 1000] as is; io.weight (the io.cost model) wants [1, 10000].
        var bfq = Fs.Exists(_dir + "/io.bfq.weight");
        if (b.Weight is > 0)
        {
            if (bfq)
            {
                Fs.Write(_dir + "/io.bfq.weight", Num(b.Weight.Value));
            }
            else
            {
                Fs.Write(_dir + "/io.weight", $"default {CgroupConversions.BlkioWeightToIoWeight(b.Weight.Value)}");
            }
        }

        foreach (var wd in b.WeightDevice ?? [])
        {
            if (wd.Weight is > 0)
            {
                if (bfq)
                {
                    Fs.Write(_dir + "/io.bfq.weight", $"{wd.Major}:{wd.Minor} {wd.Weight}");
                }
                else
                {
                    Fs.Write(_dir + "/io.weight", $"{wd.Major}:{wd.Minor} {CgroupConversions.BlkioWeightToIoWeight(wd.Weight.Value)}");
                }
            }
        }

        IoMax("rbps", b.ThrottleReadBpsDevice);
        IoMax("wbps", b.ThrottleWriteBpsDevice);
        IoMax("riops", b.ThrottleReadIopsDevice);
        IoMax("wiops", b.ThrottleWriteIopsDevice);
    }

    private void IoMax(string key, List<ThrottleDevice>? devices)
    {
        foreach (var d in devices ?? [])
        {
            // Rate 0 means "no limit" in the v1 files; v2 spells it "max".
            Fs.Write(_dir + "/io.max", $"{d.Major}:{d.Minor} {key}={(d.Rate == 0 ? "max" : Num(d.Rate))}");
        }
    }

    /// <summary>
    /// A <c>linux.resources.unified</c> entry (config-linux.md "Unified"): the key names a file in the
    /// container's own cgroup, never a path elsewhere.
    /// </summary>
    private void WriteUnified(string key, string value)
    {
        if (key.Length == 0 || key.Contains('/', StringComparison.Ordinal) || key is "." or ".." || key.Any(char.IsControl))
        {
            throw new CgroupException(CgroupErrorKind.InvalidSpec, $"invalid unified key \"{key}\": must be a file name in the container's cgroup");
        }

        if (key is "cgroup.procs" or "cgroup.threads" or "cgroup.kill" or "cgroup.subtree_control" or "cgroup.type")
        {
            throw new CgroupException(CgroupErrorKind.InvalidSpec, $"unified key \"{key}\" is managed by the runtime and cannot be set");
        }

        var file = $"{_dir}/{key}";
        if (!Fs.Exists(file))
        {
            var dot = key.IndexOf('.', StringComparison.Ordinal);
            var controller = dot > 0 ? key[..dot] : key;
            var available = AvailableControllers();
            throw available.Contains(controller) || controller == "cgroup"
                ? new CgroupException(CgroupErrorKind.InvalidSpec, $"unified key \"{key}\": no such file in {_dir}")
                : new CgroupException(CgroupErrorKind.Unsupported, $"unified key \"{key}\": the {controller} controller is not available in {_dir}");
        }

        Fs.Write(file, value);
    }

    private void EnableControllers(string dir)
    {
        var controllers = (Fs.TryRead(dir + "/cgroup.controllers") ?? "").Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        if (controllers.Length == 0)
        {
            return;
        }

        try
        {
            Fs.Write(dir + "/cgroup.subtree_control", string.Join(' ', controllers.Select(c => "+" + c)));
        }
        catch (CgroupException)
        {
            // One controller that cannot be delegated (e.g. cpu with realtime tasks in the parent) must not block the others;
            // a limit that then cannot be set fails later with a clear "controller not available".
            foreach (var c in controllers)
            {
                TryWrite(dir + "/cgroup.subtree_control", "+" + c);
            }
        }
    }

    private HashSet<string> AvailableControllers() =>
        [.. (Fs.TryRead(_dir + "/cgroup.controllers") ?? "").Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries)];

    private void RequireController(string controller, string what)
    {
        if (!AvailableControllers().Contains(controller))
        {
            throw new CgroupException(CgroupErrorKind.Unsupported, $"{what}: the {controller} controller is not available in {_dir}");
        }
    }

    private bool IsFrozen() =>
        (Fs.TryRead(_dir + "/cgroup.events") ?? "").Split('\n').Any(l => l.Trim() == "frozen 1");

    private string FreezeFile()
    {
        var file = _dir + "/cgroup.freeze";
        return Fs.Exists(file) ? file : throw new CgroupException(CgroupErrorKind.Unsupported, "freeze: this kernel has no cgroup.freeze (Linux 5.2+)");
    }

    private void TryWrite(string file, string value)
    {
        try
        {
            Fs.Write(file, value);
        }
        catch (CgroupException)
        {
            // Best effort: callers verify the outcome themselves.
        }
    }
}
