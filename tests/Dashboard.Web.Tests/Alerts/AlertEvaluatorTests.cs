using Dashboard.Web.Alerts;
using Dashboard.Web.Engines;

namespace Dashboard.Web.Tests.Alerts;

public class AlertEvaluatorTests
{
    private static readonly DateTimeOffset s_t0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private static EngineEvent Event(string action, string id = "c1", string name = "web-1", DateTimeOffset? time = null, string? exitCode = null)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal) { ["name"] = name };
        if (exitCode is not null)
        {
            attributes["exitCode"] = exitCode;
        }

        return new EngineEvent(EngineEventType.Container, action, id, attributes, time ?? s_t0);
    }

    private static ContainerStatsSample Sample(double? cpu, DateTimeOffset time, ulong? mem = null, ulong? limit = null, string id = "c1") =>
        new(id, time, cpu, mem, limit, null, null, null);

    private static AlertEvaluator With(params AlertRule[] rules)
    {
        var evaluator = new AlertEvaluator(TimeSpan.FromMinutes(1));
        evaluator.SetRules(rules);
        return evaluator;
    }

    [Fact]
    public void Died_DieEvent_FiresWithExitCodeOncePerCooldown()
    {
        var e = With(new AlertRule { Id = 1, Name = "died", Kind = AlertKind.Died });

        var first = e.OnEvent("local", Event("die", exitCode: "137"));
        var again = e.OnEvent("local", Event("die", time: s_t0.AddSeconds(30)));
        var later = e.OnEvent("local", Event("die", time: s_t0.AddSeconds(61)));

        var fired = Assert.Single(first);
        Assert.Equal("container web-1 died (exit code 137)", fired.Message);
        Assert.Equal(("local", "c1", "web-1"), (fired.Engine, fired.ContainerId, fired.ContainerName));
        Assert.Empty(again);
        Assert.Single(later);
    }

    [Fact]
    public void Died_OtherActionsImageEventsAndDisabledRules_DoNotFire()
    {
        var e = With(new AlertRule { Id = 1, Name = "died", Kind = AlertKind.Died }, new AlertRule { Id = 2, Name = "off", Kind = AlertKind.Died, Enabled = false });

        Assert.Empty(e.OnEvent("local", Event("start")));
        Assert.Empty(e.OnEvent("local", new EngineEvent(EngineEventType.Image, "die", "x", new Dictionary<string, string>(), s_t0)));
        Assert.Single(e.OnEvent("local", Event("die")));
    }

    [Fact]
    public void Unhealthy_HealthStatusEvent_Fires()
    {
        var e = With(new AlertRule { Id = 1, Name = "sick", Kind = AlertKind.Unhealthy });

        Assert.Empty(e.OnEvent("local", Event("health_status: healthy")));
        Assert.Equal("container web-1 is unhealthy", Assert.Single(e.OnEvent("local", Event("health_status: unhealthy"))).Message);
    }

    [Fact]
    public void Filters_ContainerNameAndEngine_Apply()
    {
        var e = With(new AlertRule { Id = 1, Name = "db only", Kind = AlertKind.Died, ContainerFilter = "DB", Engine = "prod" });

        Assert.Empty(e.OnEvent("prod", Event("die", name: "web-1")));
        Assert.Empty(e.OnEvent("local", Event("die", name: "db-1")));
        Assert.Single(e.OnEvent("prod", Event("die", name: "db-1")));
    }

    [Fact]
    public void RestartLoop_ThreeStartsWithinWindow_FiresOnceThenNeedsThreeMore()
    {
        var e = With(new AlertRule { Id = 1, Name = "loop", Kind = AlertKind.RestartLoop, Threshold = 3, Minutes = 5 });

        Assert.Empty(e.OnEvent("local", Event("start", time: s_t0)));
        Assert.Empty(e.OnEvent("local", Event("start", time: s_t0.AddMinutes(1))));
        var fired = Assert.Single(e.OnEvent("local", Event("start", time: s_t0.AddMinutes(2))));
        Assert.Equal("container web-1 started 3 times within 5 min (restart loop)", fired.Message);
        Assert.Empty(e.OnEvent("local", Event("start", time: s_t0.AddMinutes(3))));
    }

    [Fact]
    public void RestartLoop_StartsSpreadBeyondWindow_DoNotFire()
    {
        var e = With(new AlertRule { Id = 1, Name = "loop", Kind = AlertKind.RestartLoop, Threshold = 3, Minutes = 5 });

        Assert.Empty(e.OnEvent("local", Event("start", time: s_t0)));
        Assert.Empty(e.OnEvent("local", Event("start", time: s_t0.AddMinutes(4))));
        Assert.Empty(e.OnEvent("local", Event("start", time: s_t0.AddMinutes(10))));
    }

    [Fact]
    public void CpuAbove_OverForNMinutes_FiresOnceAndReArmsAfterDrop()
    {
        var e = With(new AlertRule { Id = 1, Name = "hot", Kind = AlertKind.CpuAbove, Threshold = 80, Minutes = 2 });

        Assert.Empty(e.OnStats("local", "web-1", Sample(95, s_t0)));
        Assert.Empty(e.OnStats("local", "web-1", Sample(90, s_t0.AddMinutes(1))));
        var fired = Assert.Single(e.OnStats("local", "web-1", Sample(85, s_t0.AddMinutes(2))));
        Assert.Equal("container web-1: CPU at 85% (over 80% for 2 min)", fired.Message);
        Assert.Empty(e.OnStats("local", "web-1", Sample(99, s_t0.AddMinutes(3))));

        Assert.Empty(e.OnStats("local", "web-1", Sample(10, s_t0.AddMinutes(4))));
        Assert.Empty(e.OnStats("local", "web-1", Sample(95, s_t0.AddMinutes(5))));
        Assert.Single(e.OnStats("local", "web-1", Sample(95, s_t0.AddMinutes(7))));
    }

    [Fact]
    public void CpuAbove_DipBelowThreshold_RestartsTheClock()
    {
        var e = With(new AlertRule { Id = 1, Name = "hot", Kind = AlertKind.CpuAbove, Threshold = 80, Minutes = 2 });

        Assert.Empty(e.OnStats("local", "web-1", Sample(95, s_t0)));
        Assert.Empty(e.OnStats("local", "web-1", Sample(50, s_t0.AddMinutes(1))));
        Assert.Empty(e.OnStats("local", "web-1", Sample(95, s_t0.AddMinutes(2))));
        Assert.Empty(e.OnStats("local", "web-1", Sample(95, s_t0.AddMinutes(3))));
        Assert.Single(e.OnStats("local", "web-1", Sample(95, s_t0.AddMinutes(4))));
    }

    [Fact]
    public void MemoryAbove_PercentOfLimit_FiresAndIgnoresSamplesWithoutLimit()
    {
        var e = With(new AlertRule { Id = 1, Name = "mem", Kind = AlertKind.MemoryAbove, Threshold = 90, Minutes = 0 });

        Assert.Empty(e.OnStats("local", "web-1", Sample(null, s_t0, mem: 950, limit: 0)));
        Assert.Empty(e.OnStats("local", "web-1", Sample(null, s_t0, mem: 800, limit: 1000)));
        Assert.Equal("container web-1: memory at 95% (over 90% for 0 min)", Assert.Single(e.OnStats("local", "web-1", Sample(null, s_t0, mem: 950, limit: 1000))).Message);
        Assert.True(e.NeedsStats);
    }

    [Fact]
    public void SetRules_RemovedRule_StopsFiringAndNeedsStatsFollows()
    {
        var e = With(new AlertRule { Id = 1, Name = "hot", Kind = AlertKind.CpuAbove, Threshold = 1, Minutes = 0 });
        Assert.True(e.NeedsStats);

        e.SetRules([new AlertRule { Id = 2, Name = "died", Kind = AlertKind.Died }]);

        Assert.False(e.NeedsStats);
        Assert.Empty(e.OnStats("local", "web-1", Sample(99, s_t0)));
    }

    [Theory]
    [InlineData("", AlertKind.Died, 0, 0, "name must be 1-100 characters")]
    [InlineData("x", AlertKind.CpuAbove, 0, 5, "threshold must be a percentage above 0")]
    [InlineData("x", AlertKind.RestartLoop, 1, 5, "a restart loop needs at least 2 starts")]
    [InlineData("x", AlertKind.RestartLoop, 3, 0, "window must be 1-1440 minutes")]
    [InlineData("x", AlertKind.MemoryAbove, 50, 5, null)]
    public void Problem_InvalidRules_AreNamed(string name, AlertKind kind, double threshold, int minutes, string? expected)
    {
        Assert.Equal(expected, new AlertRule { Name = name, Kind = kind, Threshold = threshold, Minutes = minutes }.Problem());
    }
}
