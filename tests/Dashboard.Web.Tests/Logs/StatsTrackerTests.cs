using Dashboard.Web.Engines;
using Dashboard.Web.Model;
using Dashboard.Web.Tests.Fakes;

namespace Dashboard.Web.Tests.Logs;

public class StatsTrackerTests
{
    private readonly FakeEngineClient _engine = new();

    [Fact]
    public async Task Track_FollowsAtMostMaxStreams()
    {
        await using var tracker = new StatsTracker(_engine, TimeSpan.FromMilliseconds(20));

        tracker.Track(Enumerable.Range(0, 100).Select(i => $"c{i}"));

        await WaitUntilAsync(() => _engine.OpenStatsStreams.Values.Sum() == StatsTracker.MaxStreams);
        Assert.Equal(StatsTracker.MaxStreams, tracker.StreamCount);
    }

    [Fact]
    public async Task Track_ContainerNoLongerRunning_StopsItsStream()
    {
        await using var tracker = new StatsTracker(_engine, TimeSpan.FromMilliseconds(20));
        tracker.Track(["a", "b"]);
        await WaitUntilAsync(() => _engine.OpenStatsStreams.Values.Sum() == 2);

        tracker.Track(["b"]);

        await WaitUntilAsync(() => _engine.OpenStatsStreams.GetValueOrDefault("a") == 0);
        Assert.Equal(1, _engine.OpenStatsStreams["b"]);
    }

    [Fact]
    public async Task Latest_NewSample_IsKeptAndAnnouncedOnce()
    {
        await using var tracker = new StatsTracker(_engine, TimeSpan.FromMilliseconds(50));
        var changes = 0;
        tracker.Changed += () =>
        {
            Interlocked.Increment(ref changes);
            return Task.CompletedTask;
        };
        tracker.Track(["a"]);
        await WaitUntilAsync(() => _engine.OpenStatsStreams.GetValueOrDefault("a") == 1);

        await _engine.StatsWriter("a").WriteAsync([Sample("a", 10), Sample("a", 12.5)], TestContext.Current.CancellationToken);

        await WaitUntilAsync(() => tracker.Latest("a")?.CpuPercent == 12.5 && Volatile.Read(ref changes) == 1);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.Equal(1, Volatile.Read(ref changes));
    }

    [Fact]
    public async Task Dispose_ClosesEveryStream()
    {
        var tracker = new StatsTracker(_engine, TimeSpan.FromMilliseconds(20));
        tracker.Track(["a", "b", "c"]);
        await WaitUntilAsync(() => _engine.OpenStatsStreams.Values.Sum() == 3);

        await tracker.DisposeAsync();

        Assert.Equal(0, _engine.OpenStatsStreams.Values.Sum());
    }

    public static ContainerStatsSample Sample(string id, double cpu) =>
        new(id, DateTimeOffset.UtcNow, cpu, 64 * 1024 * 1024, 256 * 1024 * 1024, 1, 2, 3);

    private static Task WaitUntilAsync(Func<bool> condition) => Eventually.UntilAsync(condition);
}
