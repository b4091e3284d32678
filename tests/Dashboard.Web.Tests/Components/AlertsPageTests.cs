using Bunit;
using Dashboard.Web.Alerts;
using Dashboard.Web.Components.Controls;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Components;

public class AlertsPageTests : DashboardTestContext
{
    private async Task FireAsync(string message)
    {
        var rule = new AlertRule { Id = 1, Name = "died", Kind = AlertKind.Died };
        await Services.GetRequiredService<AlertService>().PublishAsync([new AlertFired(rule, "local", "c1", "web-1", message, DateTimeOffset.UtcNow)], CancellationToken.None);
    }

    /// <summary>The input element of a MudBlazor field, wherever the test id landed (on the input or a wrapper).</summary>
    internal static AngleSharp.Dom.IElement FieldInput(IRenderedComponent<AlertsPage> cut, string testId)
    {
        var element = cut.Find($"[data-testid={testId}]");
        return element.TagName == "INPUT" ? element : element.QuerySelector("input") ?? throw new InvalidOperationException($"{testId}: no input");
    }

    [Fact]
    public async Task Viewer_SeesAlertsAndRulesButNoEditing()
    {
        await AlertStore.SaveRuleAsync(new AlertRule { Name = "hot", Kind = AlertKind.CpuAbove, Threshold = 80, Minutes = 5 }, CancellationToken.None);
        await FireAsync("container web-1 died (exit code 1)");

        var cut = Render<AlertsPage>();

        cut.WaitForAssertion(() => Assert.Equal("container web-1 died (exit code 1)", cut.Find("[data-testid=alerts-message]").TextContent), Wait);
        Assert.Equal("CPU over 80% for 5 min", cut.Find("[data-testid=rule-condition]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=rule-form]"));
        Assert.Empty(cut.FindAll("[data-testid=rule-delete]"));
        Assert.Empty(cut.FindAll("[data-testid=webhook-form]"));
    }

    [Fact]
    public async Task Viewer_MarkRead_ClearsUnread()
    {
        await FireAsync("a <b>tag</b> in a name");
        var cut = Render<AlertsPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=alerts-mark-read]"), Wait);
        Assert.Empty(cut.FindAll("[data-testid=alerts-message] b"));

        cut.Click("[data-testid=alerts-mark-read]");

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=alerts-mark-read]")), Wait);
        Assert.Equal(0, await AlertStore.UnreadCountAsync(Access.UserId, [], CancellationToken.None));
    }

    [Fact]
    public async Task Admin_AddsRule_ReloadsEvaluatorAndAudits()
    {
        Access.Roles = [Roles.Admin];
        var cut = Render<AlertsPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=rule-form]"), Wait);

        cut.Dispatch(() => FieldInput(cut, "rule-form-name"), e => e.Input("db died"));
        cut.Dispatch(() => FieldInput(cut, "rule-form-filter"), e => e.Input("db"));
        cut.Click("[data-testid=rule-form-add]");

        cut.WaitForAssertion(() => Assert.Equal("db died", cut.Find("[data-testid=rule-name]").TextContent), Wait);
        var rule = Assert.Single(await AlertStore.ListRulesAsync(CancellationToken.None));
        Assert.Equal((AlertKind.Died, "db"), (rule.Kind, rule.ContainerFilter));
        Assert.Single(Services.GetRequiredService<AlertService>().Evaluator.Rules);
        Assert.Contains(Audit.Recent(10), e => e.Action == "ManageAlerts" && e.Target == "alert rule db died");
    }

    [Fact]
    public async Task Admin_InvalidRule_ShowsProblemAndSavesNothing()
    {
        Access.Roles = [Roles.Admin];
        var cut = Render<AlertsPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=rule-form]"), Wait);

        cut.Click("[data-testid=rule-form-add]");

        cut.WaitForAssertion(() => Assert.Equal("alert rule : name must be 1-100 characters", cut.Find("[data-testid=alerts-action-error]").TextContent.Trim()), Wait);
        Assert.Empty(await AlertStore.ListRulesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Admin_DeletesRule()
    {
        Access.Roles = [Roles.Admin];
        await AlertStore.SaveRuleAsync(new AlertRule { Name = "old", Kind = AlertKind.Died }, CancellationToken.None);
        var cut = Render<AlertsPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=rule-delete]"), Wait);

        cut.Click("[data-testid=rule-delete]");

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=rule-name]")), Wait);
        Assert.Empty(await AlertStore.ListRulesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Admin_SavesWebhook_RejectsNonHttp()
    {
        Access.Roles = [Roles.Admin];
        var cut = Render<AlertsPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=webhook-form]"), Wait);

        cut.Dispatch(() => FieldInput(cut, "webhook-url"), e => e.Input("file:///etc/passwd"));
        cut.Click("[data-testid=webhook-save]");
        cut.WaitForAssertion(() => Assert.Contains("expected an http:// or https:// URL", cut.Find("[data-testid=alerts-action-error]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Null(await AlertStore.GetWebhookUrlAsync(CancellationToken.None));

        cut.Dispatch(() => FieldInput(cut, "webhook-url"), e => e.Input("https://hooks.example/a"));
        cut.Click("[data-testid=webhook-save]");
        cut.WaitForAssertion(() => Assert.Equal("https://hooks.example/a", AlertStore.GetWebhookUrlAsync(CancellationToken.None).Result), Wait);
    }

    [Fact]
    public void NoRole_ShowsPermissionError()
    {
        Access.Roles = [];

        var cut = Render<AlertsPage>();

        cut.WaitForAssertion(() => Assert.Equal("read alerts: permission denied", cut.Find("[data-testid=alerts-error]").TextContent.Trim()), Wait);
    }
}

public class NotificationBellTests : DashboardTestContext
{
    private async Task FireAsync(string message)
    {
        var rule = new AlertRule { Id = 1, Name = "died", Kind = AlertKind.Died };
        await Services.GetRequiredService<AlertService>().PublishAsync([new AlertFired(rule, "local", "c1", "web-1", message, DateTimeOffset.UtcNow)], CancellationToken.None);
    }

    [Fact]
    public async Task Bell_ShowsUnreadCountLiveAndListsAlerts()
    {
        await FireAsync("first");
        var cut = Render<NotificationBell>();
        cut.WaitForAssertion(() => Assert.Equal("alerts, 1 unread", cut.Find("[data-testid=alert-bell]").GetAttribute("aria-label")), Wait);

        await FireAsync("second");

        cut.WaitForAssertion(() => Assert.Equal("alerts, 2 unread", cut.Find("[data-testid=alert-bell]").GetAttribute("aria-label")), Wait);
        cut.Click("[data-testid=alert-bell]");
        cut.WaitForAssertion(() => Assert.Equal(["second", "first"], cut.FindAll("[data-testid=alert-message]").Select(m => m.TextContent)), Wait);
    }

    [Fact]
    public async Task Bell_MarkAllRead_ZeroesCount()
    {
        await FireAsync("first");
        await FireAsync("second");
        var cut = Render<NotificationBell>();
        cut.WaitForElement("[data-testid=alert-bell]", Wait);
        cut.Click("[data-testid=alert-bell]");

        cut.WaitForElement("[data-testid=alert-mark-all]", Wait);
        cut.Click("[data-testid=alert-mark-all]");

        cut.WaitForAssertion(() => Assert.Equal("alerts, 0 unread", cut.Find("[data-testid=alert-bell]").GetAttribute("aria-label")), Wait);
        Assert.Equal(0, await AlertStore.UnreadCountAsync(Access.UserId, [], CancellationToken.None));
    }

    [Fact]
    public async Task Bell_MarkAllRead_OnlyForThatUser()
    {
        await FireAsync("first");
        await FireAsync("second");
        var alice = Render<NotificationBell>();
        alice.WaitForElement("[data-testid=alert-bell]", Wait);
        alice.Click("[data-testid=alert-bell]");
        alice.WaitForElement("[data-testid=alert-mark-all]", Wait);
        alice.Click("[data-testid=alert-mark-all]");
        alice.WaitForAssertion(() => Assert.Equal("alerts, 0 unread", alice.Find("[data-testid=alert-bell]").GetAttribute("aria-label")), Wait);

        Access.UserId = "user-2";
        var bob = Render<NotificationBell>();

        bob.WaitForAssertion(() => Assert.Equal("alerts, 2 unread", bob.Find("[data-testid=alert-bell]").GetAttribute("aria-label")), Wait);
        Assert.Equal(0, await AlertStore.UnreadCountAsync("user-1", [], CancellationToken.None));
        bob.Click("[data-testid=alert-bell]");
        bob.WaitForAssertion(() => Assert.Equal(2, bob.FindAll("[data-testid=alert-mark-read]").Count), Wait);
    }

    [Fact]
    public async Task Bell_MarkOneRead_OtherUsersStillUnread()
    {
        await FireAsync("only");
        var cut = Render<NotificationBell>();
        cut.WaitForElement("[data-testid=alert-bell]", Wait);
        cut.Click("[data-testid=alert-bell]");

        cut.WaitForElement("[data-testid=alert-mark-read]", Wait);

        cut.Click("[data-testid=alert-mark-read]");

        cut.WaitForAssertion(() => Assert.Equal("alerts, 0 unread", cut.Find("[data-testid=alert-bell]").GetAttribute("aria-label")), Wait);
        Assert.Equal(1, await AlertStore.UnreadCountAsync("user-2", [], CancellationToken.None));
    }

    [Fact]
    public async Task Bell_EngineWithNoRoleForUser_ItsAlertsHiddenAndNotCounted()
    {
        var rule = new AlertRule { Id = 1, Name = "died", Kind = AlertKind.Died };
        await Services.GetRequiredService<AlertService>().PublishAsync(
            [new AlertFired(rule, "local", "c1", "web-1", "seen", DateTimeOffset.UtcNow), new AlertFired(rule, "secret", "c2", "vault", "container vault died", DateTimeOffset.UtcNow)],
            CancellationToken.None);
        Access.EngineRoles = new(StringComparer.Ordinal) { ["secret"] = "None" };

        var cut = Render<NotificationBell>();

        cut.WaitForAssertion(() => Assert.Equal("alerts, 1 unread", cut.Find("[data-testid=alert-bell]").GetAttribute("aria-label")), Wait);
        cut.Click("[data-testid=alert-bell]");
        cut.WaitForAssertion(() => Assert.Equal(["seen"], cut.FindAll("[data-testid=alert-message]").Select(m => m.TextContent)), Wait);
    }

    [Fact]
    public void Bell_NoRole_IsAbsent()
    {
        Access.Roles = [];

        var cut = Render<NotificationBell>();

        Assert.Empty(cut.FindAll("[data-testid=alert-bell]"));
    }
}
