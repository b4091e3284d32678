using Bunit;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Fakes;
using Microsoft.AspNetCore.Components.Web.Virtualization;

namespace Dashboard.Web.Tests.Components;

public class ContainersPageTests : DashboardTestContext
{
    public ContainersPageTests()
    {
        Engine.SetContainer(FakeEngineClient.Container("aaa111", "web", ContainerState.Running, "nginx:1"));
        Engine.SetContainer(FakeEngineClient.Container("bbb222", "db", ContainerState.Exited, "postgres:16"));
        Engine.SetContainer(FakeEngineClient.Container("ccc333", "cache", ContainerState.Paused, "redis:7"));
    }

    [Fact]
    public void Render_ListsContainersSortedByName()
    {
        var cut = Render<Containers>();

        cut.WaitForAssertion(() => Assert.Equal(["cache", "db", "web"], Names(cut)), Wait);
        Assert.Contains("All (3)", cut.Find("[data-testid=filter-all]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Search_FiltersByNameImageOrId()
    {
        var cut = Render<Containers>();
        cut.WaitForAssertion(() => Assert.Equal(3, Names(cut).Count), Wait);

        cut.Input("input[placeholder^=Search]", "postgres");

        cut.WaitForAssertion(() => Assert.Equal(["db"], Names(cut)), Wait);
    }

    [Fact]
    public void StateFilter_ShowsOnlyThatState()
    {
        var cut = Render<Containers>();
        cut.WaitForAssertion(() => Assert.Equal(3, Names(cut).Count), Wait);

        cut.Click("[data-testid=filter-paused]");

        cut.WaitForAssertion(() => Assert.Equal(["cache"], Names(cut)), Wait);
        cut.Click("[data-testid=filter-all]");
        cut.WaitForAssertion(() => Assert.Equal(3, Names(cut).Count), Wait);
    }

    [Fact]
    public async Task EngineEvents_UpdateRowsWithoutPolling()
    {
        var cut = Render<Containers>();
        cut.WaitForAssertion(() => Assert.Equal(3, Names(cut).Count), Wait);

        Engine.SetContainer(FakeEngineClient.Container("ddd444", "worker", ContainerState.Running));
        Engine.SetContainer(FakeEngineClient.Container("bbb222", "db", ContainerState.Running, "postgres:16"));
        Engine.RemoveContainer("ccc333");
        await Engine.PublishAsync(
            FakeEngineClient.ContainerEvent("ddd444", "create"),
            FakeEngineClient.ContainerEvent("bbb222", "start"),
            FakeEngineClient.ContainerEvent("ccc333", "destroy"));

        cut.WaitForAssertion(() => Assert.Equal(["db", "web", "worker"], Names(cut)), Wait);
        Assert.All(cut.FindAll("[data-testid=state]"), chip => Assert.Equal("running", chip.TextContent.Trim()));
    }

    [Fact]
    public async Task ResyncEvent_ReloadsWholeList()
    {
        var cut = Render<Containers>();
        cut.WaitForAssertion(() => Assert.Equal(3, Names(cut).Count), Wait);

        Engine.SetContainer(FakeEngineClient.Container("eee555", "late", ContainerState.Created));
        await Engine.PublishAsync(EngineEvent.Resync(DateTimeOffset.UtcNow));

        cut.WaitForAssertion(() => Assert.Contains("late", Names(cut)), Wait);
    }

    [Fact]
    public async Task Stats_RunningContainer_ShowsCpuAndMemory()
    {
        var cut = Render<Containers>();
        WaitUntil(() => Engine.OpenStatsStreams.GetValueOrDefault("aaa111") == 1);
        Assert.Equal(0, Engine.OpenStatsStreams.GetValueOrDefault("bbb222"));

        await Engine.StatsWriter("aaa111").WriteAsync([Logs.StatsTrackerTests.Sample("aaa111", 42.3)], Xunit.TestContext.Current.CancellationToken);

        cut.WaitForAssertion(() => Assert.Equal("42.3 %", cut.FindAll("tbody tr")[2].QuerySelector("[data-testid=cpu]")!.TextContent), Wait);
        Assert.Equal("64.0 MiB / 256.0 MiB", cut.FindAll("tbody tr")[2].QuerySelector("[data-testid=memory]")!.TextContent);
        Assert.Equal("", cut.FindAll("tbody tr")[1].QuerySelector("[data-testid=cpu]")!.TextContent);
    }

    [Fact]
    public void Viewer_SeesNoActionButtons()
    {
        Access.Roles = [Roles.Viewer];

        var cut = Render<Containers>();

        cut.WaitForAssertion(() => Assert.Equal(3, Names(cut).Count), Wait);
        Assert.Empty(cut.FindAll("[data-testid^=action-]"));
    }

    [Fact]
    public void Operator_SeesActionsForEachState()
    {
        Access.Roles = [Roles.Operator];

        var cut = Render<Containers>();

        cut.WaitForAssertion(() => Assert.Equal(3, Names(cut).Count), Wait);
        var rows = cut.FindAll("tbody tr");
        Assert.Equal(["action-unpause", "action-stop", "action-kill", "action-remove"], Actions(rows[0]));
        Assert.Equal(["action-start", "action-restart", "action-remove"], Actions(rows[1]));
        Assert.Equal(["action-stop", "action-restart", "action-pause", "action-kill", "action-remove"], Actions(rows[2]));
    }

    [Fact]
    public void Operator_ClickStart_CallsEngineThroughServerCheck()
    {
        Access.Roles = [Roles.Operator];
        var cut = Render<Containers>();
        cut.WaitForAssertion(() => Assert.Equal(3, Names(cut).Count), Wait);

        cut.Dispatch(() => cut.FindAll("tbody tr")[1].QuerySelector("[data-testid=action-start]")!, e => e.Click());

        cut.WaitForAssertion(() => Assert.Contains(("start", "bbb222"), Engine.Calls), Wait);
        cut.WaitForAssertion(() => Assert.Contains(Audit.Recent(10), e => e.Action == "StartContainer" && e.Outcome == AuditOutcome.Succeeded), Wait);
    }

    [Fact]
    public void RoleRevokedAfterRender_ClickIsRefusedByServer()
    {
        Access.Roles = [Roles.Operator];
        var cut = Render<Containers>();
        cut.WaitForAssertion(() => Assert.Equal(3, Names(cut).Count), Wait);

        Access.Roles = [Roles.Viewer];
        cut.Dispatch(() => cut.FindAll("tbody tr")[2].QuerySelector("[data-testid=action-stop]")!, e => e.Click());

        cut.WaitForAssertion(() => Assert.Contains(Audit.Recent(10), e => e.Action == "StopContainer" && e.Outcome == AuditOutcome.Denied), Wait);
        Assert.Empty(Engine.Calls);
    }

    [Fact]
    public void EngineError_IsShownNotThrown()
    {
        Access.Roles = [Roles.Operator];
        Engine.FailActionsWith = new EngineException(EngineErrorKind.Conflict, "stop container aaa111: container is not running");
        var cut = Render<Containers>();
        cut.WaitForAssertion(() => Assert.Equal(3, Names(cut).Count), Wait);

        cut.Dispatch(() => cut.FindAll("tbody tr")[2].QuerySelector("[data-testid=action-stop]")!, e => e.Click());

        cut.WaitForAssertion(() => Assert.Contains(Audit.Recent(10), e => e.Outcome == AuditOutcome.Failed), Wait);
    }

    [Fact]
    public void NoViewRole_ShowsPermissionError()
    {
        Access.Roles = [];

        var cut = Render<Containers>();

        cut.WaitForAssertion(() => Assert.Equal("list containers: permission denied", cut.Find("[data-testid=containers-error]").TextContent.Trim()), Wait);
        Assert.Empty(Names(cut));
    }

    [Fact]
    public void HostileNamesAndImages_AreRenderedAsText()
    {
        Engine.SetContainer(FakeEngineClient.Container("fff666", "<img src=x onerror=alert(1)>", ContainerState.Running, "<script>alert(1)</script>"));

        var cut = Render<Containers>();

        cut.WaitForAssertion(() => Assert.Equal(4, Names(cut).Count), Wait);
        Assert.Empty(cut.FindAll("img"));
        Assert.Empty(cut.FindAll("tbody script"));
        Assert.Contains(Names(cut), n => n == "<img src=x onerror=alert(1)>");
    }

    [Fact]
    public void ManyContainers_AreVirtualized()
    {
        for (var i = 0; i < 1000; i++)
        {
            Engine.SetContainer(FakeEngineClient.Container($"x{i:D4}", $"bulk-{i:D4}", ContainerState.Running));
        }

        var cut = Render<Containers>();

        cut.WaitForAssertion(() => Assert.Contains("All (1003)", cut.Find("[data-testid=filter-all]").TextContent, StringComparison.Ordinal), Wait);
        Assert.NotNull(cut.FindComponent<Virtualize<ContainerSummary>>());
        Assert.True(cut.FindAll("tbody tr").Count < 200);
    }

    private static List<string> Names(IRenderedComponent<Containers> cut) =>
        cut.FindAll("[data-testid=container-name]").Select(e => e.TextContent).ToList();

    private static List<string> Actions(AngleSharp.Dom.IElement row) =>
        row.QuerySelectorAll("[data-testid^=action-]").Select(e => e.GetAttribute("data-testid")!).ToList();
}
