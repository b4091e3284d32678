using System.Security.Claims;

namespace Dashboard.Web.Security;

/// <summary>A user's roles as stored now, not as captured in the cookie or circuit (security.md D5 role revocation).</summary>
public sealed record UserAccess(string? UserId, string? UserName, IReadOnlySet<string> Roles)
{
    public static UserAccess None { get; } = new(null, null, new HashSet<string>());

    public bool Can(DashboardAction action) => UserId is not null && Permissions.Allows(Roles, action);
}

public interface IUserAccessSource
{
    Task<UserAccess> GetAsync(ClaimsPrincipal user, CancellationToken cancellationToken);
}
