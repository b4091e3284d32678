using Dashboard.Web.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;

namespace Dashboard.Web.Identity;

public sealed class SignInForm
{
    public string? UserName { get; set; }

    public string? Password { get; set; }

    public string? ReturnUrl { get; set; }
}

public sealed class TwoFactorForm
{
    public string? Code { get; set; }

    public string? ReturnUrl { get; set; }
}

public sealed class BootstrapForm
{
    public string? Secret { get; set; }

    public string? UserName { get; set; }

    public string? Password { get; set; }

    public string? ConfirmPassword { get; set; }
}

/// <summary>
/// Form posts of the static sign-in and setup pages. Minimal APIs validate the antiforgery token of every
/// form-bound endpoint (security.md D6); the sign-in and setup posts are rate limited per client address (D5).
/// </summary>
public static class AccountEndpoints
{
    public const string RateLimitPolicy = "account";

    public static void MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/account");
        group.MapPost("/signin", SignInAsync).AllowAnonymous().RequireRateLimiting(RateLimitPolicy);
        group.MapPost("/bootstrap", BootstrapAsync).AllowAnonymous().RequireRateLimiting(RateLimitPolicy);
        group.MapPost("/signin-2fa", SignInTwoFactorAsync).AllowAnonymous().RequireRateLimiting(RateLimitPolicy);
        group.MapPost("/signout", SignOutAsync).RequireAuthorization();
        group.MapPost("/signout-everywhere", SignOutEverywhereAsync).RequireAuthorization();
    }

    private static async Task<IResult> SignInAsync(
        [FromForm] SignInForm form,
        SignInManager<WebUser> signIn,
        UserManager<WebUser> users,
        IAuditLog audit,
        HttpContext context)
    {
        var userName = (form.UserName ?? "").Trim();
        var returnUrl = SafeReturnUrl(form.ReturnUrl);
        var user = userName.Length == 0 ? null : await users.FindByNameAsync(userName);
        if (user is null)
        {
            // Hash anyway so an unknown name costs the same as a wrong password (no user enumeration by timing, D5).
            users.PasswordHasher.VerifyHashedPassword(new WebUser(), DummyHash.Value, form.Password ?? "");
            await AuditAsync(audit, userName, "SignIn", context, AuditOutcome.Failed, "invalid credentials");
            return Results.Redirect($"/account/login?error=invalid&returnUrl={Uri.EscapeDataString(returnUrl)}");
        }

        var result = await signIn.PasswordSignInAsync(user, form.Password ?? "", isPersistent: false, lockoutOnFailure: true);
        if (result.Succeeded)
        {
            await AuditAsync(audit, userName, "SignIn", context, AuditOutcome.Succeeded, null);
            return Results.LocalRedirect(returnUrl);
        }

        if (result.RequiresTwoFactor)
        {
            // The password was right; SignInManager holds the user in its short-lived two-factor cookie.
            await AuditAsync(audit, userName, "SignIn", context, AuditOutcome.Succeeded, "password; second factor required");
            return Results.Redirect($"/account/login-2fa?returnUrl={Uri.EscapeDataString(returnUrl)}");
        }

        var error = result.IsLockedOut ? "locked" : result.IsNotAllowed ? "notallowed" : "invalid";
        await AuditAsync(audit, userName, "SignIn", context, AuditOutcome.Failed, error);
        return Results.Redirect($"/account/login?error={error}&returnUrl={Uri.EscapeDataString(returnUrl)}");
    }

    /// <summary>
    /// The second step: a 6-digit authenticator code, or one of the recovery codes (each works once). Failures count
    /// towards lockout like wrong passwords (security.md D5).
    /// </summary>
    private static async Task<IResult> SignInTwoFactorAsync([FromForm] TwoFactorForm form, SignInManager<WebUser> signIn, IAuditLog audit, HttpContext context)
    {
        var returnUrl = SafeReturnUrl(form.ReturnUrl);
        var user = await signIn.GetTwoFactorAuthenticationUserAsync();
        if (user is null)
        {
            return Results.Redirect($"/account/login?error=expired&returnUrl={Uri.EscapeDataString(returnUrl)}");
        }

        var code = (form.Code ?? "").Replace(" ", "", StringComparison.Ordinal).Trim();
        var digitsOnly = code.Length == 6 && code.All(char.IsAsciiDigit);
        var result = digitsOnly
            ? await signIn.TwoFactorAuthenticatorSignInAsync(code, isPersistent: false, rememberClient: false)
            : await signIn.TwoFactorRecoveryCodeSignInAsync(code);
        var how = digitsOnly ? "authenticator code" : "recovery code";
        if (result.Succeeded)
        {
            await AuditAsync(audit, user.UserName ?? "", "SignIn", context, AuditOutcome.Succeeded, how);
            return Results.LocalRedirect(returnUrl);
        }

        if (!digitsOnly && !result.IsLockedOut)
        {
            // A wrong recovery code is not counted by Identity; count it here so guessing them locks out too.
            await signIn.UserManager.AccessFailedAsync(user);
        }

        var error = result.IsLockedOut || await signIn.UserManager.IsLockedOutAsync(user) ? "locked" : "code";
        await AuditAsync(audit, user.UserName ?? "", "SignIn", context, AuditOutcome.Failed, $"{how}: {error}");
        return error == "locked"
            ? Results.Redirect($"/account/login?error=locked&returnUrl={Uri.EscapeDataString(returnUrl)}")
            : Results.Redirect($"/account/login-2fa?error=code&returnUrl={Uri.EscapeDataString(returnUrl)}");
    }

    private static async Task<IResult> BootstrapAsync([FromForm] BootstrapForm form, BootstrapService bootstrap, IAuditLog audit, HttpContext context)
    {
        if (form.Password != form.ConfirmPassword)
        {
            return Results.Redirect("/account/setup?error=mismatch");
        }

        var (result, errors) = await bootstrap.CreateAdminAsync(form.Secret ?? "", form.UserName ?? "", form.Password ?? "");
        await AuditAsync(audit, form.UserName ?? "", "Bootstrap", context, result == BootstrapResult.Created ? AuditOutcome.Succeeded : AuditOutcome.Failed, result.ToString());
        return result switch
        {
            BootstrapResult.Created => Results.Redirect("/account/login?created=1"),
            BootstrapResult.AlreadyDone => Results.Redirect("/account/login"),
            BootstrapResult.InvalidAccount => Results.Redirect("/account/setup?error=account&detail=" + Uri.EscapeDataString(string.Join(" ", errors))),
            BootstrapResult.Unavailable => Results.Redirect("/account/setup?error=unavailable"),
            _ => Results.Redirect("/account/setup?error=secret"),
        };
    }

    private static async Task<IResult> SignOutAsync(SignInManager<WebUser> signIn)
    {
        await signIn.SignOutAsync();
        return Results.Redirect("/account/login");
    }

    /// <summary>A new security stamp invalidates every cookie and every open circuit.</summary>
    private static async Task<IResult> SignOutEverywhereAsync(SignInManager<WebUser> signIn, UserManager<WebUser> users, SessionNotifier sessions, IAuditLog audit, HttpContext context)
    {
        var user = await users.GetUserAsync(context.User);
        if (user is not null)
        {
            await users.UpdateSecurityStampAsync(user);
            await AuditAsync(audit, user.UserName ?? "", "SignOutEverywhere", context, AuditOutcome.Succeeded, null);

            // Open circuits and hub streams drop now, not at the next periodic revalidation.
            await sessions.NotifyAsync(user.Id);
        }

        await signIn.SignOutAsync();
        return Results.Redirect("/account/login");
    }

    /// <summary>Only local paths: an open redirect after sign-in would hand the session page to another site.</summary>
    public static string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl[0] == '/' &&
        (returnUrl.Length == 1 || (returnUrl[1] != '/' && returnUrl[1] != '\\')) &&
        !returnUrl.Any(char.IsControl)
            ? returnUrl
            : "/";

    private static Task AuditAsync(IAuditLog audit, string user, string action, HttpContext context, AuditOutcome outcome, string? detail) =>
        audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, user, action, $"from {context.Connection.RemoteIpAddress}", outcome, detail), CancellationToken.None);

    private static class DummyHash
    {
        public static readonly string Value = new PasswordHasher<WebUser>().HashPassword(new WebUser(), Guid.NewGuid().ToString());
    }
}
