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
    CreateContainer,
    ViewVolumes,
    CreateVolume,
    RemoveVolume,
    PruneVolumes,
    ViewNetworks,
    CreateNetwork,
    RemoveNetwork,
    PruneNetworks,
    ViewAlerts,
    ManageAlerts,
    Backup,
    Restore,
    ManageEngines,

    // Registry credentials and the insecure opt-in (issue 5 §9): not in the role table, so Admin only (default deny).
    ViewRegistries,
    SetRegistry,
    RemoveRegistry,
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
            DashboardAction.ViewVolumes or DashboardAction.ViewNetworks or DashboardAction.ViewAlerts => isViewer,

            // Prune removes everything unused at once, alert rules and backups hold the whole installation: Admin only (the default).
            DashboardAction.CreateVolume or DashboardAction.RemoveVolume or DashboardAction.CreateNetwork or DashboardAction.RemoveNetwork => isOperator,
            DashboardAction.StartContainer or DashboardAction.StopContainer or DashboardAction.RestartContainer or
                DashboardAction.KillContainer or DashboardAction.PauseContainer or DashboardAction.UnpauseContainer or
                DashboardAction.RemoveContainer or DashboardAction.PullImage or DashboardAction.RemoveImage or
                DashboardAction.Exec or DashboardAction.CreateContainer => isOperator,
            _ => false,
        };
    }
}
