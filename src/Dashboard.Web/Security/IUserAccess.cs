using System.Security.Claims;

namespace Dashboard.Web.Security;

/// <summary>A user's roles as stored now, not as captured in the cookie or circuit (security.md D5 role revocation).</summary>
public sealed record UserAccess(string? UserId, string? UserName, IReadOnlySet<string> Roles)
{
    public static UserAccess None { get; } = new(null, null, new HashSet<string>());

    /// <summary>Per-engine roles (engine name to role, or <c>None</c>); they replace the global role on that engine.</summary>
    public IReadOnlyDictionary<string, string> EngineRoles { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public bool Can(DashboardAction action) => UserId is not null && Permissions.Allows(Roles, action);

    /// <summary>This access as it applies on <paramref name="engine"/>: the engine's role replaces the global one.</summary>
    public UserAccess ForEngine(string? engine)
    {
        if (engine is null || Roles.Contains(Security.Roles.Admin) || !EngineRoles.TryGetValue(engine, out var role))
        {
            return this;
        }

        return this with { Roles = Security.Roles.All.Contains(role) ? new HashSet<string>([role], StringComparer.Ordinal) : new HashSet<string>() };
    }

    /// <summary>
    /// <paramref name="action"/> on <paramref name="engine"/>: a global Admin may do everything everywhere; otherwise an
    /// assignment for the engine replaces the global role there (security.md D7 cross-object access).
    /// </summary>
    public bool Can(DashboardAction action, string? engine)
    {
        if (UserId is null)
        {
            return false;
        }

        if (engine is null || Roles.Contains(Security.Roles.Admin) || !EngineRoles.TryGetValue(engine, out var role))
        {
            return Permissions.Allows(Roles, action);
        }

        return Permissions.Allows(Security.Roles.All.Contains(role) ? [role] : [], action);
    }
}

public interface IUserAccessSource
{
    Task<UserAccess> GetAsync(ClaimsPrincipal user, CancellationToken cancellationToken);
}
