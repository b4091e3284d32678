using Bunit;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Engines;
using Dashboard.Web.Hosting;
using Dashboard.Web.Model;
using Dashboard.Web.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Components;

public sealed class OverviewPageTests : DashboardTestContext
{
    private readonly string _proc = Directory.CreateTempSubdirectory("dashboard-web-proc-").FullName;

    public OverviewPageTests()
        : base(services => services.AddOptions<DashboardOptions>().Configure(o => o.DataDir = Path.GetTempPath()))
    {
        File.WriteAllText(Path.Combine(_proc, "stat"), "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n");
        File.WriteAllText(Path.Combine(_proc, "meminfo"), "MemTotal:        8388608 kB\nMemFree:         1000 kB\nMemAvailable:    2097152 kB\n");
        Engine.SetContainer(FakeEngineClient.Container("c1", "web-1", ContainerState.Running));
        Engine.SetContainer(FakeEngineClient.Container("c2", "db-1", ContainerState.Running));
        Engine.SetContainer(FakeEngineClient.Container("c3", "job", ContainerState.Exited));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Directory.Delete(_proc, recursive: true);
    }

    private IRenderedComponent<OverviewPage> RenderPage() =>
        Render<OverviewPage>(p => p.Add(c => c.ProcRoot, _proc).Add(c => c.Refresh, TimeSpan.FromMilliseconds(50)));

    [Fact]
    public void Render_ShowsHostCountsAndEngineInfo()
    {
        var cut = RenderPage();

        cut.WaitForAssertion(() => Assert.Equal("running: 2", cut.Find("[data-testid=count-running]").TextContent.Trim()), Wait);
        Assert.Equal("exited: 1", cut.Find("[data-testid=count-exited]").TextContent.Trim());
        Assert.Equal("6.0 GiB / 8.0 GiB", cut.Find("[data-testid=host-memory-value]").TextContent.Trim());
        Assert.Contains("0.1.0 · Debian GNU/Linux 12 · 4 CPUs · 8.0 GiB · 5 images", cut.Find("[data-testid=engine-info]").TextContent, StringComparison.Ordinal);
        Assert.Contains("/ ", cut.Find("[data-testid=host-disk-value]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void HostCpu_ComputedBetweenTwoReads()
    {
        var cut = RenderPage();
        cut.WaitForAssertion(() => cut.Find("[data-testid=host-cpu-value]"), Wait);

        // 100 more busy jiffies out of 200 more in total: 50 %.
        // Replaced in one rename: the page reads the file every 50 ms and a half-written line would become its baseline.
        var next = Path.Combine(_proc, "stat.next");
        File.WriteAllText(next, "cpu  150 0 150 900 0 0 0 0 0 0\n");
        File.Move(next, Path.Combine(_proc, "stat"), overwrite: true);

        cut.WaitForAssertion(() => Assert.Equal("50.0 %", cut.Find("[data-testid=host-cpu-value]").TextContent.Trim()), Wait);
    }

    [Fact]
    public async Task Live_TopContainersFromStatsAndRecentEvents()
    {
        var cut = RenderPage();
        cut.WaitForAssertion(() => Assert.Equal("running: 2", cut.Find("[data-testid=count-running]").TextContent.Trim()), Wait);
        WaitUntil(() => Engine.OpenStatsStreams.GetValueOrDefault("c1") == 1 && Engine.OpenStatsStreams.GetValueOrDefault("c2") == 1);

        await Engine.StatsWriter("c1").WriteAsync([new ContainerStatsSample("c1", DateTimeOffset.UtcNow, 12.5, 300UL << 20, 1UL << 30, null, null, null)], Xunit.TestContext.Current.CancellationToken);
        await Engine.StatsWriter("c2").WriteAsync([new ContainerStatsSample("c2", DateTimeOffset.UtcNow, 80, 100UL << 20, 1UL << 30, null, null, null)], Xunit.TestContext.Current.CancellationToken);

        // Both lists are published one after the other by the refresh tick: wait for both.
        cut.WaitForAssertion(
            () =>
            {
                Assert.Equal(["db-180.0 %", "web-112.5 %"], cut.FindAll("[data-testid=top-cpu]").Select(e => e.TextContent));
                Assert.Equal(["web-1300.0 MiB", "db-1100.0 MiB"], cut.FindAll("[data-testid=top-memory]").Select(e => e.TextContent));
            },
            Wait);

        Engine.SetContainer(FakeEngineClient.Container("c3", "job", ContainerState.Running));
        await Engine.PublishAsync(new EngineEvent(EngineEventType.Container, "start", "c3", new Dictionary<string, string> { ["name"] = "job" }, DateTimeOffset.UtcNow));

        cut.WaitForAssertion(() => Assert.Equal("running: 3", cut.Find("[data-testid=count-running]").TextContent.Trim()), Wait);
        Assert.Contains("container start job", cut.Find("[data-testid=recent-event]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void EngineDown_IsShownUnhealthyWithItsMessage()
    {
        Engine.FailInfoWith = new EngineException(EngineErrorKind.Unavailable, "engine info: engine local unreachable");

        var cut = RenderPage();

        cut.WaitForAssertion(() => Assert.Equal("engine info: engine local unreachable", cut.Find("[data-testid=engine-error]").TextContent), Wait);
    }

    [Fact]
    public void NoRole_ShowsPermissionError()
    {
        Access.Roles = [];

        var cut = RenderPage();

        cut.WaitForAssertion(() => Assert.Equal("read overview: permission denied", cut.Find("[data-testid=overview-error]").TextContent.Trim()), Wait);
    }
}
