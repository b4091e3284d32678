using Dashboard.Engine.Stats;

namespace Dashboard.Engine.Tests.Stats;

/// <summary>The cgroup reader against fake v1 and v2 trees in temp directories (STYLE.md habit 2: injected roots).</summary>
public sealed class CgroupStatsFilesTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "dst-" + Guid.NewGuid().ToString("N")[..10]);

    private const string NetDev = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
          eth0:    5000      40    1    2    0     0          0         0     3000      30    3    4    0     0       0          0
        """;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Write(string relative, string text)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private void WriteProc()
    {
        Write("proc/stat", "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\ncpu1 50 0 25 400 25 0 0 0 0 0\nintr 1\n");
        Write("proc/42/net/dev", NetDev);
    }

    [Fact]
    public void Read_V1Tree_AllCountersAndNetwork()
    {
        const string rel = "dashboard/abc";
        Write($"cg/cpuacct/{rel}/cpuacct.usage", "2500000000\n");
        Write($"cg/cpuacct/{rel}/cpuacct.usage_percpu", "1500000000 1000000000 \n");
        Write($"cg/cpuacct/{rel}/cpuacct.stat", "user 150\nsystem 100\n");
        Write($"cg/cpu/{rel}/cpu.stat", "nr_periods 10\nnr_throttled 3\nthrottled_time 7000\n");
        Write($"cg/memory/{rel}/memory.usage_in_bytes", "8388608\n");
        Write($"cg/memory/{rel}/memory.limit_in_bytes", "9223372036854771712\n");
        Write($"cg/memory/{rel}/memory.stat", "cache 4096\ntotal_cache 8192\ntotal_inactive_file 1024\n");
        Write($"cg/memory/{rel}/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
        Write($"cg/pids/{rel}/pids.current", "3\n");
        Write($"cg/pids/{rel}/pids.max", "max\n");
        Write($"cg/blkio/{rel}/blkio.throttle.io_service_bytes_recursive", "8:0 Read 100\n8:0 Write 200\n8:0 Total 300\nTotal 300\n");
        WriteProc();

        var files = new CgroupStatsFiles(Path.Combine(_root, "cg"), Path.Combine(_root, "proc"));
        Assert.False(files.IsV2);
        var s = files.Read("/" + rel, 42, DateTimeOffset.UnixEpoch);
        Assert.Equal(2_500_000_000UL, s.CpuTotalNanos);
        Assert.Equal(1_500_000_000UL, s.CpuUserNanos);
        Assert.Equal([1_500_000_000UL, 1_000_000_000UL], s.PerCpuNanos);
        Assert.Equal(2, s.OnlineCpus);
        Assert.Equal(1000UL * 10_000_000, s.SystemNanos);
        Assert.Equal((10UL, 3UL, 7000UL), (s.ThrottlePeriods, s.ThrottledPeriods, s.ThrottledNanos));
        Assert.Equal(8_388_608UL, s.MemoryUsage);
        Assert.Equal(9_223_372_036_854_771_712UL, s.MemoryLimit);
        Assert.Equal(8192UL, s.MemoryCache);
        Assert.Equal(1024UL, s.MemoryStat["total_inactive_file"]);
        Assert.Equal(2UL, s.OomKills);
        Assert.Equal((3UL, ulong.MaxValue), (s.Pids, s.PidsLimit));
        Assert.Equal((100UL, 200UL), (s.BlockRead, s.BlockWrite));
        var eth0 = Assert.Single(s.Networks);
        Assert.Equal(new NetInterface("eth0", 5000, 40, 1, 2, 3000, 30, 3, 4), eth0);
    }

    [Fact]
    public void Read_V2Tree_AllCounters()
    {
        const string rel = "dashboard/abc";
        Write("cg/cgroup.controllers", "cpu memory pids io\n");
        Write($"cg/{rel}/cpu.stat", "usage_usec 2500000\nuser_usec 1500000\nsystem_usec 1000000\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20\n");
        Write($"cg/{rel}/memory.current", "4096\n");
        Write($"cg/{rel}/memory.max", "max\n");
        Write($"cg/{rel}/memory.stat", "file 1024\ninactive_file 512\n");
        Write($"cg/{rel}/memory.events", "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n");
        Write($"cg/{rel}/pids.current", "2\n");
        Write($"cg/{rel}/pids.max", "64\n");
        Write($"cg/{rel}/io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0\n");
        WriteProc();

        var files = new CgroupStatsFiles(Path.Combine(_root, "cg"), Path.Combine(_root, "proc"));
        Assert.True(files.IsV2);
        var s = files.Read(rel, 0, DateTimeOffset.UnixEpoch);
        Assert.Equal(2_500_000_000UL, s.CpuTotalNanos);
        Assert.Equal(20_000UL, s.ThrottledNanos);
        Assert.Equal((4096UL, ulong.MaxValue, 1024UL), (s.MemoryUsage, s.MemoryLimit, s.MemoryCache));
        Assert.Equal((1UL, 5UL), (s.OomKills, s.MemoryFailcnt));
        Assert.Equal((2UL, 64UL), (s.Pids, s.PidsLimit));
        Assert.Equal((11UL, 22UL), (s.BlockRead, s.BlockWrite));
        Assert.Empty(s.Networks);
    }

    [Fact]
    public void Read_MissingCgroup_Zeros()
    {
        WriteProc();
        var s = new CgroupStatsFiles(Path.Combine(_root, "cg"), Path.Combine(_root, "proc")).Read("/nope", 0, DateTimeOffset.UnixEpoch);
        Assert.Equal((0UL, 0UL, 0UL), (s.CpuTotalNanos, s.MemoryUsage, s.Pids));
    }
}
