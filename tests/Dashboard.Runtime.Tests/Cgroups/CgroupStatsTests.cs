using System.Text.Json;
using Dashboard.Runtime.Cgroups;

namespace Dashboard.Runtime.Tests.Cgroups;

public sealed class CgroupStatsTests
{
    [Fact]
    public void GetStats_V1Files_FillsRuncShape()
    {
        var (host, fs) = FakeHosts.Hybrid();
        using var _ = fs;
        var manager = CgroupManagerFactory.Create("c1", null, host);
        manager.Create(null);
        const string d = "/dashboard/c1";
        fs.Seed($"/sys/fs/cgroup/cpuacct{d}/cpuacct.usage", "3000000000\n");
        fs.Seed($"/sys/fs/cgroup/cpuacct{d}/cpuacct.usage_percpu", "1000000000 2000000000 \n");
        fs.Seed($"/sys/fs/cgroup/cpuacct{d}/cpuacct.usage_all", "cpu user system\n0 700000000 300000000\n1 1500000000 500000000\n");
        fs.Seed($"/sys/fs/cgroup/cpuacct{d}/cpuacct.stat", "user 220\nsystem 80\n");
        fs.Seed($"/sys/fs/cgroup/cpu{d}/cpu.stat", "nr_periods 40\nnr_throttled 5\nthrottled_time 123456\nnr_bursts 0\nburst_time 0\n");
        fs.Seed($"/sys/fs/cgroup/memory{d}/memory.stat", "cache 4096\nrss 8192\ntotal_cache 4096\n");
        fs.Seed($"/sys/fs/cgroup/memory{d}/memory.usage_in_bytes", "12288\n");
        fs.Seed($"/sys/fs/cgroup/memory{d}/memory.max_usage_in_bytes", "20480\n");
        fs.Seed($"/sys/fs/cgroup/memory{d}/memory.limit_in_bytes", "33554432\n");
        fs.Seed($"/sys/fs/cgroup/memory{d}/memory.failcnt", "3\n");
        fs.Seed($"/sys/fs/cgroup/memory{d}/memory.memsw.usage_in_bytes", "12288\n");
        fs.Seed($"/sys/fs/cgroup/pids{d}/pids.current", "4\n");
        fs.Seed($"/sys/fs/cgroup/pids{d}/pids.max", "64\n");
        fs.Seed($"/sys/fs/cgroup/blkio{d}/blkio.throttle.io_service_bytes_recursive", "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\nTotal 12288\n");
        fs.Seed($"/sys/fs/cgroup/blkio{d}/blkio.throttle.io_serviced_recursive", "8:0 Read 1\n8:0 Write 2\nTotal 3\n");
        fs.Seed($"/sys/fs/cgroup/hugetlb{d}/hugetlb.2MB.usage_in_bytes", "2097152\n");
        fs.Seed($"/sys/fs/cgroup/hugetlb{d}/hugetlb.2MB.failcnt", "1\n");

        var stats = manager.GetStats();

        Assert.Equal(3000000000UL, stats.Cpu.Usage.Total);
        Assert.Equal([1000000000UL, 2000000000UL], stats.Cpu.Usage.PerCpu);
        Assert.Equal([700000000UL, 1500000000UL], stats.Cpu.Usage.PerCpuUser);
        Assert.Equal([300000000UL, 500000000UL], stats.Cpu.Usage.PerCpuKernel);
        Assert.Equal(2200000000UL, stats.Cpu.Usage.User);
        Assert.Equal(800000000UL, stats.Cpu.Usage.Kernel);
        Assert.Equal(40UL, stats.Cpu.Throttling.Periods);
        Assert.Equal(5UL, stats.Cpu.Throttling.ThrottledPeriods);
        Assert.Equal(123456UL, stats.Cpu.Throttling.ThrottledTime);
        Assert.Equal(4096UL, stats.Memory.Cache);
        Assert.Equal(8192UL, stats.Memory.Raw!["rss"]);
        Assert.Equal(12288UL, stats.Memory.Usage.Usage);
        Assert.Equal(20480UL, stats.Memory.Usage.Max);
        Assert.Equal(33554432UL, stats.Memory.Usage.Limit);
        Assert.Equal(3UL, stats.Memory.Usage.Failcnt);
        Assert.Equal(12288UL, stats.Memory.Swap.Usage);
        Assert.Equal(4UL, stats.Pids.Current);
        Assert.Equal(64UL, stats.Pids.Limit);
        Assert.Equal(
            [new BlkioEntry { Major = 8, Minor = 0, Op = "Read", Value = 4096 }, new BlkioEntry { Major = 8, Minor = 0, Op = "Write", Value = 8192 }, new BlkioEntry { Major = 8, Minor = 0, Op = "Sync", Value = 0 }],
            stats.Blkio.IoServiceBytesRecursive);
        Assert.Equal(2, stats.Blkio.IoServicedRecursive!.Count(e => e.Value > 0));
        Assert.Equal(2097152UL, stats.Hugetlb["2MB"].Usage);
        Assert.Equal(1UL, stats.Hugetlb["2MB"].Failcnt);
        Assert.Equal(0UL, stats.Hugetlb["1GB"].Usage);
    }

    [Fact]
    public void GetStats_V2Files_FillsRuncShape()
    {
        var (host, fs) = FakeHosts.Unified();
        using var _ = fs;
        var manager = CgroupManagerFactory.Create("c1", null, host);
        manager.Create(null);
        const string d = "/sys/fs/cgroup/dashboard/c1";
        fs.Seed($"{d}/cpu.stat", "usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\nnr_periods 7\nnr_throttled 2\nthrottled_usec 50\n");
        fs.Seed($"{d}/memory.stat", "anon 8192\nfile 4096\n");
        fs.Seed($"{d}/memory.current", "12288\n");
        fs.Seed($"{d}/memory.peak", "16384\n");
        fs.Seed($"{d}/memory.max", "33554432\n");
        fs.Seed($"{d}/memory.events", "low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n");
        fs.Seed($"{d}/memory.swap.current", "100\n");
        fs.Seed($"{d}/memory.swap.max", "0\n");
        fs.Seed($"{d}/pids.current", "3\n");
        fs.Seed($"{d}/pids.max", "max\n");
        fs.Seed($"{d}/io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n253:1 rbytes=1 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n");
        fs.Seed($"{d}/hugetlb.2MB.current", "4194304\n");
        fs.Seed($"{d}/hugetlb.2MB.events", "max 3\n");

        var stats = manager.GetStats();

        Assert.Equal(3000000UL, stats.Cpu.Usage.Total);
        Assert.Equal(2000000UL, stats.Cpu.Usage.User);
        Assert.Equal(1000000UL, stats.Cpu.Usage.Kernel);
        Assert.Null(stats.Cpu.Usage.PerCpu);
        Assert.Equal(7UL, stats.Cpu.Throttling.Periods);
        Assert.Equal(2UL, stats.Cpu.Throttling.ThrottledPeriods);
        Assert.Equal(50000UL, stats.Cpu.Throttling.ThrottledTime);
        Assert.Equal(4096UL, stats.Memory.Cache);
        Assert.Equal(12288UL, stats.Memory.Usage.Usage);
        Assert.Equal(16384UL, stats.Memory.Usage.Max);
        Assert.Equal(33554432UL, stats.Memory.Usage.Limit);
        Assert.Equal(9UL, stats.Memory.Usage.Failcnt);

        // v1-compatible memory+swap.
        Assert.Equal(12388UL, stats.Memory.Swap.Usage);
        Assert.Equal(33554432UL, stats.Memory.Swap.Limit);
        Assert.Equal(3UL, stats.Pids.Current);
        Assert.Equal(0UL, stats.Pids.Limit);
        Assert.Equal(
            [
                new BlkioEntry { Major = 8, Minor = 0, Op = "Read", Value = 4096 }, new BlkioEntry { Major = 8, Minor = 0, Op = "Write", Value = 8192 },
                new BlkioEntry { Major = 8, Minor = 0, Op = "Discard", Value = 0 }, new BlkioEntry { Major = 253, Minor = 1, Op = "Read", Value = 1 },
                new BlkioEntry { Major = 253, Minor = 1, Op = "Write", Value = 0 }, new BlkioEntry { Major = 253, Minor = 1, Op = "Discard", Value = 0 },
            ],
            stats.Blkio.IoServiceBytesRecursive);
        Assert.Equal(2UL, stats.Blkio.IoServicedRecursive!.Single(e => e.Major == 8 && e.Op == "Write").Value);
        Assert.Equal(4194304UL, stats.Hugetlb["2MB"].Usage);
        Assert.Equal(3UL, stats.Hugetlb["2MB"].Failcnt);
        Assert.Equal(1UL, manager.GetOomKillCount());
    }

    [Fact]
    public void EventJson_Stats_HasRuncFieldNamesAndOmitsZeroes()
    {
        var stats = new CgroupStats();
        stats.Cpu.Usage.Total = 5;
        stats.Memory.Usage.Limit = 10;
        stats.Pids.Current = 2;
        stats.Hugetlb["2MB"] = new HugetlbStats { Usage = 1 };
        stats.Blkio.IoServiceBytesRecursive = [new BlkioEntry { Major = 8, Op = "Read", Value = 3 }];

        using var doc = JsonDocument.Parse(CgroupEvent.Stats("c1", stats).ToJson());
        var root = doc.RootElement;

        Assert.Equal("stats", root.GetProperty("type").GetString());
        Assert.Equal("c1", root.GetProperty("id").GetString());
        var data = root.GetProperty("data");
        Assert.Equal(5UL, data.GetProperty("cpu").GetProperty("usage").GetProperty("total").GetUInt64());
        Assert.Equal(0UL, data.GetProperty("cpu").GetProperty("usage").GetProperty("kernel").GetUInt64());
        Assert.False(data.GetProperty("cpu").GetProperty("usage").TryGetProperty("percpu", out _));
        Assert.Equal("{}", data.GetProperty("cpu").GetProperty("throttling").GetRawText());
        Assert.Equal(10UL, data.GetProperty("memory").GetProperty("usage").GetProperty("limit").GetUInt64());
        Assert.Equal(0UL, data.GetProperty("memory").GetProperty("usage").GetProperty("failcnt").GetUInt64());
        Assert.False(data.GetProperty("memory").GetProperty("usage").TryGetProperty("usage", out _));
        Assert.True(data.GetProperty("memory").TryGetProperty("kernelTCP", out _));
        Assert.Equal(2UL, data.GetProperty("pids").GetProperty("current").GetUInt64());
        Assert.Equal("""{"major":8,"op":"Read","value":3}""", data.GetProperty("blkio").GetProperty("ioServiceBytesRecursive")[0].GetRawText());
        Assert.Equal("""{"usage":1,"failcnt":0}""", data.GetProperty("hugetlb").GetProperty("2MB").GetRawText());
    }

    [Fact]
    public void EventJson_Oom_HasNoData()
    {
        Assert.Equal("""{"type":"oom","id":"c1"}""", CgroupEvent.Oom("c1").ToJson());
    }
}
