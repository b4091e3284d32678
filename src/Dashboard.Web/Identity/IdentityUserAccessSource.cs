using System.Security.Claims;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Identity;

namespace Dashboard.Web.Identity;

/// <summary>Reads the user's current roles from the Identity store; a changed security stamp or a lockout means no access.</summary>
public sealed class IdentityUserAccessSource(UserManager<WebUser> users, IOptions<IdentityOptions> identityOptions) : IUserAccessSource
{
    public async Task<UserAccess> GetAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.Identity?.IsAuthenticated != true)
        {
            return UserAccess.None;
        }

        var id = users.GetUserId(user);
        var stored = id is null ? null : await users.FindByIdAsync(id);
        if (stored is null || await users.IsLockedOutAsync(stored))
        {
            return UserAccess.None;
        }

        if (users.SupportsUserSecurityStamp)
        {
            var claimed = user.FindFirstValue(identityOptions.Value.ClaimsIdentity.SecurityStampClaimType);
            if (claimed is not null && claimed != await users.GetSecurityStampAsync(stored))
            {
                return UserAccess.None;
            }
        }

        var roles = await users.GetRolesAsync(stored);
        return new UserAccess(stored.Id, stored.UserName, new HashSet<string>(roles, StringComparer.Ordinal));
    }
}
