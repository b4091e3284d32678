using Bunit;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Security;

namespace Dashboard.Web.Tests.Components;

public class AuditPageTests : DashboardTestContext
{
    [Fact]
    public async Task Admin_SeesEntriesAndExport()
    {
        Access.Roles = [Roles.Admin];
        await Audit.WriteAsync(new AuditEntry(DateTimeOffset.UnixEpoch, "bob", "StopContainer", "container local/c1", AuditOutcome.Denied, null), CancellationToken.None);
        await Audit.WriteAsync(new AuditEntry(DateTimeOffset.UnixEpoch, "<b>eve</b>", "SignIn", "from 10.0.0.1", AuditOutcome.Failed, "invalid"), CancellationToken.None);

        var cut = Render<Audit>();

        Assert.Equal(["<b>eve</b>", "bob"], cut.FindAll("[data-testid=audit-user]").Select(e => e.TextContent));
        Assert.Empty(cut.FindAll("[data-testid=audit-table] b"));
        Assert.Equal("/audit.csv", cut.Find("[data-testid=audit-export]").GetAttribute("href"));
    }

    [Fact]
    public async Task Filter_NarrowsRows()
    {
        Access.Roles = [Roles.Admin];
        await Audit.WriteAsync(new AuditEntry(DateTimeOffset.UnixEpoch, "bob", "StopContainer", "container local/c1", AuditOutcome.Denied, null), CancellationToken.None);
        await Audit.WriteAsync(new AuditEntry(DateTimeOffset.UnixEpoch, "ann", "PullImage", "image local/x", AuditOutcome.Succeeded, null), CancellationToken.None);
        var cut = Render<Audit>();

        cut.Input("input", "denied");

        cut.WaitForAssertion(() => Assert.Equal(["bob"], cut.FindAll("[data-testid=audit-user]").Select(e => e.TextContent)), Wait);
    }

    [Theory]
    [InlineData(Roles.Operator)]
    [InlineData(Roles.Viewer)]
    public void NonAdmin_IsRefusedAndDenialAudited(string role)
    {
        Access.Roles = [role];

        var cut = Render<Audit>();

        Assert.Equal("read audit log: permission denied", cut.Find("[data-testid=audit-error]").TextContent.Trim());
        Assert.Empty(cut.FindAll("[data-testid=audit-table]"));
        Assert.Contains(Audit.Recent(10), e => e.Action == "ViewAudit" && e.Outcome == AuditOutcome.Denied);
    }
}
