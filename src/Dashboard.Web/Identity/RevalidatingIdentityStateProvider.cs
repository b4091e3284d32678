using System.Security.Claims;
using Dashboard.Web.Hosting;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace Dashboard.Web.Identity;

/// <summary>
/// An open circuit keeps the principal it connected with; this re-checks it against the store periodically and,
/// pushed by <see cref="SessionNotifier"/>, at once when an Admin changes the user's roles or the user signs out
/// everywhere (security.md D5). A changed role replaces the circuit's role claims (pages re-render without the
/// buttons); a new security stamp, lockout or deletion signs the circuit out. Handlers still re-check on every call
/// through <see cref="ActionAuthorizer"/>.
/// </summary>
public sealed class RevalidatingIdentityStateProvider : RevalidatingServerAuthenticationStateProvider
{
    private readonly IServiceScopeFactory _scopes;
    private readonly IOptions<DashboardOptions> _options;
    private readonly SessionNotifier _notifier;
    private readonly Lock _lock = new();
    private IDisposable? _subscription;
    private string? _subscribedUser;

    public RevalidatingIdentityStateProvider(ILoggerFactory loggerFactory, IServiceScopeFactory scopes, IOptions<DashboardOptions> options, SessionNotifier notifier)
        : base(loggerFactory)
    {
        _scopes = scopes;
        _options = options;
        _notifier = notifier;
        AuthenticationStateChanged += OnStateChanged;
    }

    protected override TimeSpan RevalidationInterval => _options.Value.RevalidationInterval;

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        var current = await CurrentAccessAsync(authenticationState.User, cancellationToken);
        return current.UserId is not null && SameRoles(authenticationState.User, current);
    }

    /// <summary>The periodic check, callable directly by tests.</summary>
    internal Task<bool> ValidateAsync(AuthenticationState state, CancellationToken cancellationToken) =>
        ValidateAuthenticationStateAsync(state, cancellationToken);

    /// <summary>Re-reads the user now and updates the circuit's principal; returns the principal the circuit now has.</summary>
    public async Task<ClaimsPrincipal> RevalidateNowAsync(CancellationToken cancellationToken)
    {
        var user = (await GetAuthenticationStateAsync()).User;
        if (user.Identity?.IsAuthenticated != true)
        {
            return user;
        }

        var current = await CurrentAccessAsync(user, cancellationToken);
        ClaimsPrincipal updated;
        if (current.UserId is null)
        {
            updated = new ClaimsPrincipal(new ClaimsIdentity());
        }
        else if (!SameRoles(user, current))
        {
            updated = WithRoles(user, current.Roles);
        }
        else
        {
            return user;
        }

        SetAuthenticationState(Task.FromResult(new AuthenticationState(updated)));
        return updated;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            AuthenticationStateChanged -= OnStateChanged;
            lock (_lock)
            {
                _subscription?.Dispose();
                _subscription = null;
            }
        }

        base.Dispose(disposing);
    }

    private static ClaimsPrincipal WithRoles(ClaimsPrincipal user, IReadOnlySet<string> roles)
    {
        var source = user.Identities.First(i => i.IsAuthenticated);
        var identity = new ClaimsIdentity(source.Claims.Where(c => c.Type != source.RoleClaimType), source.AuthenticationType, source.NameClaimType, source.RoleClaimType);
        identity.AddClaims(roles.Select(r => new Claim(source.RoleClaimType, r)));
        return new ClaimsPrincipal(identity);
    }

    private static bool SameRoles(ClaimsPrincipal user, UserAccess current)
    {
        var claimed = user.FindAll(ClaimTypes.Role).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        return claimed.SetEquals(current.Roles);
    }

    private async Task<UserAccess> CurrentAccessAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IUserAccessSource>().GetAsync(user, cancellationToken);
    }

    private async void OnStateChanged(Task<AuthenticationState> task)
    {
        try
        {
            var userId = (await task).User.FindFirstValue(ClaimTypes.NameIdentifier);
            lock (_lock)
            {
                if (userId == _subscribedUser)
                {
                    return;
                }

                _subscription?.Dispose();
                _subscribedUser = userId;
                _subscription = userId is null ? null : _notifier.Subscribe(userId, () => RevalidateNowAsync(CancellationToken.None));
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The state task faulted: nothing to subscribe to; the periodic revalidation still runs.
        }
    }
}
