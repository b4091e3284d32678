using System.Security.Claims;
using Dashboard.Web.Security;

namespace Dashboard.Web.Tests.Fakes;

/// <summary>Roles as the store holds them now; tests change <see cref="Roles"/> to model a revocation.</summary>
public sealed class FakeUserAccessSource(params string[] roles) : IUserAccessSource
{
    public string[] Roles { get; set; } = roles;

    public Task<UserAccess> GetAsync(ClaimsPrincipal user, CancellationToken cancellationToken) =>
        Task.FromResult(user.Identity?.IsAuthenticated == true
            ? new UserAccess("user-1", user.Identity.Name, new HashSet<string>(Roles, StringComparer.Ordinal))
            : UserAccess.None);
}
