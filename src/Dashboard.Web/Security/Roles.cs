namespace Dashboard.Web.Security;

public static class Roles
{
    public const string Admin = "Admin";
    public const string Operator = "Operator";
    public const string Viewer = "Viewer";

    public static IReadOnlyList<string> All { get; } = [Admin, Operator, Viewer];
}

/// <summary>Everything a user can ask the dashboard to do; each is checked on the server, per call.</summary>
public enum DashboardAction
{
    ViewContainers,
    ViewLogs,
    ViewStats,
    StartContainer,
    StopContainer,
    RestartContainer,
    KillContainer,
    PauseContainer,
    UnpauseContainer,
    RemoveContainer,
    ViewImages,
    PullImage,
    RemoveImage,
    ManageUsers,
    ViewAudit,
    Exec,
}

public static class Permissions
{
    /// <summary>
    /// The role table. Viewer is read-only; Operator runs the lifecycle and pulls; Admin does everything.
    /// Unknown actions are denied (default deny, security.md D3).
    /// </summary>
    public static bool Allows(IReadOnlyCollection<string> roles, DashboardAction action)
    {
        ArgumentNullException.ThrowIfNull(roles);
        if (roles.Contains(Roles.Admin))
        {
            return true;
        }

        var isOperator = roles.Contains(Roles.Operator);
        var isViewer = isOperator || roles.Contains(Roles.Viewer);
        return action switch
        {
            DashboardAction.ViewContainers or DashboardAction.ViewLogs or DashboardAction.ViewStats or DashboardAction.ViewImages => isViewer,
            DashboardAction.StartContainer or DashboardAction.StopContainer or DashboardAction.RestartContainer or
                DashboardAction.KillContainer or DashboardAction.PauseContainer or DashboardAction.UnpauseContainer or
                DashboardAction.RemoveContainer or DashboardAction.PullImage or DashboardAction.RemoveImage or
                DashboardAction.Exec => isOperator,
            _ => false,
        };
    }
}
