using System.Security.Claims;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Identity;

namespace Dashboard.Web.Identity;

public sealed record TwoFactorStatus(bool Enabled, int RecoveryCodesLeft);

/// <summary>What an authenticator app needs: the base32 key and the <c>otpauth://</c> URI (Key URI Format).</summary>
public sealed record AuthenticatorSetup(string SharedKey, string OtpAuthUri);

/// <summary>A two-factor request the user can fix (wrong code, not enrolled).</summary>
public sealed class TotpException(string message) : Exception(message);

/// <summary>
/// TOTP two-factor (RFC 6238, Identity's authenticator token provider) for local accounts: enrol with a key or
/// otpauth URI, confirm with a code, get ten one-time recovery codes, disable with a code. The sign-in second step
/// is <c>POST /account/signin-2fa</c>. Enrolment changes do not rotate the security stamp, so the page the user is
/// on keeps working; "sign out everywhere" next to it ends other sessions.
/// </summary>
public sealed class TwoFactorService(UserManager<WebUser> users, IUserStore<WebUser> store, IAuditLog audit)
{
    public const string Issuer = "Container dashboard";
    public const int RecoveryCodeCount = 10;

    public async Task<TwoFactorStatus> GetStatusAsync(ClaimsPrincipal owner)
    {
        var user = await RequireUserAsync(owner);
        return new TwoFactorStatus(await users.GetTwoFactorEnabledAsync(user), await users.CountRecoveryCodesAsync(user));
    }

    /// <summary>A fresh key (replacing any unconfirmed one); 2FA stays off until <see cref="EnableAsync"/>.</summary>
    public async Task<AuthenticatorSetup> BeginAsync(ClaimsPrincipal owner, CancellationToken cancellationToken)
    {
        var user = await RequireUserAsync(owner);
        if (await users.GetTwoFactorEnabledAsync(user))
        {
            throw new TotpException("two-factor sign-in is already on; turn it off first to enrol a new authenticator");
        }

        var key = users.GenerateNewAuthenticatorKey();
        await ((IUserAuthenticatorKeyStore<WebUser>)store).SetAuthenticatorKeyAsync(user, key, cancellationToken);
        Check(await users.UpdateAsync(user));
        return new AuthenticatorSetup(FormatKey(key), OtpAuthUri(user.UserName ?? "", key));
    }

    /// <summary>Turns 2FA on when <paramref name="code"/> matches the enrolled key; returns the recovery codes (shown once).</summary>
    public async Task<IReadOnlyList<string>> EnableAsync(ClaimsPrincipal owner, string code, CancellationToken cancellationToken)
    {
        var user = await RequireUserAsync(owner);
        if (await users.GetAuthenticatorKeyAsync(user) is null)
        {
            throw new TotpException("start the enrolment first");
        }

        if (!await VerifyAsync(user, code))
        {
            await AuditAsync(user, "EnableTwoFactor", AuditOutcome.Failed, "wrong code");
            throw new TotpException("that code is not valid; check the time on your device and try the next code");
        }

        await ((IUserTwoFactorStore<WebUser>)store).SetTwoFactorEnabledAsync(user, true, cancellationToken);
        Check(await users.UpdateAsync(user));
        var codes = (await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount))?.ToList() ?? [];
        await AuditAsync(user, "EnableTwoFactor", AuditOutcome.Succeeded, null);
        return codes;
    }

    public async Task<IReadOnlyList<string>> NewRecoveryCodesAsync(ClaimsPrincipal owner, string code)
    {
        var user = await RequireUserAsync(owner);
        if (!await users.GetTwoFactorEnabledAsync(user) || !await VerifyAsync(user, code))
        {
            throw new TotpException("that code is not valid");
        }

        return (await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount))?.ToList() ?? [];
    }

    /// <summary>Turns 2FA off and forgets the key; needs a current code so a left-open session cannot do it silently.</summary>
    public async Task DisableAsync(ClaimsPrincipal owner, string code, CancellationToken cancellationToken)
    {
        var user = await RequireUserAsync(owner);
        if (!await users.GetTwoFactorEnabledAsync(user))
        {
            throw new TotpException("two-factor sign-in is not on");
        }

        if (!await VerifyAsync(user, code))
        {
            await AuditAsync(user, "DisableTwoFactor", AuditOutcome.Failed, "wrong code");
            throw new TotpException("that code is not valid");
        }

        await ((IUserTwoFactorStore<WebUser>)store).SetTwoFactorEnabledAsync(user, false, cancellationToken);
        await ((IUserAuthenticatorKeyStore<WebUser>)store).SetAuthenticatorKeyAsync(user, null!, cancellationToken);
        await ((IUserTwoFactorRecoveryCodeStore<WebUser>)store).ReplaceCodesAsync(user, [], cancellationToken);
        Check(await users.UpdateAsync(user));
        await AuditAsync(user, "DisableTwoFactor", AuditOutcome.Succeeded, null);
    }

    public static string OtpAuthUri(string userName, string key) =>
        $"otpauth://totp/{Uri.EscapeDataString(Issuer)}:{Uri.EscapeDataString(userName)}?secret={key}&issuer={Uri.EscapeDataString(Issuer)}&digits=6&period=30";

    /// <summary>Groups of four, lower case, easier to type into an app by hand.</summary>
    public static string FormatKey(string key) =>
        string.Join(' ', key.Chunk(4).Select(c => new string(c))).ToLowerInvariant();

    private Task<bool> VerifyAsync(WebUser user, string code)
    {
        var digits = new string((code ?? "").Where(char.IsAsciiDigit).ToArray());
        return users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, digits);
    }

    private async Task<WebUser> RequireUserAsync(ClaimsPrincipal owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return await users.GetUserAsync(owner) ?? throw new DashboardForbiddenException("two-factor settings: permission denied");
    }

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new TotpException(string.Join(" ", result.Errors.Select(e => e.Description)));
        }
    }

    private Task AuditAsync(WebUser user, string action, AuditOutcome outcome, string? detail) =>
        audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, user.UserName ?? "", action, $"user {user.UserName}", outcome, detail), CancellationToken.None);
}
