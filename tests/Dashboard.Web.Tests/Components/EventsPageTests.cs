using Bunit;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Engines;
using Dashboard.Web.Tests.Fakes;

namespace Dashboard.Web.Tests.Components;

public class EventsPageTests : DashboardTestContext
{
    [Fact]
    public async Task LiveEvents_AppearNewestFirst()
    {
        var cut = Render<Events>();
        WaitUntil(() => Engine.EventSubscribers == 1);

        await Engine.PublishAsync(FakeEngineClient.ContainerEvent("aaaa1111bbbb2222cccc", "start"));
        await Engine.PublishAsync(new EngineEvent(EngineEventType.Image, "pull", "busybox:latest", new Dictionary<string, string>(), DateTimeOffset.UtcNow));

        cut.WaitForAssertion(() => Assert.Equal(["pull", "start"], cut.FindAll("[data-testid=event-action]").Select(e => e.TextContent)), Wait);
        Assert.Equal(["busybox:latest", "aaaa1111bbbb"], cut.FindAll("[data-testid=event-object]").Select(e => e.TextContent));
    }

    [Fact]
    public async Task TypeFilter_ShowsOnlyThatType()
    {
        var cut = Render<Events>();
        WaitUntil(() => Engine.EventSubscribers == 1);
        await Engine.PublishAsync(
            FakeEngineClient.ContainerEvent("c1", "die"),
            new EngineEvent(EngineEventType.Image, "delete", "sha256:x", new Dictionary<string, string>(), DateTimeOffset.UtcNow));
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=event-action]").Count), Wait);

        cut.Click("[data-testid=events-image]");

        cut.WaitForAssertion(() => Assert.Equal(["delete"], cut.FindAll("[data-testid=event-action]").Select(e => e.TextContent)), Wait);
    }

    [Fact]
    public async Task HostileAttributes_AreText()
    {
        var cut = Render<Events>();
        WaitUntil(() => Engine.EventSubscribers == 1);

        await Engine.PublishAsync(new EngineEvent(EngineEventType.Container, "<b>x</b>", "c1", new Dictionary<string, string> { ["name"] = "<img src=x onerror=alert(1)>" }, DateTimeOffset.UtcNow));

        cut.WaitForAssertion(() => Assert.Equal("<img src=x onerror=alert(1)> (c1)", cut.Find("[data-testid=event-object]").TextContent), Wait);
        Assert.Empty(cut.FindAll("[data-testid=events-table] img, [data-testid=events-table] b"));
    }

    [Fact]
    public void NoRole_IsRefusedAndDoesNotSubscribe()
    {
        Access.Roles = [];

        var cut = Render<Events>();

        Assert.Equal("read events: permission denied", cut.Find("[data-testid=events-error]").TextContent.Trim());
        Assert.Equal(0, Engine.EventSubscribers);
    }

    [Fact]
    public async Task Buffer_IsBounded()
    {
        await using var vm = new Dashboard.Web.Model.EventsViewModel(Services.GetService<IEngineRegistry>()!, Access, capacity: 3);
        await vm.InitializeAsync(new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Name, "alice")], "test")), null, CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Engine.EventSubscribers == 0)
        {
            Assert.True(DateTime.UtcNow < deadline);
            await Task.Delay(10, Xunit.TestContext.Current.CancellationToken);
        }

        await Engine.PublishAsync(Enumerable.Range(0, 10).Select(i => FakeEngineClient.ContainerEvent($"c{i}", "start")).ToArray());

        while (vm.Events.Count == 0 || vm.Events[0].ActorId != "c9")
        {
            Assert.True(DateTime.UtcNow < deadline);
            await Task.Delay(10, Xunit.TestContext.Current.CancellationToken);
        }

        Assert.Equal(["c9", "c8", "c7"], vm.Events.Select(e => e.ActorId));
    }
}
