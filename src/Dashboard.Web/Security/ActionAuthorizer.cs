using System.Security.Claims;

namespace Dashboard.Web.Security;

/// <summary>
/// The one check every page handler and hub method calls before touching an engine. It reads the user's roles
/// from the store on each call, so a revoked role takes effect on open circuits at once (security.md D5, D7).
/// </summary>
public sealed class ActionAuthorizer(IUserAccessSource access, IAuditLog audit)
{
    /// <param name="engine">The engine the target lives on, when it has one; per-engine roles apply there.</param>
    public async Task<UserAccess> EnsureAsync(ClaimsPrincipal user, DashboardAction action, string target, CancellationToken cancellationToken, string? engine = null)
    {
        var current = await access.GetAsync(user, cancellationToken);
        if (!current.Can(action, engine))
        {
            await audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, current.UserName ?? user.Identity?.Name ?? "anonymous", action.ToString(), target, AuditOutcome.Denied, null), cancellationToken);
            throw new DashboardForbiddenException($"{ActionText(action)} {target}: permission denied");
        }

        return current;
    }

    public static string ActionText(DashboardAction action) => action switch
    {
        DashboardAction.ViewContainers => "list containers",
        DashboardAction.ViewLogs => "read logs of",
        DashboardAction.ViewStats => "read stats of",
        DashboardAction.StartContainer => "start",
        DashboardAction.StopContainer => "stop",
        DashboardAction.RestartContainer => "restart",
        DashboardAction.KillContainer => "kill",
        DashboardAction.PauseContainer => "pause",
        DashboardAction.UnpauseContainer => "unpause",
        DashboardAction.RemoveContainer => "remove",
        DashboardAction.ViewImages => "list images",
        DashboardAction.PullImage => "pull",
        DashboardAction.RemoveImage => "remove image",
        DashboardAction.ManageUsers => "manage users",
        DashboardAction.ViewAudit => "read",
        DashboardAction.Exec => "open a terminal in",
        DashboardAction.CreateContainer => "create",
        DashboardAction.ManageEngines => "manage",
        DashboardAction.ViewRegistries => "list registries of",
        DashboardAction.SetRegistry => "save",
        DashboardAction.RemoveRegistry => "remove",
        _ => action.ToString().ToLowerInvariant(),
    };
}
