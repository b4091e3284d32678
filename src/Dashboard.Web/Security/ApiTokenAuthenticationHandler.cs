using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Dashboard.Web.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;

namespace Dashboard.Web.Security;

/// <summary>
/// <c>Authorization: Bearer dsh_…</c> for <c>/api/*</c> only. The principal is built from the owner's current
/// claims (roles, security stamp); <see cref="ActionAuthorizer"/> still reads the roles from the store per call.
/// </summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiTokenService tokens,
    UserManager<WebUser> users,
    IUserClaimsPrincipalFactory<WebUser> principals) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";

    /// <summary>Cookie for browsers, bearer token for scripts: chosen per request by the Authorization header.</summary>
    public const string ApiScheme = "Api";

    public static bool HasBearer(HttpRequest request, out string token)
    {
        ArgumentNullException.ThrowIfNull(request);
        token = "";
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        token = header["Bearer ".Length..].Trim();
        return true;
    }

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!HasBearer(Request, out var presented))
        {
            return AuthenticateResult.NoResult();
        }

        var found = await tokens.ValidateAsync(presented, Context.RequestAborted);
        if (found is not { } valid || await users.IsLockedOutAsync(valid.User))
        {
            return AuthenticateResult.Fail("invalid or expired API token");
        }

        var principal = await principals.CreateAsync(valid.User);
        var identity = new ClaimsIdentity(principal.Claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role);
        identity.AddClaim(new Claim(ApiTokenService.TokenIdClaim, valid.Token.Id));
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Response.WriteAsJsonAsync(new { message = "authentication required: sign in or send Authorization: Bearer <token>" });
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return Response.WriteAsJsonAsync(new { message = "permission denied" });
    }
}
