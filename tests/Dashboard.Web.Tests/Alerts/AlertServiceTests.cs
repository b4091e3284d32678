using Dashboard.Web.Alerts;
using Dashboard.Web.Engines;
using Dashboard.Web.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dashboard.Web.Tests.Alerts;

/// <summary>The hosted service end to end with a fake engine: events and stats in, stored notifications and webhook POSTs out.</summary>
public sealed class AlertServiceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task WaitUntilAsync(Func<bool> condition) => Eventually.UntilAsync(condition);

    [Fact]
    public async Task DieEvent_StoresNotificationAnnouncesAndPostsWebhook()
    {
        var engine = new FakeEngineClient();
        var store = new MemoryAlertStore();
        await store.SaveRuleAsync(new AlertRule { Name = "died", Kind = AlertKind.Died }, Ct);
        using var hook = new LocalWebhook();
        await store.SetWebhookUrlAsync(hook.Url.ToString(), Ct);
        var options = Options.Create(new AlertOptions { WebhookRetryDelay = TimeSpan.FromMilliseconds(10) });
        await using var sender = new WebhookSender(options, NullLogger<WebhookSender>.Instance);
        using var service = new AlertService(new EngineRegistry([KeyValuePair.Create("local", (IEngineClient)engine)]), store, sender, options, NullLogger<AlertService>.Instance);
        var announced = 0;
        service.Changed += () =>
        {
            Interlocked.Increment(ref announced);
            return Task.CompletedTask;
        };

        await service.StartAsync(Ct);
        await WaitUntilAsync(() => engine.EventSubscribers == 1);
        await engine.PublishAsync(new EngineEvent(EngineEventType.Container, "die", "c1", new Dictionary<string, string> { ["name"] = "web-1", ["exitCode"] = "1" }, DateTimeOffset.UtcNow));

        await WaitUntilAsync(() => hook.Requests == 1);
        var stored = Assert.Single(await store.RecentAsync("u1", [], 10, Ct));
        Assert.Equal("container web-1 died (exit code 1)", stored.Message);
        Assert.False(stored.Read);
        Assert.True(announced >= 1);
        Assert.Contains("\"containerName\":\"web-1\"", hook.Bodies.Single(), StringComparison.Ordinal);
        await service.StopAsync(Ct);
    }

    [Fact]
    public async Task CpuRule_FollowsStatsOfRunningContainers()
    {
        var engine = new FakeEngineClient();
        engine.SetContainer(FakeEngineClient.Container("c1", "busy", ContainerState.Running));
        engine.SetContainer(FakeEngineClient.Container("c2", "idle", ContainerState.Exited));
        var store = new MemoryAlertStore();
        await store.SaveRuleAsync(new AlertRule { Name = "hot", Kind = AlertKind.CpuAbove, Threshold = 50, Minutes = 0 }, Ct);
        var options = Options.Create(new AlertOptions { StatsScanInterval = TimeSpan.FromMilliseconds(50) });
        await using var sender = new WebhookSender(options, NullLogger<WebhookSender>.Instance);
        using var service = new AlertService(new EngineRegistry([KeyValuePair.Create("local", (IEngineClient)engine)]), store, sender, options, NullLogger<AlertService>.Instance);

        await service.StartAsync(Ct);
        await WaitUntilAsync(() => engine.OpenStatsStreams.GetValueOrDefault("c1") == 1);
        Assert.Equal(0, engine.OpenStatsStreams.GetValueOrDefault("c2"));
        await engine.StatsWriter("c1").WriteAsync([new ContainerStatsSample("c1", DateTimeOffset.UtcNow, 75, null, null, null, null, null)], Ct);

        await WaitUntilAsync(() => store.UnreadCountAsync("u1", [], Ct).Result == 1);
        Assert.Equal("container busy: CPU at 75% (over 50% for 0 min)", (await store.RecentAsync("u1", [], 1, Ct))[0].Message);
        await service.StopAsync(Ct);
        await WaitUntilAsync(() => engine.OpenStatsStreams.GetValueOrDefault("c1") == 0);
    }
}
