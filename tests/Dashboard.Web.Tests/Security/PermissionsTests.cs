using Dashboard.Web.Security;

namespace Dashboard.Web.Tests.Security;

public class PermissionsTests
{
    private static readonly DashboardAction[] s_read = [DashboardAction.ViewContainers, DashboardAction.ViewLogs, DashboardAction.ViewStats, DashboardAction.ViewImages,
        DashboardAction.ViewVolumes, DashboardAction.ViewNetworks, DashboardAction.ViewAlerts];

    private static readonly DashboardAction[] s_operate =
    [
        DashboardAction.StartContainer, DashboardAction.StopContainer, DashboardAction.RestartContainer, DashboardAction.KillContainer,
        DashboardAction.PauseContainer, DashboardAction.UnpauseContainer, DashboardAction.RemoveContainer, DashboardAction.PullImage,
        DashboardAction.RemoveImage, DashboardAction.Exec, DashboardAction.CreateContainer,
        DashboardAction.CreateVolume, DashboardAction.RemoveVolume, DashboardAction.CreateNetwork, DashboardAction.RemoveNetwork,
    ];

    public static TheoryData<string, DashboardAction, bool> Table()
    {
        var data = new TheoryData<string, DashboardAction, bool>();
        foreach (var action in Enum.GetValues<DashboardAction>())
        {
            data.Add(Roles.Admin, action, true);
            data.Add(Roles.Operator, action, s_read.Contains(action) || s_operate.Contains(action));
            data.Add(Roles.Viewer, action, s_read.Contains(action));
            data.Add("", action, false);
            data.Add("admin", action, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Table))]
    public void Allows_RoleAndAction_MatchesTable(string role, DashboardAction action, bool expected)
    {
        var roles = role.Length == 0 ? Array.Empty<string>() : [role];

        Assert.Equal(expected, Permissions.Allows(roles, action));
    }

    [Fact]
    public void UserAccessCan_WithoutUserId_DeniesEverything()
    {
        var access = new UserAccess(null, "ghost", new HashSet<string> { Roles.Admin });

        Assert.All(Enum.GetValues<DashboardAction>(), a => Assert.False(access.Can(a)));
    }
}
