using System.Security.Claims;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Web.Identity;

public sealed record UserRow(string Id, string UserName, string Role, bool LockedOut);

/// <summary>A user-administration request the store refused (weak password, duplicate name, last admin).</summary>
public sealed class UserAdministrationException(string message) : Exception(message);

/// <summary>
/// Users and their single role. Every call checks <see cref="DashboardAction.ManageUsers"/> against the store first; a
/// role change applies to open sessions at once because roles are read from the store on every action (D5).
/// </summary>
public sealed class UserAdministration(UserManager<WebUser> users, ActionAuthorizer authorizer, IAuditLog audit, SessionNotifier sessions)
{
    public async Task<IReadOnlyList<UserRow>> ListAsync(ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        await authorizer.EnsureAsync(actor, DashboardAction.ManageUsers, "users", cancellationToken);
        var all = await users.Users.OrderBy(u => u.UserName).ToListAsync(cancellationToken);
        var rows = new List<UserRow>(all.Count);
        foreach (var user in all)
        {
            var roles = await users.GetRolesAsync(user);
            rows.Add(new UserRow(user.Id, user.UserName ?? "", HighestRole(roles), await users.IsLockedOutAsync(user)));
        }

        return rows;
    }

    public async Task CreateAsync(ClaimsPrincipal actor, string userName, string password, string role, CancellationToken cancellationToken)
    {
        var name = (userName ?? "").Trim();
        var who = await authorizer.EnsureAsync(actor, DashboardAction.ManageUsers, $"user {name}", cancellationToken);
        ValidateRole(role);
        var user = new WebUser { UserName = name };
        Check(await users.CreateAsync(user, password ?? ""), $"create user {name}");
        var added = await users.AddToRoleAsync(user, role);
        if (!added.Succeeded)
        {
            await users.DeleteAsync(user);
            Check(added, $"create user {name}");
        }

        await AuditAsync(who, "CreateUser", name, role, cancellationToken);
    }

    public async Task SetRoleAsync(ClaimsPrincipal actor, string userId, string role, CancellationToken cancellationToken)
    {
        var who = await authorizer.EnsureAsync(actor, DashboardAction.ManageUsers, $"user {userId}", cancellationToken);
        ValidateRole(role);
        var user = await users.FindByIdAsync(userId) ?? throw new UserAdministrationException($"user {userId}: not found");
        var current = await users.GetRolesAsync(user);
        if (current.Contains(Roles.Admin) && role != Roles.Admin)
        {
            await EnsureAnotherAdminAsync(user, $"change role of {user.UserName}");
        }

        Check(await users.RemoveFromRolesAsync(user, current), $"change role of {user.UserName}");
        Check(await users.AddToRoleAsync(user, role), $"change role of {user.UserName}");
        await AuditAsync(who, "SetRole", user.UserName ?? userId, role, cancellationToken);
        await sessions.NotifyAsync(user.Id);
    }

    public async Task DeleteAsync(ClaimsPrincipal actor, string userId, CancellationToken cancellationToken)
    {
        var who = await authorizer.EnsureAsync(actor, DashboardAction.ManageUsers, $"user {userId}", cancellationToken);
        var user = await users.FindByIdAsync(userId) ?? throw new UserAdministrationException($"user {userId}: not found");
        if (await users.IsInRoleAsync(user, Roles.Admin))
        {
            await EnsureAnotherAdminAsync(user, $"delete user {user.UserName}");
        }

        Check(await users.DeleteAsync(user), $"delete user {user.UserName}");
        await AuditAsync(who, "DeleteUser", user.UserName ?? userId, null, cancellationToken);
        await sessions.NotifyAsync(user.Id);
    }

    /// <summary>Admin outranks Operator outranks Viewer; a user with no role shows as none.</summary>
    public static string HighestRole(IEnumerable<string> roles)
    {
        var set = roles.ToHashSet(StringComparer.Ordinal);
        return Roles.All.FirstOrDefault(set.Contains) ?? "none";
    }

    private async Task EnsureAnotherAdminAsync(WebUser user, string what)
    {
        var admins = await users.GetUsersInRoleAsync(Roles.Admin);
        if (!admins.Any(a => a.Id != user.Id))
        {
            throw new UserAdministrationException($"{what}: the last admin cannot lose the Admin role");
        }
    }

    private static void ValidateRole(string role)
    {
        if (!Roles.All.Contains(role))
        {
            throw new UserAdministrationException($"role {role}: unknown");
        }
    }

    private static void Check(IdentityResult result, string what)
    {
        if (!result.Succeeded)
        {
            throw new UserAdministrationException($"{what}: {string.Join(" ", result.Errors.Select(e => e.Description))}");
        }
    }

    private Task AuditAsync(UserAccess who, string action, string target, string? detail, CancellationToken cancellationToken) =>
        audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, who.UserName ?? "", action, $"user {target}", AuditOutcome.Succeeded, detail), cancellationToken);
}
