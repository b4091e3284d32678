using System.Diagnostics;
using Process = System.Diagnostics.Process;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Cgroups;
using Dashboard.Testing;

namespace Dashboard.Runtime.Tests.Cgroups;

/// <summary>
/// Both drivers against the real kernel: the v1 driver on this host's v1 hierarchies, the v2 driver on
/// the host's cgroup2 mount (controller-less on a hybrid host, so only core files: procs, freeze, kill).
/// Everything is made below "dashboard-test" and removed again.
/// </summary>
public sealed class CgroupRootTests : IDisposable
{
    private const string Parent = "dashboard-test";

    private readonly List<ICgroupManager> _managers = [];
    private readonly List<Process> _processes = [];

    [Fact]
    public void V1Lifecycle_SleepProcess_LimitsJoinStatsFreezeKillDestroy()
    {
        var manager = NewV1Manager();
        var warnings = manager.Create(RuntimeJson.ParseResources("""
            { "memory": { "limit": 67108864 }, "cpu": { "shares": 512, "quota": 20000, "period": 100000 }, "pids": { "limit": 32 } }
            """));

        Assert.Empty(warnings);
        Assert.Equal("67108864", Read(manager.Paths["memory"] + "/memory.limit_in_bytes"));
        Assert.Equal("512", Read(manager.Paths["cpu"] + "/cpu.shares"));
        Assert.Equal("20000", Read(manager.Paths["cpu"] + "/cpu.cfs_quota_us"));
        Assert.Equal("32", Read(manager.Paths["pids"] + "/pids.max"));

        var sleep = Start("/bin/sleep", "30");
        manager.Join(sleep.Id);

        Assert.Equal([sleep.Id], manager.GetPids());
        Assert.Contains($"memory:{manager.CgroupPath}", File.ReadAllText($"/proc/{sleep.Id}/cgroup"), StringComparison.Ordinal);
        var stats = manager.GetStats();
        Assert.Equal(1UL, stats.Pids.Current);
        Assert.Equal(32UL, stats.Pids.Limit);
        Assert.Equal(67108864UL, stats.Memory.Usage.Limit);
        Assert.NotNull(stats.Memory.Raw);
        Assert.Equal(Environment.ProcessorCount, stats.Cpu.Usage.PerCpu?.Count ?? Environment.ProcessorCount);

        manager.Freeze();
        Assert.Equal(FreezerState.Frozen, manager.GetFreezerState());
        Assert.Equal("FROZEN", Read(manager.Paths["freezer"] + "/freezer.state"));

        manager.Thaw();
        Assert.Equal(FreezerState.Thawed, manager.GetFreezerState());

        manager.Update(new Resources { Pids = new PidsResources { Limit = 64 } });
        Assert.Equal("64", Read(manager.Paths["pids"] + "/pids.max"));

        manager.Kill();
        Assert.True(sleep.WaitForExit(30_000));
        Assert.Empty(manager.GetPids());

        manager.Destroy();
        Assert.False(manager.Exists);
        Assert.All(manager.Paths.Values, dir => Assert.False(Directory.Exists(dir), dir));
    }

    [Fact]
    public void V1DevicesUpdate_AllowList_KernelListMatchesTarget()
    {
        var manager = NewV1Manager();
        var linux = new Dashboard.Oci.Runtime.Linux { Resources = new Resources { Devices = [new DeviceCgroup { Allow = false, Access = "rwm" }] } };
        manager.Create(new Resources { Devices = CgroupDeviceRules.Effective(linux) });
        var list = manager.Paths["devices"] + "/devices.list";
        Assert.Contains("c 10:200 rwm", File.ReadAllLines(list));

        manager.Update(new Resources
        {
            Devices =
            [
                new DeviceCgroup { Allow = false, Access = "rwm" },
                new DeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rwm" },
                new DeviceCgroup { Allow = true, Type = "c", Major = 10, Minor = 229, Access = "rw" },
            ],
        });

        Assert.Equal(["c 10:229 rw", "c 1:3 rwm"], File.ReadAllLines(list).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void V1Kill_FrozenProcessesInSubCgroups_KillsAllAndDestroyRemovesEverything()
    {
        var manager = NewV1Manager();
        manager.Create(null);
        var sleeps = Enumerable.Range(0, 3).Select(_ => Start("/bin/sleep", "30")).ToList();
        manager.Join(sleeps[0].Id);

        // What a container may do itself: nested cgroups holding some of its processes.
        foreach (var dir in manager.Paths.Values.Distinct())
        {
            Directory.CreateDirectory(dir + "/inner/deeper");
            if (File.Exists(dir + "/cpuset.cpus"))
            {
                // A v1 cpuset takes no task until it has cpus and mems.
                foreach (var sub in new[] { "/inner", "/inner/deeper" })
                {
                    CgroupSyscalls.WriteFile(dir + sub + "/cpuset.cpus", Read(dir + "/cpuset.cpus"));
                    CgroupSyscalls.WriteFile(dir + sub + "/cpuset.mems", Read(dir + "/cpuset.mems"));
                }
            }

            CgroupSyscalls.WriteFile(dir + "/inner/cgroup.procs", sleeps[1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            CgroupSyscalls.WriteFile(dir + "/inner/deeper/cgroup.procs", sleeps[2].Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Equal(sleeps.Select(p => p.Id).Order(), manager.GetPids());
        manager.Freeze();

        manager.Kill();

        Assert.All(sleeps, p => Assert.True(p.WaitForExit(30_000)));
        manager.Destroy();
        Assert.False(manager.Exists);
    }

    [Fact]
    public void V1Signal_PausedContainer_StaysPausedUntilResumed()
    {
        var manager = NewV1Manager();
        manager.Create(null);
        var sleep = Start("/bin/sleep", "30");
        manager.Join(sleep.Id);
        manager.Freeze();

        manager.Signal(15);

        Assert.Equal(FreezerState.Frozen, manager.GetFreezerState());
        Assert.False(sleep.WaitForExit(200));
        manager.Thaw();
        Assert.True(sleep.WaitForExit(30_000));
        Assert.Equal(143, sleep.ExitCode);
    }

    [Fact]
    public void V1Oom_ProcessAboveLimit_IsKilledAndCounted()
    {
        Requires.Tool("busybox");
        var manager = NewV1Manager();
        manager.Create(RuntimeJson.ParseResources("""{ "memory": { "limit": 33554432, "swap": 33554432 } }"""));
        using var watcher = manager.WatchOom();
        Assert.Equal(0UL, manager.GetOomKillCount());

        // dd's 100 MiB buffer is filled from /dev/zero, so every page is really touched.
        var hog = Start(Requires.FindTool("busybox")!, "sh -c \"read go; exec busybox dd if=/dev/zero of=/dev/null bs=100M count=1\"", redirectStdin: true);
        manager.Join(hog.Id);
        hog.StandardInput.WriteLine("go");
        hog.StandardInput.Flush();

        Assert.True(watcher.WaitForOomKill(0, TimeSpan.FromSeconds(20)), "no oom_kill counted");
        Assert.True(hog.WaitForExit(30_000));
        Assert.Equal(137, hog.ExitCode);
        Assert.True(manager.GetOomKillCount() >= 1);
        Assert.Equal(33554432UL, manager.GetStats().Memory.Usage.Max);
    }

    [Fact]
    public void V1Oom_EventFd_BecomesReadable()
    {
        Requires.Tool("busybox");
        var manager = NewV1Manager();
        manager.Create(RuntimeJson.ParseResources("""{ "memory": { "limit": 33554432, "swap": 33554432 } }"""));
        using var watcher = manager.WatchOom();
        Assert.False(CgroupSyscalls.PollReadable(watcher.Fd, 0));

        var hog = Start(Requires.FindTool("busybox")!, "sh -c \"read go; exec busybox dd if=/dev/zero of=/dev/null bs=100M count=1\"", redirectStdin: true);
        manager.Join(hog.Id);
        hog.StandardInput.WriteLine("go");
        hog.StandardInput.Flush();
        Assert.True(hog.WaitForExit(20000));

        Assert.True(CgroupSyscalls.PollReadable(watcher.Fd, 2000), "the eventfd registered on memory.oom_control did not fire");
        watcher.Acknowledge();
        Assert.True(watcher.ReadOomKillCount() >= 1);
    }

    [Fact]
    public void V2Lifecycle_OnHostCgroup2_JoinFreezeKillDestroy()
    {
        var manager = NewV2Manager();
        manager.Create(null);
        var sleeps = Enumerable.Range(0, 2).Select(_ => Start("/bin/sleep", "30")).ToList();
        manager.Join(sleeps[0].Id);
        var dir = manager.Paths[""];
        Directory.CreateDirectory(dir + "/inner");
        CgroupSyscalls.WriteFile(dir + "/inner/cgroup.procs", sleeps[1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(sleeps.Select(p => p.Id).Order(), manager.GetPids());
        Assert.Equal(FreezerState.Thawed, manager.GetFreezerState());

        manager.Freeze();
        Assert.Equal(FreezerState.Frozen, manager.GetFreezerState());
        Assert.Contains("frozen 1", File.ReadAllText(dir + "/cgroup.events"), StringComparison.Ordinal);

        manager.Kill();

        Assert.All(sleeps, p => Assert.True(p.WaitForExit(30_000)));
        manager.Destroy();
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void V2DeviceFilter_OnHostCgroup2_KernelEnforcesAllowListAndUpdateReplacesIt()
    {
        Requires.Tool("busybox");
        var manager = NewV2Manager();
        manager.Create(new Resources
        {
            Devices =
            [
                new DeviceCgroup { Allow = false, Access = "rwm" },
                new DeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rwm" },
                new DeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 5, Access = "r" },
            ],
        });

        Assert.Equal(
            ["null-ok", "zero-read-ok", "zero-write-denied", "urandom-denied"],
            Probe(manager, "(echo x > /dev/null) && echo null-ok; (head -c 1 /dev/zero >/dev/null) && echo zero-read-ok; (echo x > /dev/zero) || echo zero-write-denied; (head -c 1 /dev/urandom >/dev/null) || echo urandom-denied"));

        manager.Update(new Resources
        {
            Devices = [new DeviceCgroup { Allow = false, Access = "rwm" }, new DeviceCgroup { Allow = true, Type = "c", Major = 1, Access = "rwm" }],
        });

        Assert.Single(CgroupBpf.QueryDevicePrograms(manager.Paths[""]));
        Assert.Equal(["zero-write-ok", "urandom-ok"], Probe(manager, "(echo x > /dev/zero) && echo zero-write-ok; (head -c 1 /dev/urandom >/dev/null) && echo urandom-ok"));
    }

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill();
                    p.WaitForExit(2000);
                }
            }
            catch (InvalidOperationException)
            {
            }

            p.Dispose();
        }

        foreach (var m in _managers)
        {
            try
            {
                if (m.Exists)
                {
                    m.Thaw();
                    m.Kill();
                    m.Destroy();
                }
            }
            catch (CgroupException)
            {
            }

            // The shared parent goes when the last test using it is done; rmdir fails harmlessly while another still uses it.
            foreach (var dir in m.Paths.Values.Distinct())
            {
                CgroupSyscalls.TryRemoveDirectory(Path.GetDirectoryName(dir)!);
            }
        }
    }

    private static string Read(string path) => File.ReadAllText(path).Trim();

    /// <summary>Runs a busybox shell script inside the cgroup (joined before the script starts) and returns its stdout lines.</summary>
    private string[] Probe(ICgroupManager manager, string script)
    {
        var busybox = Requires.FindTool("busybox")!;
        var p = Start(busybox, $"sh -c \"read go; {script}\"", redirectStdin: true, redirectOutput: true);
        manager.Join(p.Id);
        p.StandardInput.WriteLine("go");
        p.StandardInput.Flush();
        var stdout = p.StandardOutput.ReadToEnd();
        _ = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(30_000));
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static string NewId() => "t" + Guid.NewGuid().ToString("N")[..12];

    private ICgroupManager NewV1Manager()
    {
        Requires.Root();
        var host = CgroupHost.Current();
        if (host.Mounts.Layout == CgroupLayout.Unified)
        {
            Requires.Unmet("needs cgroup v1 hierarchies (this host is cgroup v2 only)");
        }

        var manager = CgroupManagerFactory.Create(NewId(), $"/{Parent}/{NewId()}", host);
        _managers.Add(manager);
        return manager;
    }

    private ICgroupManager NewV2Manager()
    {
        Requires.Root();
        var current = CgroupMounts.ReadCurrent();
        if (current.Unified is null)
        {
            Requires.Unmet("needs a cgroup2 mount");
        }

        // On a hybrid host, drive the v2 driver on the cgroup2 mount alone.
        var mounts = CgroupMounts.Parse($"1 1 0:1 / {current.Unified!.MountPoint} rw - cgroup2 cgroup2 rw\n");
        var manager = CgroupManagerFactory.Create(NewId(), $"/{Parent}/{NewId()}", new CgroupHost(mounts, new Dictionary<string, string>()));
        Assert.IsAssignableFrom<ICgroupManager>(manager);
        _managers.Add(manager);
        return manager;
    }

    private Process Start(string file, string arguments, bool redirectStdin = false, bool redirectOutput = false)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardInput = redirectStdin,
            RedirectStandardOutput = redirectOutput,
            RedirectStandardError = redirectOutput,
            UseShellExecute = false,
        };
        var p = Process.Start(info)!;
        _processes.Add(p);
        return p;
    }
}
