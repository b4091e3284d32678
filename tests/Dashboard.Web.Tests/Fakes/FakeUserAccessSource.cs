using System.Security.Claims;
using Dashboard.Web.Security;

namespace Dashboard.Web.Tests.Fakes;

/// <summary>Roles as the store holds them now; tests change <see cref="Roles"/> to model a revocation.</summary>
public sealed class FakeUserAccessSource(params string[] roles) : IUserAccessSource
{
    public string[] Roles { get; set; } = roles;

    /// <summary>The signed-in user's id; tests switch it to act as another user (per-user state such as read alerts).</summary>
    public string UserId { get; set; } = "user-1";

    /// <summary>Per-engine roles (engine to role or <c>None</c>), as the Users page stores them.</summary>
    public Dictionary<string, string> EngineRoles { get; set; } = new(StringComparer.Ordinal);

    public Task<UserAccess> GetAsync(ClaimsPrincipal user, CancellationToken cancellationToken) =>
        Task.FromResult(user.Identity?.IsAuthenticated == true
            ? new UserAccess(UserId, user.Identity.Name, new HashSet<string>(Roles, StringComparer.Ordinal)) { EngineRoles = new Dictionary<string, string>(EngineRoles, StringComparer.Ordinal) }
            : UserAccess.None);
}
