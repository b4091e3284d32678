using System.Security.Claims;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Web.Identity;

public sealed record EngineRoleRow(string UserId, string UserName, string Engine, string Role);

/// <summary>
/// Per-engine roles (Admin only): a user may be Operator on one engine and Viewer or nothing on another. The role
/// <see cref="NoRole"/> removes all access to that engine. Changes reach open sessions at once.
/// </summary>
public sealed class EngineRoleAdministration(
    WebDbContext db,
    UserManager<WebUser> users,
    IEngineRegistry engines,
    ActionAuthorizer authorizer,
    IAuditLog audit,
    SessionNotifier sessions)
{
    public const string NoRole = "None";

    public static IReadOnlyList<string> Choices { get; } = [Roles.Operator, Roles.Viewer, NoRole];

    public async Task<IReadOnlyList<EngineRoleRow>> ListAsync(ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        await authorizer.EnsureAsync(actor, DashboardAction.ManageUsers, "engine roles", cancellationToken);
        var rows = await (from a in db.EngineRoleAssignments.AsNoTracking()
                          join u in db.Users.AsNoTracking() on a.UserId equals u.Id
                          select new EngineRoleRow(a.UserId, u.UserName ?? "", a.Engine, a.Role)).ToListAsync(cancellationToken);
        return rows.OrderBy(r => r.UserName, StringComparer.Ordinal).ThenBy(r => r.Engine, StringComparer.Ordinal).ToList();
    }

    /// <summary>Sets <paramref name="role"/> for the user on <paramref name="engine"/>; null removes the assignment.</summary>
    public async Task SetAsync(ClaimsPrincipal actor, string userId, string engine, string? role, CancellationToken cancellationToken)
    {
        var who = await authorizer.EnsureAsync(actor, DashboardAction.ManageUsers, $"engine role of {userId} on {engine}", cancellationToken);
        if (!engines.Names.Contains(engine))
        {
            throw new UserAdministrationException($"engine {engine}: not configured");
        }

        if (role is not null && !Choices.Contains(role))
        {
            throw new UserAdministrationException($"role {role}: expected {string.Join(", ", Choices)}");
        }

        var user = await users.FindByIdAsync(userId) ?? throw new UserAdministrationException($"user {userId}: not found");
        var existing = await db.EngineRoleAssignments.FirstOrDefaultAsync(a => a.UserId == userId && a.Engine == engine, cancellationToken);
        if (role is null)
        {
            if (existing is not null)
            {
                db.EngineRoleAssignments.Remove(existing);
            }
        }
        else if (existing is null)
        {
            db.EngineRoleAssignments.Add(new EngineRoleAssignment { UserId = userId, Engine = engine, Role = role });
        }
        else
        {
            existing.Role = role;
        }

        await db.SaveChangesAsync(cancellationToken);
        await audit.WriteAsync(
            new AuditEntry(DateTimeOffset.UtcNow, who.UserName ?? "", "SetEngineRole", $"user {user.UserName} on engine {engine}", AuditOutcome.Succeeded, role ?? "(global role)"),
            CancellationToken.None);
        await sessions.NotifyAsync(userId);
    }
}
