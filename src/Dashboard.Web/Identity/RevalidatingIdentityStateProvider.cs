using System.Security.Claims;
using Dashboard.Web.Hosting;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace Dashboard.Web.Identity;

/// <summary>
/// An open circuit keeps the principal it connected with; this re-checks it against the store periodically, so
/// a sign-out everywhere, lockout or role change ends the circuit's access (security.md D5). Handlers still
/// re-check on every call through <see cref="ActionAuthorizer"/>.
/// </summary>
public sealed class RevalidatingIdentityStateProvider(
    ILoggerFactory loggerFactory,
    IServiceScopeFactory scopes,
    IOptions<DashboardOptions> options) : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => options.Value.RevalidationInterval;

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var access = scope.ServiceProvider.GetRequiredService<IUserAccessSource>();
        var current = await access.GetAsync(authenticationState.User, cancellationToken);
        return current.UserId is not null && SameRoles(authenticationState.User, current);
    }

    /// <summary>The periodic check, callable directly by tests.</summary>
    internal Task<bool> ValidateAsync(AuthenticationState state, CancellationToken cancellationToken) =>
        ValidateAuthenticationStateAsync(state, cancellationToken);

    private static bool SameRoles(ClaimsPrincipal user, UserAccess current)
    {
        var claimed = user.FindAll(ClaimTypes.Role).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        return claimed.SetEquals(current.Roles);
    }
}
