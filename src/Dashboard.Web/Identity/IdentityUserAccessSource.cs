using System.Security.Claims;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Web.Identity;

/// <summary>Reads the user's current roles from the Identity store; a changed security stamp or a lockout means no access.</summary>
public sealed class IdentityUserAccessSource(UserManager<WebUser> users, IOptions<IdentityOptions> identityOptions, WebDbContext db) : IUserAccessSource
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
        var engineRoles = await db.EngineRoleAssignments.AsNoTracking()
            .Where(a => a.UserId == stored.Id)
            .ToDictionaryAsync(a => a.Engine, a => a.Role, StringComparer.Ordinal, cancellationToken);
        return new UserAccess(stored.Id, stored.UserName, new HashSet<string>(roles, StringComparer.Ordinal)) { EngineRoles = engineRoles };
    }
}
