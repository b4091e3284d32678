using Bunit;
using Dashboard.Web.Components.Controls;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Engines;
using Dashboard.Web.Model;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Components;

public class ContainerDetailPageTests : DashboardTestContext
{
    public ContainerDetailPageTests()
    {
        Engine.SetDetails(FakeEngineClient.Details("abc123", "api", ContainerState.Running,
            ["PATH=/usr/bin", "DB_PASSWORD=hunter2", "DATABASE_URL=postgres://app:pw@db/app", "GREETING=<b>hi</b>"]));
    }

    [Fact]
    public void Overview_ShowsStatePortsMountsAndMaskedEnv()
    {
        var cut = RenderPage("abc123");

        cut.WaitForAssertion(() => Assert.Equal("api", cut.Find("[data-testid=container-title]").TextContent), Wait);
        Assert.Equal("running", cut.Find("[data-testid=overview-state]").TextContent);
        Assert.Equal("0", cut.Find("[data-testid=overview-exit]").TextContent);
        Assert.Contains("127.0.0.1:8080", cut.Find("[data-testid=ports]").TextContent, StringComparison.Ordinal);
        Assert.Contains("/data", cut.Find("[data-testid=mounts]").TextContent, StringComparison.Ordinal);
        var env = cut.Find("[data-testid=env]").TextContent;
        Assert.DoesNotContain("hunter2", env, StringComparison.Ordinal);
        Assert.DoesNotContain(":pw@", env, StringComparison.Ordinal);
        Assert.Contains(SecretMasking.Mask, env, StringComparison.Ordinal);
        Assert.Contains("/usr/bin", env, StringComparison.Ordinal);
        Assert.Contains("<b>hi</b>", env, StringComparison.Ordinal);
        Assert.Empty(cut.FindAll("[data-testid=env] b"));
    }

    [Fact]
    public void Viewer_SeesNoActionButtons()
    {
        var cut = RenderPage("abc123");

        cut.WaitForAssertion(() => Assert.Equal("api", cut.Find("[data-testid=container-title]").TextContent), Wait);
        Assert.Empty(cut.FindAll("[data-testid^=action-]"));
    }

    [Fact]
    public void Operator_Stop_CallsEngine()
    {
        Access.Roles = [Roles.Operator];
        var cut = RenderPage("abc123");
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-testid=action-stop]")), Wait);

        cut.Click("[data-testid=action-stop]");

        cut.WaitForAssertion(() => Assert.Contains(("stop", "abc123"), Engine.Calls), Wait);
    }

    [Fact]
    public async Task EngineEvent_RefreshesState()
    {
        var cut = RenderPage("abc123");
        cut.WaitForAssertion(() => Assert.Equal("running", cut.Find("[data-testid=overview-state]").TextContent), Wait);

        Engine.SetDetails(FakeEngineClient.Details("abc123", "api", ContainerState.Exited));
        await Engine.PublishAsync(FakeEngineClient.ContainerEvent("abc123", "die"));

        cut.WaitForAssertion(() => Assert.Equal("exited", cut.Find("[data-testid=overview-state]").TextContent), Wait);
    }

    [Fact]
    public void UnknownContainer_ShowsEngineMessage()
    {
        var cut = RenderPage("nope");

        cut.WaitForAssertion(() => Assert.Equal("inspect container nope: no such container", cut.Find("[data-testid=detail-error]").TextContent.Trim()), Wait);
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("*")]
    public void InvalidId_IsRefused(string id)
    {
        var cut = RenderPage(id);

        cut.WaitForAssertion(() => Assert.EndsWith("invalid container id", cut.Find("[data-testid=detail-error]").TextContent.Trim(), StringComparison.Ordinal), Wait);
    }

    [Fact]
    public void NoRole_IsRefused()
    {
        Access.Roles = [];

        var cut = RenderPage("abc123");

        cut.WaitForAssertion(() => Assert.EndsWith("permission denied", cut.Find("[data-testid=detail-error]").TextContent.Trim(), StringComparison.Ordinal), Wait);
        Assert.Empty(cut.FindAll("[data-testid=overview]"));
    }

    [Fact]
    public async Task LogsTab_StreamsLines()
    {
        var cut = RenderPage("abc123", tab: "logs");
        await Engine.LogWriter("abc123").WriteAsync([new LogLine(null, LogStream.Stdout, "booted")], Xunit.TestContext.Current.CancellationToken);

        cut.WaitForAssertion(() => Assert.Equal("booted", cut.Find("[data-testid=log-line]").TextContent), Wait);
        Assert.Equal(1000, Assert.Single(Engine.LogTails));
    }

    [Fact]
    public void LogsTab_RoleRevokedBeforeOpening_StreamStaysClosed()
    {
        var cut = RenderPage("abc123");
        cut.WaitForAssertion(() => Assert.Equal("api", cut.Find("[data-testid=container-title]").TextContent), Wait);

        Access.Roles = [];
        cut.Dispatch(() => cut.FindAll(".mud-tab").Single(t => t.TextContent.Contains("Logs", StringComparison.Ordinal)), e => e.Click());

        cut.WaitForAssertion(() => Assert.EndsWith("permission denied", cut.Find("[data-testid=log-error]").TextContent.Trim(), StringComparison.Ordinal), Wait);
        Assert.Empty(Engine.LogTails);
    }

    [Fact]
    public async Task StatsTab_RunningContainer_StreamsSamples()
    {
        var cut = RenderPage("abc123");
        cut.WaitForAssertion(() => Assert.Equal("api", cut.Find("[data-testid=container-title]").TextContent), Wait);

        cut.Dispatch(() => cut.FindAll(".mud-tab").Single(t => t.TextContent.Contains("Stats", StringComparison.Ordinal)), e => e.Click());
        await Engine.StatsWriter("abc123").WriteAsync([Logs.StatsTrackerTests.Sample("abc123", 7)], Xunit.TestContext.Current.CancellationToken);

        cut.WaitForAssertion(() => Assert.Equal("7.0 %", cut.Find("[data-testid=stats-cpu]").TextContent), Wait);
    }

    private IRenderedComponent<ContainerDetail> RenderPage(string id, string? tab = null)
    {
        if (tab is not null)
        {
            var nav = Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
            nav.NavigateTo($"/containers/local/{id}?tab={tab}");
        }

        return Render<ContainerDetail>(p => p.Add(c => c.Engine, "local").Add(c => c.Id, id));
    }
}
