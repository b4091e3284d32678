using Bunit;
using Dashboard.Web.Components.Controls;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;

namespace Dashboard.Web.Tests.Components;

public class SmallControlsTests : DashboardTestContext
{
    [Theory]
    [InlineData(ContainerState.Running, "running")]
    [InlineData(ContainerState.Exited, "exited")]
    [InlineData(ContainerState.Paused, "paused")]
    public void ContainerStateChip_State_ShowsLowercaseName(ContainerState state, string text)
    {
        var cut = Render<ContainerStateChip>(p => p.Add(c => c.State, state));

        Assert.Equal(text, cut.Find("[data-testid=state]").TextContent.Trim());
    }

    [Theory]
    [InlineData(Roles.Viewer, 0)]
    [InlineData(Roles.Operator, 5)]
    [InlineData(Roles.Admin, 5)]
    public void ContainerActionButtons_Role_ShowsAllowedActionsOnly(string role, int count)
    {
        var access = new UserAccess("u", "u", new HashSet<string> { role });

        var cut = Render<ContainerActionButtons>(p => p.Add(c => c.State, ContainerState.Running).Add(c => c.Access, access));

        Assert.Equal(count, cut.FindAll("[data-testid^=action-]").Count);
    }

    [Fact]
    public void ContainerActionButtons_Click_RaisesAction()
    {
        var access = new UserAccess("u", "u", new HashSet<string> { Roles.Operator });
        ContainerAction? raised = null;

        var cut = Render<ContainerActionButtons>(p => p
            .Add(c => c.State, ContainerState.Paused)
            .Add(c => c.Access, access)
            .Add(c => c.OnAction, a => raised = a));
        cut.Click("[data-testid=action-unpause]");

        Assert.Equal(ContainerAction.Unpause, raised);
    }

    [Fact]
    public void ContainerActionButtons_Busy_DisablesButtons()
    {
        var access = new UserAccess("u", "u", new HashSet<string> { Roles.Admin });

        var cut = Render<ContainerActionButtons>(p => p.Add(c => c.State, ContainerState.Exited).Add(c => c.Access, access).Add(c => c.Busy, true));

        Assert.All(cut.FindAll("button"), b => Assert.True(b.HasAttribute("disabled")));
    }
}
