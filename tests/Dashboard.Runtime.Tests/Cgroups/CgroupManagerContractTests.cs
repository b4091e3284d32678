using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Cgroups;

namespace Dashboard.Runtime.Tests.Cgroups;

/// <summary>One behaviour suite, run against each driver over a fake cgroupfs (STYLE.md habit 4).</summary>
public abstract class CgroupManagerContractTests : IDisposable
{
    /// <summary>Every resource the runtime-spec has that both drivers can enforce.</summary>
    internal const string FullResourcesJson = """
        {
          "devices": [
            { "allow": false, "access": "rwm" },
            { "allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm" },
            { "allow": true, "type": "a", "major": 136, "access": "rw" }
          ],
          "memory": { "limit": 268435456, "reservation": 134217728, "swap": 536870912, "swappiness": 10, "disableOOMKiller": true },
          "cpu": { "shares": 512, "quota": 50000, "period": 100000, "burst": 10000, "cpus": "0-1", "mems": "0", "idle": 0 },
          "pids": { "limit": 100 },
          "blockIO": {
            "weight": 500,
            "weightDevice": [ { "major": 8, "minor": 0, "weight": 300 } ],
            "throttleReadBpsDevice": [ { "major": 8, "minor": 0, "rate": 1048576 } ],
            "throttleWriteBpsDevice": [ { "major": 8, "minor": 0, "rate": 2097152 } ],
            "throttleReadIOPSDevice": [ { "major": 8, "minor": 0, "rate": 100 } ],
            "throttleWriteIOPSDevice": [ { "major": 8, "minor": 0, "rate": 200 } ]
          },
          "hugepageLimits": [ { "pageSize": "2MB", "limit": 20971520 } ]
        }
        """;

    private readonly CgroupHost _host;

    private protected CgroupManagerContractTests((CgroupHost Host, FakeCgroupFs Fs) fake)
    {
        _host = fake.Host;
        Fs = fake.Fs;
    }

    internal FakeCgroupFs Fs { get; }

    /// <summary>Every write, in order, that creating /dashboard/c1 with <see cref="FullResourcesJson"/> must make.</summary>
    protected abstract IReadOnlyList<(string Path, string Value)> ExpectedFullDocumentWrites { get; }

    /// <summary>The directory of /dashboard/c1 that holds <paramref name="controller"/>'s files.</summary>
    protected abstract string Dir(string controller, string cgroup = "/dashboard/c1");

    [Fact]
    public void Create_FullResources_WritesExactlyTheExpectedFiles()
    {
        var manager = Manager("c1", null);

        manager.Create(RuntimeJson.ParseResources(FullResourcesJson));

        Assert.Equal(ExpectedFullDocumentWrites, Fs.Writes);
        foreach (var (path, value) in ExpectedFullDocumentWrites.GroupBy(w => w.Path).Select(g => g.Last()))
        {
            if (!path.EndsWith("/cgroup.subtree_control", StringComparison.Ordinal))
            {
                Assert.Equal(value, Fs.ReadHost(path));
            }
        }
    }

    [Fact]
    public void Paths_NoCgroupsPath_DefaultsBelowDashboard()
    {
        var manager = Manager("c1", null);

        Assert.Equal("/dashboard/c1", manager.CgroupPath);
        Assert.Equal(Dir("memory"), manager.Paths[manager.Layout == CgroupLayout.Unified ? "" : "memory"]);
        Assert.False(manager.Exists);
    }

    [Fact]
    public void Create_NoResources_MakesEveryDirectoryAndWritesNoLimit()
    {
        var manager = Manager("c1", "/custom/place");

        manager.Create(null);

        Assert.True(manager.Exists);
        foreach (var dir in manager.Paths.Values)
        {
            Assert.EndsWith("/custom/place", dir);
            Assert.True(Directory.Exists(Fs.Map(dir)), dir);
        }

        Assert.DoesNotContain(Fs.Writes, w => w.Path.Contains("memory.", StringComparison.Ordinal) || w.Path.Contains("pids.", StringComparison.Ordinal));
    }

    [Fact]
    public void Update_PidsOnly_WritesOnlyPidsMax()
    {
        var manager = Manager("c1", null);
        manager.Create(null);
        Fs.Writes.Clear();

        manager.Update(new Resources { Pids = new PidsResources { Limit = -1 } });

        Assert.Equal([(Dir("pids") + "/pids.max", "max")], Fs.Writes);
    }

    [Fact]
    public void Join_Pid_WritesItToEveryCgroupProcs()
    {
        var manager = Manager("c1", null);
        manager.Create(null);
        Fs.Writes.Clear();

        manager.Join(4242);

        Assert.Equal(manager.Paths.Values.Distinct().Select(d => (d + "/cgroup.procs", "4242")).Order(), Fs.Writes.Order());
    }

    [Fact]
    public void GetPids_ProcessesInSubCgroups_ListsWholeSubtree()
    {
        var manager = Manager("c1", null);
        manager.Create(null);
        var dir = Dir("pids");
        Fs.Seed(dir + "/cgroup.procs", "10\n11\n");
        Fs.Seed(dir + "/inner/cgroup.procs", "12\n");
        Fs.Seed(dir + "/inner/deeper/cgroup.procs", "13\n");

        Assert.Equal([10, 11, 12, 13], manager.GetPids());
    }

    [Fact]
    public void Destroy_WithSubCgroups_RemovesBottomUp()
    {
        var manager = Manager("c1", null);
        manager.Create(null);
        var dir = Dir("memory");
        Fs.Seed(dir + "/inner/deeper/cgroup.procs", "");

        manager.Destroy();

        Assert.False(manager.Exists);
        Assert.True(Fs.Removed.IndexOf(dir + "/inner/deeper") < Fs.Removed.IndexOf(dir + "/inner"));
        Assert.True(Fs.Removed.IndexOf(dir + "/inner") < Fs.Removed.IndexOf(dir));
        Assert.True(Directory.Exists(Fs.Map(Dir("memory", "/dashboard"))), "the shared parent stays");
    }

    [Fact]
    public void Destroy_Missing_IsNoError()
    {
        var manager = Manager("never-created", null);

        manager.Destroy();

        Assert.False(manager.Exists);
    }

    [Fact]
    public void Destroy_ProcessStillInside_FailsWithBusy()
    {
        var manager = Manager("c1", null);
        manager.Create(null);
        Fs.Seed(Dir("memory") + "/cgroup.procs", "77\n");

        var e = Assert.Throws<CgroupException>(manager.Destroy);

        Assert.Contains("device or resource busy", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryRemoveEmpty_EmptyCgroup_RemovesEveryDirectory()
    {
        var manager = Manager("c1", null);
        manager.Create(null);

        Assert.True(manager.TryRemoveEmpty());

        Assert.False(manager.Exists);
        Assert.Equal(manager.Paths.Values.Distinct().Order(StringComparer.Ordinal), Fs.Removed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TryRemoveEmpty_Missing_IsTrue()
    {
        Assert.True(Manager("never-created", null).TryRemoveEmpty());
    }

    [Fact]
    public void TryRemoveEmpty_ProcessLeft_IsFalseAndKeepsThatCgroupAndTheKillHandles()
    {
        var manager = Manager("c1", null);
        manager.Create(null);
        Fs.Seed(Dir("pids") + "/cgroup.procs", "77\n");

        Assert.False(manager.TryRemoveEmpty());

        Assert.True(Directory.Exists(Fs.Map(Dir("pids"))));
        Assert.Equal([77], manager.GetPids());
        if (manager.Paths.TryGetValue("freezer", out var freezer))
        {
            Assert.True(Directory.Exists(Fs.Map(freezer)), "the freezer is removed last, so a kill can still freeze");
        }

        if (manager.Paths.TryGetValue("", out var unified))
        {
            Assert.True(Directory.Exists(Fs.Map(unified)), "cgroup.kill's directory is removed last");
        }
    }

    [Fact]
    public void TryRemoveEmpty_SubCgroupLeft_IsFalseThenDestroyRemovesAll()
    {
        var manager = Manager("c1", null);
        manager.Create(null);
        Fs.Seed(Dir("memory") + "/inner/cgroup.procs", "");

        Assert.False(manager.TryRemoveEmpty());
        manager.Destroy();

        Assert.False(manager.Exists);
    }

    [Fact]
    public void Create_LeftoverEmptyCgroup_IsReused()
    {
        Manager("c1", null).Create(null);

        var manager = Manager("c1", null);
        manager.Create(new Resources { Pids = new PidsResources { Limit = 5 } });

        Assert.Equal("5", Fs.ReadHost(Dir("pids") + "/pids.max"));
    }

    [Fact]
    public void Create_LeftoverCgroupWithProcesses_IsInvalidState()
    {
        var manager = Manager("c1", null);
        manager.Create(null);
        Fs.Seed(Dir("pids") + "/cgroup.procs", "4321\n");
        Fs.Writes.Clear();

        var e = Assert.Throws<CgroupException>(() => Manager("c1", null).Create(null));

        Assert.Equal(CgroupErrorKind.InvalidState, e.Kind);
        Assert.Contains("not empty", e.Message, StringComparison.Ordinal);
        Assert.Empty(Fs.Writes);
    }

    [Fact]
    public void Kill_EmptyOrMissingCgroup_Returns()
    {
        Manager("never-created", null).Kill();
        var manager = Manager("c1", null);
        manager.Create(null);

        manager.Kill();

        Assert.Empty(manager.GetPids());
    }

    [Fact]
    public void FreezeThaw_Fake_ReportsState()
    {
        var manager = Manager("c1", null);
        manager.Create(null);
        Assert.Equal(FreezerState.Thawed, manager.GetFreezerState());

        manager.Freeze();
        Assert.Equal(FreezerState.Frozen, manager.GetFreezerState());

        manager.Thaw();
        Assert.Equal(FreezerState.Thawed, manager.GetFreezerState());
    }

    [Fact]
    public void WatchOom_CounterRises_WaitReturnsTrue()
    {
        var manager = Manager("c1", null);
        manager.Create(null);
        using var watcher = manager.WatchOom();
        Assert.Equal(0UL, watcher.ReadOomKillCount());

        var oomFile = manager.Layout == CgroupLayout.Unified ? Dir("memory") + "/memory.events" : Dir("memory") + "/memory.oom_control";
        var text = Fs.ReadHost(oomFile).Replace("oom_kill 0", "oom_kill 2", StringComparison.Ordinal);
        var writer = new Thread(() =>
        {
            Thread.Sleep(50);
            File.WriteAllText(Fs.Map(oomFile), text);
        });
        writer.Start();

        Assert.True(watcher.WaitForOomKill(0, TimeSpan.FromSeconds(30)));
        writer.Join();
        Assert.Equal(2UL, watcher.ReadOomKillCount());
        Assert.Equal(2UL, manager.GetOomKillCount());
        Assert.False(watcher.WaitForOomKill(2, TimeSpan.FromMilliseconds(50)));
    }

    [Fact]
    public void Create_BadDeviceAccess_IsInvalidSpec()
    {
        var manager = Manager("c1", null);
        var resources = new Resources { Devices = [new DeviceCgroup { Allow = true, Type = "c", Access = "rwx" }] };

        var e = Assert.Throws<CgroupException>(() => manager.Create(resources));

        Assert.Equal(CgroupErrorKind.InvalidSpec, e.Kind);
    }

    [Fact]
    public void Create_BadHugepageSize_IsInvalidSpec()
    {
        var manager = Manager("c1", null);
        var resources = new Resources { HugepageLimits = [new HugepageLimit { PageSize = "2MB/../x", Limit = 1 }] };

        var e = Assert.Throws<CgroupException>(() => manager.Create(resources));

        Assert.Equal(CgroupErrorKind.InvalidSpec, e.Kind);
    }

    [Fact]
    public void Create_SwapBelowLimit_IsInvalidSpec()
    {
        var manager = Manager("c1", null);
        var resources = new Resources { Memory = new MemoryResources { Limit = 200, Swap = 100 } };

        var e = Assert.Throws<CgroupException>(() => manager.Create(resources));

        Assert.Equal(CgroupErrorKind.InvalidSpec, e.Kind);
    }

    [Fact]
    public void Open_SavedPaths_ReusesThemFromAProcessInAnotherCgroup()
    {
        var manager = Manager("c1", "rel/c1");
        manager.Create(null);
        var elsewhere = new CgroupHost(_host.Mounts, manager.Paths.Keys.ToDictionary(k => k, _ => "/elsewhere"), Fs);

        var reopened = CgroupManagerFactory.Open(manager.CgroupPath, manager.Paths, elsewhere);

        Assert.Equal(manager.Paths, reopened.Paths);
        Assert.True(reopened.Exists);
        Assert.NotEqual(manager.Paths, CgroupManagerFactory.Create("c1", "rel/c1", elsewhere).Paths);
    }

    [Theory]
    [InlineData("/etc")]
    [InlineData("/sys/fs/cgroup/../../etc")]
    [InlineData("/sys/fs/cgroupx/a")]
    public void Open_SavedPathOutsideItsMount_IsInvalidSpec(string saved)
    {
        var key = Manager("c1", null).Paths.Keys.First();
        var paths = new Dictionary<string, string> { [key] = key.Length == 0 || saved != "/sys/fs/cgroup/../../etc" ? saved : $"/sys/fs/cgroup/{key}/../../../etc" };

        var e = Assert.Throws<CgroupException>(() => CgroupManagerFactory.Open("/dashboard/c1", paths, _host));

        Assert.Equal(CgroupErrorKind.InvalidSpec, e.Kind);
    }

    public void Dispose()
    {
        Fs.Dispose();
        GC.SuppressFinalize(this);
    }

    internal ICgroupManager Manager(string id, string? cgroupsPath) => CgroupManagerFactory.Create(id, cgroupsPath, _host);
}

public sealed class CgroupV1ManagerContractTests : CgroupManagerContractTests
{
    public CgroupV1ManagerContractTests()
        : base(FakeHosts.Hybrid())
    {
    }

    protected override IReadOnlyList<(string Path, string Value)> ExpectedFullDocumentWrites =>
    [
        ("/sys/fs/cgroup/cpuset/dashboard/cpuset.cpus", "0-1"),
        ("/sys/fs/cgroup/cpuset/dashboard/cpuset.mems", "0"),
        ("/sys/fs/cgroup/cpuset/dashboard/c1/cpuset.cpus", "0-1"),
        ("/sys/fs/cgroup/cpuset/dashboard/c1/cpuset.mems", "0"),
        ("/sys/fs/cgroup/cpuset/dashboard/c1/cpuset.cpus", "0-1"),
        ("/sys/fs/cgroup/cpuset/dashboard/c1/cpuset.mems", "0"),
        ("/sys/fs/cgroup/cpu/dashboard/c1/cpu.shares", "512"),
        ("/sys/fs/cgroup/cpu/dashboard/c1/cpu.cfs_period_us", "100000"),
        ("/sys/fs/cgroup/cpu/dashboard/c1/cpu.cfs_burst_us", "10000"),
        ("/sys/fs/cgroup/cpu/dashboard/c1/cpu.cfs_quota_us", "50000"),
        ("/sys/fs/cgroup/cpu/dashboard/c1/cpu.idle", "0"),
        ("/sys/fs/cgroup/devices/dashboard/c1/devices.deny", "a"),
        ("/sys/fs/cgroup/devices/dashboard/c1/devices.deny", "a"),
        ("/sys/fs/cgroup/devices/dashboard/c1/devices.allow", "c 1:3 rwm"),
        ("/sys/fs/cgroup/devices/dashboard/c1/devices.allow", "c 136:* rw"),
        ("/sys/fs/cgroup/devices/dashboard/c1/devices.allow", "b 136:* rw"),
        ("/sys/fs/cgroup/memory/dashboard/c1/memory.limit_in_bytes", "268435456"),
        ("/sys/fs/cgroup/memory/dashboard/c1/memory.memsw.limit_in_bytes", "536870912"),
        ("/sys/fs/cgroup/memory/dashboard/c1/memory.soft_limit_in_bytes", "134217728"),
        ("/sys/fs/cgroup/memory/dashboard/c1/memory.swappiness", "10"),
        ("/sys/fs/cgroup/memory/dashboard/c1/memory.oom_control", "1"),
        ("/sys/fs/cgroup/pids/dashboard/c1/pids.max", "100"),
        ("/sys/fs/cgroup/blkio/dashboard/c1/blkio.bfq.weight", "500"),
        ("/sys/fs/cgroup/blkio/dashboard/c1/blkio.bfq.weight_device", "8:0 300"),
        ("/sys/fs/cgroup/blkio/dashboard/c1/blkio.throttle.read_bps_device", "8:0 1048576"),
        ("/sys/fs/cgroup/blkio/dashboard/c1/blkio.throttle.write_bps_device", "8:0 2097152"),
        ("/sys/fs/cgroup/blkio/dashboard/c1/blkio.throttle.read_iops_device", "8:0 100"),
        ("/sys/fs/cgroup/blkio/dashboard/c1/blkio.throttle.write_iops_device", "8:0 200"),
        ("/sys/fs/cgroup/hugetlb/dashboard/c1/hugetlb.2MB.limit_in_bytes", "20971520"),
    ];

    protected override string Dir(string controller, string cgroup = "/dashboard/c1") => $"/sys/fs/cgroup/{controller}{cgroup}";

    [Fact]
    public void Paths_Hybrid_HasEveryHierarchyAndTheUnifiedDirectory()
    {
        var manager = Manager("c1", null);

        Assert.Equal(CgroupLayout.Hybrid, manager.Layout);
        Assert.Equal("/sys/fs/cgroup/cpu/dashboard/c1", manager.Paths["cpu"]);
        Assert.Equal("/sys/fs/cgroup/net_cls,net_prio/dashboard/c1", manager.Paths["net_cls"]);
        Assert.Equal("/sys/fs/cgroup/net_cls,net_prio/dashboard/c1", manager.Paths["net_prio"]);
        Assert.Equal("/sys/fs/cgroup/systemd/dashboard/c1", manager.Paths["name=systemd"]);
        Assert.Equal("/sys/fs/cgroup/unified/dashboard/c1", manager.Paths[""]);
    }

    [Fact]
    public void Paths_RelativeCgroupsPath_NestsBelowOwnCgroupPerHierarchy()
    {
        var manager = Manager("c1", "pods/c1");

        Assert.Equal("/sys/fs/cgroup/memory/process_api/242f/pods/c1", manager.Paths["memory"]);
        Assert.Equal("/sys/fs/cgroup/cpu/pods/c1", manager.Paths["cpu"]);
    }

    [Fact]
    public void Create_Unified_IsRefusedOnV1()
    {
        var manager = Manager("c1", null);

        var e = Assert.Throws<CgroupException>(() => manager.Create(new Resources { Unified = new() { ["memory.high"] = "1G" } }));

        Assert.Equal(CgroupErrorKind.Unsupported, e.Kind);
    }

    [Fact]
    public void Update_MemoryGrows_WritesMemswBeforeLimit()
    {
        var manager = Manager("c1", null);
        manager.Create(RuntimeJson.ParseResources("""{ "memory": { "limit": 100000000, "swap": 100000000 } }"""));
        Fs.Writes.Clear();

        manager.Update(RuntimeJson.ParseResources("""{ "memory": { "limit": 200000000, "swap": 300000000 } }"""));

        Assert.Equal(
            [(Dir("memory") + "/memory.memsw.limit_in_bytes", "300000000"), (Dir("memory") + "/memory.limit_in_bytes", "200000000")],
            Fs.Writes);
    }

    [Fact]
    public void Update_UnlimitedMemory_AlsoLiftsSwap()
    {
        var manager = Manager("c1", null);
        manager.Create(null);
        Fs.Writes.Clear();

        manager.Update(RuntimeJson.ParseResources("""{ "memory": { "limit": -1 } }"""));

        Assert.Equal(
            [(Dir("memory") + "/memory.memsw.limit_in_bytes", "-1"), (Dir("memory") + "/memory.limit_in_bytes", "-1")],
            Fs.Writes);
    }

    [Fact]
    public void Update_DevicesOfAllowListCgroup_WritesOnlyTheDifferenceAdditionsFirst()
    {
        var manager = Manager("c1", null);
        manager.Create(null);
        Fs.Seed(Dir("devices") + "/devices.list", "c 1:3 rwm\nc 1:5 rwm\nc 136:* rwm\nc 1:9 rw\n");
        Fs.Writes.Clear();

        manager.Update(new Resources
        {
            Devices =
            [
                new DeviceCgroup { Allow = false, Access = "rwm" },
                new DeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rwm" },
                new DeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 9, Access = "r" },
                new DeviceCgroup { Allow = true, Type = "c", Major = 10, Minor = 229, Access = "rwm" },
                new DeviceCgroup { Allow = false, Type = "c", Major = 10, Minor = 229, Access = "m" },
            ],
        });

        var d = Dir("devices");
        Assert.Equal(
            [
                (d + "/devices.allow", "c 1:3 rwm"), (d + "/devices.allow", "c 1:9 r"), (d + "/devices.allow", "c 10:229 rw"),
                (d + "/devices.deny", "c 1:5 rwm"), (d + "/devices.deny", "c 136:* rwm"), (d + "/devices.deny", "c 1:9 w"),
            ],
            Fs.Writes);
    }

    [Fact]
    public void Update_DevicesOfAllowAllCgroup_ResetsAndReplays()
    {
        var manager = Manager("c1", null);
        manager.Create(null);
        Fs.Writes.Clear();

        manager.Update(new Resources { Devices = [new DeviceCgroup { Allow = false, Access = "rwm" }, new DeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rwm" }] });

        var d = Dir("devices");
        Assert.Equal([(d + "/devices.deny", "a"), (d + "/devices.deny", "a"), (d + "/devices.allow", "c 1:3 rwm")], Fs.Writes);
    }

    [Fact]
    public void Create_Realtime_WritesRtFilesFirst()
    {
        var manager = Manager("c1", null);

        manager.Create(RuntimeJson.ParseResources("""{ "cpu": { "realtimePeriod": 1000000, "realtimeRuntime": 950000, "shares": 100 } }"""));

        var cpuWrites = Fs.Writes.Where(w => w.Path.StartsWith("/sys/fs/cgroup/cpu/", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            [(Dir("cpu") + "/cpu.rt_period_us", "1000000"), (Dir("cpu") + "/cpu.rt_runtime_us", "950000"), (Dir("cpu") + "/cpu.shares", "100")],
            cpuWrites);
    }

    [Fact]
    public void Create_NetworkAndDefaultDevices_WritesClassidPriomapAndDefaultAllowList()
    {
        var manager = Manager("c1", null);
        var linux = new Dashboard.Oci.Runtime.Linux
        {
            Resources = new Resources
            {
                Devices = [new DeviceCgroup { Allow = false, Access = "rwm" }],
                Network = new NetworkResources { ClassId = 0x100001, Priorities = [new InterfacePriority { Name = "eth0", Priority = 5 }] },
            },
            Devices = [new Device { Type = "c", Path = "/dev/fuse", Major = 10, Minor = 229 }],
        };
        linux.Resources.Devices = CgroupDeviceRules.Effective(linux);

        manager.Create(linux.Resources);

        Assert.Equal("1048577", Fs.ReadHost(Dir("net_cls,net_prio") + "/net_cls.classid"));
        Assert.Equal("eth0 5", Fs.ReadHost(Dir("net_cls,net_prio") + "/net_prio.ifpriomap"));
        var allowed = Fs.Writes.Where(w => w.Path.EndsWith("/devices.allow", StringComparison.Ordinal)).Select(w => w.Value).ToList();
        Assert.Equal(["c *:* m", "b *:* m", "c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm", "c 5:0 rwm", "c 1:5 rwm", "c 1:9 rwm", "c 5:1 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm", "c 10:229 rwm"], allowed);
    }
}

public sealed class CgroupV2ManagerContractTests : CgroupManagerContractTests
{
    private const string AllControllers = "+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc";

    public CgroupV2ManagerContractTests()
        : base(FakeHosts.Unified())
    {
    }

    protected override IReadOnlyList<(string Path, string Value)> ExpectedFullDocumentWrites =>
    [
        ("/sys/fs/cgroup/cgroup.subtree_control", AllControllers),
        ("/sys/fs/cgroup/dashboard/cgroup.subtree_control", AllControllers),
        ("/sys/fs/cgroup/dashboard/c1/pids.max", "100"),

        // swap 512 MiB is memory+swap: 256 MiB of it is swap.
        ("/sys/fs/cgroup/dashboard/c1/memory.swap.max", "268435456"),
        ("/sys/fs/cgroup/dashboard/c1/memory.max", "268435456"),
        ("/sys/fs/cgroup/dashboard/c1/memory.low", "134217728"),

        // blkio weight 500 → 1 + (500-10)*9999/990; 300 → 2930.
        ("/sys/fs/cgroup/dashboard/c1/io.weight", "default 4950"),
        ("/sys/fs/cgroup/dashboard/c1/io.weight", "8:0 2930"),
        ("/sys/fs/cgroup/dashboard/c1/io.max", "8:0 rbps=1048576"),
        ("/sys/fs/cgroup/dashboard/c1/io.max", "8:0 wbps=2097152"),
        ("/sys/fs/cgroup/dashboard/c1/io.max", "8:0 riops=100"),
        ("/sys/fs/cgroup/dashboard/c1/io.max", "8:0 wiops=200"),

        // shares 512 → 1 + (512-2)*9999/262142.
        ("/sys/fs/cgroup/dashboard/c1/cpu.weight", "20"),
        ("/sys/fs/cgroup/dashboard/c1/cpu.idle", "0"),
        ("/sys/fs/cgroup/dashboard/c1/cpu.max.burst", "10000"),
        ("/sys/fs/cgroup/dashboard/c1/cpu.max", "50000 100000"),
        ("/sys/fs/cgroup/dashboard/c1/cpuset.cpus", "0-1"),
        ("/sys/fs/cgroup/dashboard/c1/cpuset.mems", "0"),
        ("/sys/fs/cgroup/dashboard/c1/hugetlb.2MB.max", "20971520"),
    ];

    protected override string Dir(string controller, string cgroup = "/dashboard/c1") => "/sys/fs/cgroup" + cgroup;

    [Fact]
    public void Create_FullResources_InstallsDeviceFilterAndReportsWhatV2DoesNotEnforce()
    {
        var manager = Manager("c1", null);

        var warnings = manager.Create(RuntimeJson.ParseResources(FullResourcesJson));

        Assert.DoesNotContain(warnings, w => w.Contains("devices", StringComparison.Ordinal));
        var (dir, program) = Assert.Single(Fs.DeviceFilters);
        Assert.Equal("/sys/fs/cgroup/dashboard/c1", dir);
        Assert.True(DeviceFilter.Evaluate(program, DeviceFilter.DevChar, DeviceFilter.AccRead | DeviceFilter.AccWrite, 1, 3));
        Assert.True(DeviceFilter.Evaluate(program, DeviceFilter.DevBlock, DeviceFilter.AccRead, 136, 7));
        Assert.False(DeviceFilter.Evaluate(program, DeviceFilter.DevBlock, DeviceFilter.AccMknod, 136, 7));
        Assert.False(DeviceFilter.Evaluate(program, DeviceFilter.DevChar, DeviceFilter.AccRead, 1, 5));
        Assert.Contains(warnings, w => w.Contains("swappiness", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("disableOOMKiller", StringComparison.Ordinal));
    }

    [Fact]
    public void Paths_RelativeCgroupsPath_NestsBelowOwnCgroup()
    {
        var manager = Manager("c1", "ctr/c1");

        Assert.Equal("/sys/fs/cgroup/system.slice/engine.service/ctr/c1", manager.Paths[""]);
    }

    [Fact]
    public void Create_Unified_WritesKeysLast()
    {
        var manager = Manager("c1", null);

        manager.Create(RuntimeJson.ParseResources("""{ "memory": { "limit": 1000000 }, "unified": { "memory.max": "2000000", "cpu.weight": "300" } }"""));

        Assert.Equal("2000000", Fs.ReadHost(Dir("memory") + "/memory.max"));
        Assert.Equal("300", Fs.ReadHost(Dir("cpu") + "/cpu.weight"));
    }

    [Theory]
    [InlineData("../cgroup.procs")]
    [InlineData("cgroup.procs")]
    [InlineData("memory.max\n")]
    public void Create_UnifiedBadKey_IsInvalidSpec(string key)
    {
        var manager = Manager("c1", null);

        var e = Assert.Throws<CgroupException>(() => manager.Create(new Resources { Unified = new() { [key] = "1" } }));

        Assert.Equal(CgroupErrorKind.InvalidSpec, e.Kind);
    }

    [Fact]
    public void Create_UnifiedKeyOfMissingController_IsUnsupported()
    {
        var manager = Manager("c1", null);

        var e = Assert.Throws<CgroupException>(() => manager.Create(new Resources { Unified = new() { ["net_cls.classid"] = "1" } }));

        Assert.Equal(CgroupErrorKind.Unsupported, e.Kind);
    }

    [Fact]
    public void Create_Realtime_IsUnsupported()
    {
        var manager = Manager("c1", null);

        var e = Assert.Throws<CgroupException>(() => manager.Create(RuntimeJson.ParseResources("""{ "cpu": { "realtimeRuntime": 950000 } }""")));

        Assert.Equal(CgroupErrorKind.Unsupported, e.Kind);
    }

    [Fact]
    public void Update_CheckBeforeUpdateBelowUsage_IsRefused()
    {
        var manager = Manager("c1", null);
        manager.Create(null);
        Fs.Seed(Dir("memory") + "/memory.current", "5000000\n");

        var e = Assert.Throws<CgroupException>(() => manager.Update(RuntimeJson.ParseResources("""{ "memory": { "limit": 1000000, "checkBeforeUpdate": true } }""")));

        Assert.Contains("below current usage", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Update_MemoryEqualsSwap_DisablesSwap()
    {
        var manager = Manager("c1", null);
        manager.Create(null);
        Fs.Writes.Clear();

        manager.Update(RuntimeJson.ParseResources("""{ "memory": { "limit": 33554432, "swap": 33554432 } }"""));

        Assert.Equal([(Dir("memory") + "/memory.swap.max", "0"), (Dir("memory") + "/memory.max", "33554432")], Fs.Writes);
    }
}
