using Bunit;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Components;
using Dashboard.Web.Tests.Fakes;

namespace Dashboard.Web.Tests.Security;

/// <summary>The containers page follows a role change pushed to its circuit without a reload (D5).</summary>
public sealed class RoleChangePageTests : DashboardTestContext
{
    public RoleChangePageTests()
    {
        Engine.SetContainer(FakeEngineClient.Container("run111", "web", ContainerState.Running));
    }

    [Fact]
    public void RoleRevoked_CircuitNotified_PageLosesItsButtons()
    {
        Access.Roles = [Roles.Operator];
        Auth.SetRoles(Roles.Operator);
        var cut = Render<Containers>();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-testid=action-stop]")), Wait);

        Access.Roles = [Roles.Viewer];
        Auth.SetRoles(Roles.Viewer);

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid^=action-]")), Wait);
        Assert.Single(cut.FindAll("[data-testid=container-name]"));
    }

    [Fact]
    public void AllRolesRevoked_CircuitNotified_ListGoesAway()
    {
        Access.Roles = [Roles.Viewer];
        var cut = Render<Containers>();
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=container-name]")), Wait);

        Access.Roles = [];
        Auth.SetRoles();

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=container-name]")), Wait);
        Assert.Contains("permission denied", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void RoleGranted_CircuitNotified_ButtonsAppear()
    {
        Access.Roles = [Roles.Viewer];
        var cut = Render<Containers>();
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=container-name]")), Wait);
        Assert.Empty(cut.FindAll("[data-testid^=action-]"));

        Access.Roles = [Roles.Operator];
        Auth.SetRoles(Roles.Operator);

        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-testid=action-stop]")), Wait);
    }
}
