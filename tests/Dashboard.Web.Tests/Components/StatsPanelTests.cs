using Bunit;
using Dashboard.Web.Components.Controls;
using Dashboard.Web.Engines;
using Dashboard.Web.Model;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Logs;

namespace Dashboard.Web.Tests.Components;

public class StatsPanelTests : DashboardTestContext
{
    [Fact]
    public async Task Samples_ShowNumbersAndCharts()
    {
        var cut = Render<StatsPanel>(p => p.Add(c => c.Client, Engine).Add(c => c.ContainerId, "c1"));
        Assert.NotNull(cut.Find("[data-testid=stats-waiting]"));

        await Engine.StatsWriter("c1").WriteAsync([StatsTrackerTests.Sample("c1", 20), StatsTrackerTests.Sample("c1", 50)], Xunit.TestContext.Current.CancellationToken);

        cut.WaitForAssertion(() => Assert.Equal("50.0 %", cut.Find("[data-testid=stats-cpu]").TextContent), Wait);
        Assert.Equal("64.0 MiB / 256.0 MiB", cut.Find("[data-testid=stats-memory]").TextContent);
        Assert.Equal("3", cut.Find("[data-testid=stats-pids]").TextContent);
        var points = cut.Find("[data-testid=stats-cpu-chart] polyline").GetAttribute("points")!;
        Assert.Equal(2, points.Split(' ').Length);
        Assert.EndsWith("600,60", points, StringComparison.Ordinal);
    }

    [Fact]
    public void Authorize_Throws_StreamNeverOpens()
    {
        var cut = Render<StatsPanel>(p => p
            .Add(c => c.Client, Engine)
            .Add(c => c.ContainerId, "c1")
            .Add(c => c.Authorize, _ => throw new DashboardForbiddenException("read stats of container local/c1: permission denied")));

        Assert.Equal("read stats of container local/c1: permission denied", cut.Find("[data-testid=stats-error]").TextContent.Trim());
        Assert.Equal(0, Engine.OpenStatsStreams.GetValueOrDefault("c1"));
    }

    [Fact]
    public void EngineError_IsShown()
    {
        var cut = Render<StatsPanel>(p => p.Add(c => c.Client, Engine).Add(c => c.ContainerId, "c1"));

        Engine.StatsWriter("c1").Complete(new EngineException(EngineErrorKind.NotFound, "stats of container c1: no such container"));

        cut.WaitForAssertion(() => Assert.Equal("stats of container c1: no such container", cut.Find("[data-testid=stats-error]").TextContent.Trim()), Wait);
    }

    [Fact]
    public async Task History_IsBoundedByCapacity()
    {
        await using var vm = new StatsViewModel(Engine, "c2", capacity: 5);
        vm.Start();

        await Engine.StatsWriter("c2").WriteAsync(Enumerable.Range(0, 20).Select(i => StatsTrackerTests.Sample("c2", i)).ToList(), Xunit.TestContext.Current.CancellationToken);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (vm.Latest?.CpuPercent != 19)
        {
            Assert.True(DateTime.UtcNow < deadline);
            await Task.Delay(10, Xunit.TestContext.Current.CancellationToken);
        }

        Assert.Equal(5, vm.Count);
        Assert.Equal(5, vm.Points(s => s.CpuPercent, 100, 10).Split(' ').Length);
    }
}
