using Dashboard.Engine.Stats;
using Dashboard.Engine.Store;

namespace Dashboard.Engine.Tests.Stats;

public sealed class RollupTests
{
    private static readonly DateTimeOffset s_t0 = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000); // a multiple of 900

    private static RawSample Sample(int second, ulong cpu, ulong memory, ulong pids = 1, ulong netRx = 0) => new()
    {
        Time = s_t0.AddSeconds(second),
        CpuTotalNanos = cpu,
        MemoryUsage = memory,
        MemoryLimit = 1000,
        MemoryCache = memory / 2,
        Pids = pids,
        Networks = [new NetInterface("eth0", netRx, 0, 0, 0, 0, 0, 0, 0)],
    };

    [Fact]
    public void Bucket_TenSecondsOfSamples_CountersAreDeltasGaugesAreAverages()
    {
        var bucket = new Rollup.Bucket(10);
        RawSample? previous = null;
        for (var s = 0; s < 10; s++)
        {
            var current = Sample(s, cpu: (ulong)s * 100_000_000, memory: (ulong)(s + 1) * 10, pids: (ulong)(s % 2 == 0 ? 2 : 3), netRx: (ulong)s * 5);
            Assert.Null(bucket.Add("c", previous, current));
            previous = current;
        }

        var done = bucket.Add("c", previous, Sample(10, cpu: 1_000_000_000, memory: 999));
        Assert.NotNull(done);
        Assert.Equal(s_t0.ToUnixTimeSeconds(), done.TimeSeconds);
        Assert.Equal(10, done.Resolution);
        Assert.Equal(900_000_000, done.CpuUsageNanos); // 9 deltas of 0.1 s inside the bucket
        Assert.Equal(55, done.MemoryUsage); // mean of 10..100
        Assert.Equal(27, done.MemoryCache);
        Assert.Equal(2, done.Pids); // mean 2.5 rounds to even
        Assert.Equal(45, done.NetRx);
        Assert.Equal(1000, done.MemoryLimit);
        Assert.Equal(9.0, Rollup.CpuPercent(done), 3); // 0.9 s of CPU in 10 s
    }

    [Fact]
    public void Bucket_CounterWentBack_CountsFromZero()
    {
        Assert.Equal(5UL, Rollup.Delta(10, 15));
        Assert.Equal(3UL, Rollup.Delta(10, 3));
        var bucket = new Rollup.Bucket(10);
        var a = Sample(0, 500, 1);
        bucket.Add("c", null, a);
        var b = Sample(1, 200, 1);
        bucket.Add("c", a, b);
        Assert.Equal(200, bucket.Flush("c")!.CpuUsageNanos);
    }

    [Fact]
    public void Merge_TenSecondPointsIntoMinutes_SumsCountersAveragesGauges()
    {
        var points = Enumerable.Range(0, 12).Select(i => new StatsSample("c", 10, s_t0.ToUnixTimeSeconds() + (i * 10), 1_000, 10, 100 + i, 5000 + i, 50, 2, 7, 8, 9, 10)).ToList();
        var merged = Rollup.Merge(points, 60);
        Assert.Equal(2, merged.Count);
        Assert.Equal(60, merged[0].Resolution);
        Assert.Equal(6_000, merged[0].CpuUsageNanos);
        Assert.Equal(102, merged[0].MemoryUsage); // mean of 100..105 = 102.5, truncated
        Assert.Equal(5005, merged[0].MemoryLimit); // last
        Assert.Equal(48, merged[0].BlockWrite);
        Assert.Equal(s_t0.ToUnixTimeSeconds() + 60, merged[1].TimeSeconds);
        Assert.Same(points, Rollup.Merge(points, 10));
    }

    [Fact]
    public void ChooseResolution_RangeAndStep_PicksCoveringTier()
    {
        var now = s_t0;
        Assert.Equal(10, Rollup.ChooseResolution(now.AddHours(-1), now, 10));
        Assert.Equal(10, Rollup.ChooseResolution(now.AddHours(-1), now, 30));
        Assert.Equal(60, Rollup.ChooseResolution(now.AddHours(-1), now, 120));
        Assert.Equal(60, Rollup.ChooseResolution(now.AddDays(-2), now, 10)); // 10 s points are kept 24 h only
        Assert.Equal(900, Rollup.ChooseResolution(now.AddDays(-30), now, 60));
        Assert.Equal(900, Rollup.ChooseResolution(now.AddDays(-200), now, 60));
    }
}
