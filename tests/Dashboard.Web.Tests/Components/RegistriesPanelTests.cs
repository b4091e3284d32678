using System.Security.Claims;
using Bunit;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Components;

/// <summary>The Registries panel of the Images page (issue 5 §9): Admin of the engine only, password write-only, audited.</summary>
public class RegistriesPanelTests : DashboardTestContext
{
    private const string Secret = "s3cret-Pa55word";

    public RegistriesPanelTests()
    {
        Engine.Registries["ghcr.io"] = ("bob", "old-secret", false);
    }

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    [Fact]
    public void Admin_SeesRegistriesWithoutSecrets()
    {
        Access.Roles = [Roles.Admin];
        var cut = Render<Images>();

        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=registry-row]")), Wait);
        Assert.Equal("ghcr.io", cut.Find("[data-testid=registry-name]").TextContent);
        Assert.Equal("bob", cut.Find("[data-testid=registry-username]").TextContent);
        Assert.Equal("yes", cut.Find("[data-testid=registry-secret]").TextContent);
        Assert.Equal("no", cut.Find("[data-testid=registry-insecure]").TextContent);
        Assert.DoesNotContain("old-secret", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void Admin_Save_EngineGetsExactlyThoseValues_PasswordClearedAndNeverRendered()
    {
        Access.Roles = [Roles.Admin];
        var cut = Render<Images>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=registry-form]")), Wait);

        cut.Input("[data-testid=registry-input]", "localhost:5000");
        cut.Input("[data-testid=registry-username-input]", "alice");
        cut.Input("[data-testid=registry-password-input]", Secret);
        cut.Change("[data-testid=registry-insecure-input]", true);
        Assert.NotNull(cut.WaitForElement("[data-testid=registry-insecure-warning]", Wait));
        Assert.DoesNotContain(Secret, cut.Markup, StringComparison.Ordinal);
        cut.Submit("[data-testid=registry-form]");

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=registry-row]").Count), Wait);
        Assert.Equal(("alice", Secret, true), Engine.Registries["localhost:5000"]);
        Assert.Contains(("set-registry", "localhost:5000"), Engine.Calls);
        var password = cut.Find("[data-testid=registry-password-input]");
        Assert.Equal("password", password.GetAttribute("type"));
        Assert.True(string.IsNullOrEmpty(password.GetAttribute("value")));
        Assert.DoesNotContain(Secret, cut.Markup, StringComparison.Ordinal);
        var audit = Assert.Single(Audit.Recent(10), e => e.Action == nameof(DashboardAction.SetRegistry));
        Assert.Equal(AuditOutcome.Succeeded, audit.Outcome);
        Assert.Equal("registry local/localhost:5000", audit.Target);
        Assert.All(Audit.Recent(50), e => Assert.DoesNotContain(Secret, $"{e.Target} {e.Detail}", StringComparison.Ordinal));
    }

    [Fact]
    public void Admin_EditWithoutUsername_KeepsCredentialsAndSetsInsecureOnly()
    {
        Access.Roles = [Roles.Admin];
        var cut = Render<Images>();
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=registry-row]")), Wait);

        cut.Click("[data-testid=registry-edit]");
        cut.WaitForAssertion(() => Assert.Equal("ghcr.io", cut.Find("[data-testid=registry-input]").GetAttribute("value")), Wait);
        Assert.True(string.IsNullOrEmpty(cut.Find("[data-testid=registry-password-input]").GetAttribute("value")));
        cut.Input("[data-testid=registry-username-input]", "");
        cut.Change("[data-testid=registry-insecure-input]", true);
        cut.Submit("[data-testid=registry-form]");

        cut.WaitForAssertion(() => Assert.Equal("yes", cut.Find("[data-testid=registry-insecure]").TextContent), Wait);
        Assert.Equal(("bob", "old-secret", true), Engine.Registries["ghcr.io"]);
    }

    [Fact]
    public void Admin_UsernameWithoutPassword_IsRefusedBeforeEngineAndAudited()
    {
        Access.Roles = [Roles.Admin];
        var cut = Render<Images>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=registry-form]")), Wait);

        cut.Input("[data-testid=registry-input]", "ghcr.io");
        cut.Input("[data-testid=registry-username-input]", "carol");
        cut.Submit("[data-testid=registry-form]");

        cut.WaitForAssertion(() => Assert.Contains("a username needs a password", cut.Find("[data-testid=registries-error]").TextContent, StringComparison.Ordinal), Wait);
        Assert.DoesNotContain(Engine.Calls, c => c.Action == "set-registry");
        Assert.Contains(Audit.Recent(10), e => e.Action == nameof(DashboardAction.SetRegistry) && e.Outcome == AuditOutcome.Failed);
    }

    [Fact]
    public void Admin_Remove_AsksForConfirmationThenRemovesAndAudits()
    {
        Access.Roles = [Roles.Admin];
        var cut = Render<Images>();
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=registry-row]")), Wait);

        cut.Click("[data-testid=registry-remove]");
        cut.WaitForElement("[data-testid=registry-remove-no]", Wait);
        cut.Click("[data-testid=registry-remove-no]");
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=registry-remove-confirm]")), Wait);
        Assert.DoesNotContain(Engine.Calls, c => c.Action == "remove-registry");
        cut.Click("[data-testid=registry-remove]");
        cut.WaitForElement("[data-testid=registry-remove-yes]", Wait);
        cut.Click("[data-testid=registry-remove-yes]");

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=registry-row]")), Wait);
        Assert.Contains(("remove-registry", "ghcr.io"), Engine.Calls);
        Assert.Contains(Audit.Recent(10), e => e.Action == nameof(DashboardAction.RemoveRegistry) && e.Target == "registry local/ghcr.io" && e.Outcome == AuditOutcome.Succeeded);
    }

    [Theory]
    [InlineData(Roles.Viewer)]
    [InlineData(Roles.Operator)]
    public void NonAdmin_DoesNotSeePanel(string role)
    {
        Access.Roles = [role];
        var cut = Render<Images>();

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=images-table]")), Wait);
        Assert.Empty(cut.FindAll("[data-testid=registries-panel]"));
        Assert.DoesNotContain(Engine.Calls, c => c.Action.Contains("registry", StringComparison.Ordinal));
    }

    [Fact]
    public void EngineAdminRole_SeesPanel_EngineOperatorRoleDoesNot()
    {
        Access.Roles = [Roles.Operator];
        Access.EngineRoles["local"] = Roles.Admin;
        var cut = Render<Images>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=registries-panel]")), Wait);

        Access.Roles = [Roles.Viewer];
        Access.EngineRoles["local"] = Roles.Operator;
        var other = Render<Images>();
        other.WaitForAssertion(() => Assert.NotNull(other.Find("[data-testid=images-table]")), Wait);
        Assert.Empty(other.FindAll("[data-testid=registries-panel]"));
    }

    [Theory]
    [InlineData(Roles.Viewer)]
    [InlineData(Roles.Operator)]
    public async Task NonAdmin_DirectCalls_AreRefusedServerSideAndAudited(string role)
    {
        Access.Roles = [role];
        var actions = Services.GetRequiredService<RegistryActions>();
        var user = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "mallory")], "test"));

        await Assert.ThrowsAsync<DashboardForbiddenException>(() => actions.ListAsync(user, "local", Ct));
        await Assert.ThrowsAsync<DashboardForbiddenException>(() => actions.SetAsync(user, "local", "ghcr.io", "mallory", Secret, true, Ct));
        await Assert.ThrowsAsync<DashboardForbiddenException>(() => actions.RemoveAsync(user, "local", "ghcr.io", Ct));

        Assert.Equal(("bob", "old-secret", false), Engine.Registries["ghcr.io"]);
        Assert.Empty(Engine.Calls);
        Assert.Equal(3, Audit.Recent(10).Count(e => e.Outcome == AuditOutcome.Denied && e.Target.Contains("local", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("ghcr.io", true)]
    [InlineData("localhost:5000", true)]
    [InlineData("registry-1.docker.io", true)]
    [InlineData("[::1]:5000", true)]
    [InlineData("", false)]
    [InlineData("ghcr.io/evil", false)]
    [InlineData("-x.io", false)]
    [InlineData("a b", false)]
    [InlineData("../../x", false)]
    public void IsValidName_AcceptsHostAndPortOnly(string registry, bool valid) =>
        Assert.Equal(valid, RegistryActions.IsValidName(registry));
}
