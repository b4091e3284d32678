using System.Text;
using Bunit;
using Dashboard.Web.Components.Controls;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Components;

public class TerminalPanelTests : DashboardTestContext
{
    public TerminalPanelTests()
    {
        Engine.SetDetails(FakeEngineClient.Details("abc123", "api", ContainerState.Running));
        JSInterop.Setup<TerminalPanel.TerminalSize>("dashboardTerminal.open", _ => true)
            .SetResult(new TerminalPanel.TerminalSize { Id = 7, Columns = 100, Rows = 30 });
    }

    [Fact]
    public void Viewer_DetailPage_HasNoTerminalTab()
    {
        var cut = Render<ContainerDetail>(p => p.Add(c => c.Engine, "local").Add(c => c.Id, "abc123"));

        cut.WaitForAssertion(() => Assert.Equal("api", cut.Find("[data-testid=container-title]").TextContent), Wait);
        Assert.DoesNotContain("Terminal", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void Operator_DetailPage_ShowsTerminalTabForRunningContainer()
    {
        Access.Roles = [Roles.Operator];
        var cut = Render<ContainerDetail>(p => p.Add(c => c.Engine, "local").Add(c => c.Id, "abc123"));

        cut.WaitForAssertion(() => Assert.Contains("Terminal", cut.Markup, StringComparison.Ordinal), Wait);
    }

    [Fact]
    public void Operator_DetailPage_NoTerminalTabWhenStopped()
    {
        Access.Roles = [Roles.Operator];
        Engine.SetDetails(FakeEngineClient.Details("abc123", "api", ContainerState.Exited));
        var cut = Render<ContainerDetail>(p => p.Add(c => c.Engine, "local").Add(c => c.Id, "abc123"));

        cut.WaitForAssertion(() => Assert.Equal("api", cut.Find("[data-testid=container-title]").TextContent), Wait);
        Assert.DoesNotContain("Terminal", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_Operator_StartsChosenShellWithTerminalSizeAndAudits()
    {
        Access.Roles = [Roles.Operator];
        var cut = RenderPanel();
        cut.Change("[data-testid=terminal-shell]", "ash");

        cut.Click("[data-testid=terminal-connect]");

        cut.WaitForAssertion(() => Assert.Equal("connected (ash)", cut.Find("[data-testid=terminal-status]").TextContent), Wait);
        var (id, request, _) = Assert.Single(Engine.Execs);
        Assert.Equal("abc123", id);
        Assert.Equal(["ash"], request.Command);
        Assert.Equal((100, 30), (request.Columns, request.Rows));
        var entry = Assert.Single(Audit.Recent(10), e => e.Action == "TerminalStart");
        Assert.Equal(AuditOutcome.Succeeded, entry.Outcome);
        Assert.Equal("container local/abc123", entry.Target);
        Assert.Contains("shell ash", entry.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Output_SplitUtf8Sequence_WrittenToTerminalWhole()
    {
        Access.Roles = [Roles.Operator];
        var cut = RenderPanel();
        var session = Connect(cut);
        var bytes = Encoding.UTF8.GetBytes("héllo\r\n");

        // "é" is two bytes; the first read ends in the middle of it.
        session.Output(bytes[..2]);
        session.Output(bytes[2..]);

        WaitUntil(() => string.Concat(Written()) == "héllo\r\n");
    }

    [Fact]
    public async Task Input_And_Resize_ForwardedToExecSession()
    {
        Access.Roles = [Roles.Operator];
        var cut = RenderPanel();
        var session = Connect(cut);

        await cut.InvokeAsync(() => cut.Instance.OnInput("echo ünï\r"));
        await cut.InvokeAsync(() => cut.Instance.OnResize(120, 40));
        await cut.InvokeAsync(() => cut.Instance.OnResize(100_000, 0));

        Assert.Equal("echo ünï\r", session.InputText);
        Assert.Equal([(120, 40), (ExecActions.MaxColumns, 1)], session.Resizes.ToArray());
    }

    [Fact]
    public void ProcessExit_EndsSessionAndAuditsExitCode()
    {
        Access.Roles = [Roles.Operator];
        var cut = RenderPanel();
        var session = Connect(cut);

        session.Exit(3);

        cut.WaitForAssertion(() => Assert.Equal("session ended (exit code 3)", cut.Find("[data-testid=terminal-status]").TextContent), Wait);
        Assert.True(session.Disposed);
        var end = Assert.Single(Audit.Recent(10), e => e.Action == "TerminalEnd");
        Assert.Contains("exit code 3", end.Detail, StringComparison.Ordinal);
        Assert.NotEmpty(cut.FindAll("[data-testid=terminal-connect]"));
    }

    [Fact]
    public async Task RoleRevokedDuringSession_InputRefusedAndSessionEnded()
    {
        Access.Roles = [Roles.Operator];
        var cut = RenderPanel();
        var session = Connect(cut);

        Access.Roles = [Roles.Viewer];
        await Task.Delay(ExecActions.RecheckInterval + TimeSpan.FromMilliseconds(100), Xunit.TestContext.Current.CancellationToken);
        await cut.InvokeAsync(() => cut.Instance.OnInput("id\r"));

        Assert.Equal("", session.InputText);
        Assert.True(session.Disposed);
        cut.WaitForAssertion(() => Assert.Contains("permission denied", cut.Find("[data-testid=terminal-error]").TextContent, StringComparison.Ordinal), Wait);
        var end = Assert.Single(Audit.Recent(10), e => e.Action == "TerminalEnd");
        Assert.Contains("permission revoked", end.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disconnect_DisposesSessionAndAuditsEnd()
    {
        Access.Roles = [Roles.Operator];
        var cut = RenderPanel();
        Connect(cut);

        await cut.InvokeAsync(() => cut.Find("[data-testid=terminal-disconnect]").ClickAsync(new()));

        Assert.True(Engine.Execs.Single().Session.Disposed);
        Assert.Contains("disconnected by the user", Assert.Single(Audit.Recent(10), e => e.Action == "TerminalEnd").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecActions_Viewer_RefusedBeforeTheEngineIsAsked()
    {
        var exec = Services.GetRequiredService<ExecActions>();
        var user = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity([new(System.Security.Claims.ClaimTypes.Name, "alice")], "test"));

        var e = await Assert.ThrowsAsync<DashboardForbiddenException>(() => exec.StartAsync(user, "local", "abc123", "sh", 80, 24, CancellationToken.None));

        Assert.Contains("permission denied", e.Message, StringComparison.Ordinal);
        Assert.Empty(Engine.Execs);
        Assert.Equal(AuditOutcome.Denied, Assert.Single(Audit.Recent(10)).Outcome);
    }

    [Theory]
    [InlineData("python3")]
    [InlineData("/bin/sh")]
    [InlineData("sh -c id")]
    public async Task ExecActions_ShellOutsideTheList_Refused(string shell)
    {
        Access.Roles = [Roles.Admin];
        var exec = Services.GetRequiredService<ExecActions>();
        var user = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity([new(System.Security.Claims.ClaimTypes.Name, "alice")], "test"));

        await Assert.ThrowsAsync<DashboardForbiddenException>(() => exec.StartAsync(user, "local", "abc123", shell, 80, 24, CancellationToken.None));

        Assert.Empty(Engine.Execs);
    }

    [Fact]
    public async Task ExecActions_InvalidContainerId_Refused()
    {
        Access.Roles = [Roles.Admin];
        var exec = Services.GetRequiredService<ExecActions>();
        var user = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity([new(System.Security.Claims.ClaimTypes.Name, "alice")], "test"));

        await Assert.ThrowsAsync<EngineException>(() => exec.StartAsync(user, "local", "../x", "sh", 80, 24, CancellationToken.None));

        Assert.Empty(Engine.Execs);
    }

    /// <summary>
    /// Connects and waits until the panel holds the session: the engine sees the exec before the panel has stored it,
    /// and input, resize or disconnect sent in between would find no session.
    /// </summary>
    private FakeExecSession Connect(IRenderedComponent<TerminalPanel> cut)
    {
        cut.Click("[data-testid=terminal-connect]");
        cut.WaitForAssertion(() => Assert.Equal("connected (sh)", cut.Find("[data-testid=terminal-status]").TextContent), Wait);
        cut.WaitForElement("[data-testid=terminal-disconnect]", Wait);
        return Assert.Single(Engine.Execs).Session;
    }

    private IRenderedComponent<TerminalPanel> RenderPanel() =>
        Render<TerminalPanel>(p => p.Add(c => c.Engine, "local").Add(c => c.ContainerId, "abc123"));

    /// <summary>What was written to the terminal so far; the pump adds invocations from another thread, so retry a torn read.</summary>
    private List<string> Written()
    {
        while (true)
        {
            try
            {
                return [.. JSInterop.Invocations.Where(i => i.Identifier == "dashboardTerminal.write").Select(i => (string)i.Arguments[1]!)];
            }
            catch (InvalidOperationException)
            {
                Thread.Sleep(1);
            }
        }
    }
}
