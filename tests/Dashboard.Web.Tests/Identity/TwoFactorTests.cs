using System.Net;
using System.Text;
using System.Web;
using Dashboard.Web.Identity;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Identity;

/// <summary>TOTP enrolment and the sign-in second step against the real app, with codes from the test's own RFC 6238.</summary>
public sealed class TwoFactorTests(TwoFactorTests.Fixture fixture) : IClassFixture<TwoFactorTests.Fixture>
{
    private readonly WebAppFactory _app = fixture.App;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public sealed class Fixture : IDisposable
    {
        public WebAppFactory App { get; } = new();

        public void Dispose() => App.Dispose();
    }

    [Fact]
    public void Rfc6238_MatchesRfcTestVectors()
    {
        var key = Encoding.ASCII.GetBytes("12345678901234567890");

        // RFC 6238 Appendix B, SHA1 rows (8 digits).
        Assert.Equal("94287082", Rfc6238.Code(key, DateTimeOffset.FromUnixTimeSeconds(59), 8));
        Assert.Equal("07081804", Rfc6238.Code(key, DateTimeOffset.FromUnixTimeSeconds(1111111109), 8));
        Assert.Equal("14050471", Rfc6238.Code(key, DateTimeOffset.FromUnixTimeSeconds(1111111111), 8));
        Assert.Equal("89005924", Rfc6238.Code(key, DateTimeOffset.FromUnixTimeSeconds(1234567890), 8));
        Assert.Equal("69279037", Rfc6238.Code(key, DateTimeOffset.FromUnixTimeSeconds(2000000000), 8));
        Assert.Equal(key, Rfc6238.Base32Decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
    }

    [Fact]
    public async Task Enrol_OtpAuthUriCarriesKeyAndIssuer()
    {
        await _app.CreateUserAsync("totp-uri", Roles.Viewer);

        var setup = await WithServiceAsync(async (tf, p) => await tf.BeginAsync(p, Ct), "totp-uri");

        var uri = new Uri(setup.OtpAuthUri);
        Assert.Equal("otpauth", uri.Scheme);
        Assert.Equal("totp", uri.Host);
        var query = HttpUtility.ParseQueryString(uri.Query);
        Assert.Equal(setup.SharedKey.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant(), query["secret"]);
        Assert.Equal(TwoFactorService.Issuer, query["issuer"]);
        Assert.Contains("totp-uri", Uri.UnescapeDataString(uri.AbsolutePath), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enable_WrongCode_StaysOff()
    {
        await _app.CreateUserAsync("totp-wrong", Roles.Viewer);
        var setup = await WithServiceAsync(async (tf, p) => await tf.BeginAsync(p, Ct), "totp-wrong");
        var right = Rfc6238.Current(setup.SharedKey);
        var wrong = ((int.Parse(right, System.Globalization.CultureInfo.InvariantCulture) + 1) % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

        var error = await Assert.ThrowsAsync<TotpException>(() => WithServiceAsync((tf, p) => tf.EnableAsync(p, wrong, Ct), "totp-wrong"));

        Assert.Contains("not valid", error.Message, StringComparison.Ordinal);
        Assert.False((await WithServiceAsync((tf, p) => tf.GetStatusAsync(p), "totp-wrong")).Enabled);
    }

    [Fact]
    public async Task SignIn_WithTwoFactor_NeedsCodeThenSucceeds()
    {
        await EnrolAsync("totp-user");
        using var browser = _app.CreateBrowser();
        var token = await WebAppFactory.AntiforgeryTokenAsync(browser, "/account/login");

        using var first = await WebAppFactory.PostFormAsync(browser, "/account/signin", token, ("UserName", "totp-user"), ("Password", WebAppFactory.Password), ("ReturnUrl", "/containers"));
        Assert.Equal("/account/login-2fa?returnUrl=%2Fcontainers", first.Headers.Location?.OriginalString);
        using (var notYet = await browser.GetAsync("/api/containers", Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, notYet.StatusCode);
        }

        var secondToken = await WebAppFactory.AntiforgeryTokenAsync(browser, "/account/login-2fa?returnUrl=%2Fcontainers");
        using var second = await WebAppFactory.PostFormAsync(browser, "/account/signin-2fa", secondToken, ("Code", Rfc6238.Current(await KeyAsync("totp-user"))), ("ReturnUrl", "/containers"));

        Assert.Equal("/containers", second.Headers.Location?.OriginalString);
        using var api = await browser.GetAsync("/api/containers", Ct);
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
    }

    [Fact]
    public async Task SignIn_WrongCode_RefusedAndCounted()
    {
        await EnrolAsync("totp-guess");
        using var browser = _app.CreateBrowser();
        var token = await WebAppFactory.AntiforgeryTokenAsync(browser, "/account/login");
        using var first = await WebAppFactory.PostFormAsync(browser, "/account/signin", token, ("UserName", "totp-guess"), ("Password", WebAppFactory.Password));
        var right = Rfc6238.Current(await KeyAsync("totp-guess"));
        var wrong = right == "000000" ? "000001" : "000000";

        using var second = await WebAppFactory.PostFormAsync(browser, "/account/signin-2fa", token, ("Code", wrong));

        Assert.Equal("/account/login-2fa?error=code&returnUrl=%2F", second.Headers.Location?.OriginalString);
        using var api = await browser.GetAsync("/api/containers", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        await _app.WithUsersAsync(async users => Assert.Equal(1, await users.GetAccessFailedCountAsync((await users.FindByNameAsync("totp-guess"))!)));
    }

    [Fact]
    public async Task SignIn_RecoveryCode_WorksOnce()
    {
        var codes = await EnrolAsync("totp-recover");
        Assert.Equal(TwoFactorService.RecoveryCodeCount, codes.Count);

        Assert.Equal("/", await SignInWithCodeAsync("totp-recover", codes[0]));
        Assert.Equal("/account/login-2fa?error=code&returnUrl=%2F", await SignInWithCodeAsync("totp-recover", codes[0]));
        Assert.Equal(TwoFactorService.RecoveryCodeCount - 1, (await WithServiceAsync((tf, p) => tf.GetStatusAsync(p), "totp-recover")).RecoveryCodesLeft);
    }

    [Fact]
    public async Task SecondStep_WithoutPasswordStep_SentBackToSignIn()
    {
        await EnrolAsync("totp-skip");
        using var browser = _app.CreateBrowser();
        var token = await WebAppFactory.AntiforgeryTokenAsync(browser, "/account/login-2fa");

        using var response = await WebAppFactory.PostFormAsync(browser, "/account/signin-2fa", token, ("Code", Rfc6238.Current(await KeyAsync("totp-skip"))));

        Assert.Equal("/account/login?error=expired&returnUrl=%2F", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Disable_WithCode_PasswordAloneSignsInAgain()
    {
        await EnrolAsync("totp-off");
        var key = await KeyAsync("totp-off");

        await WithServiceAsync((tf, p) => tf.DisableAsync(p, Rfc6238.Current(key), Ct), "totp-off");

        using var browser = await _app.SignedInBrowserAsync("totp-off");
        Assert.False((await WithServiceAsync((tf, p) => tf.GetStatusAsync(p), "totp-off")).Enabled);
    }

    private async Task<IReadOnlyList<string>> EnrolAsync(string name)
    {
        await _app.CreateUserAsync(name, Roles.Operator);
        var setup = await WithServiceAsync(async (tf, p) => await tf.BeginAsync(p, Ct), name);
        return await WithServiceAsync((tf, p) => tf.EnableAsync(p, Rfc6238.Current(setup.SharedKey), Ct), name);
    }

    private async Task<string> KeyAsync(string name)
    {
        string? key = null;
        await _app.WithUsersAsync(async users => key = await users.GetAuthenticatorKeyAsync((await users.FindByNameAsync(name))!));
        return key!;
    }

    private async Task<string?> SignInWithCodeAsync(string name, string code)
    {
        using var browser = _app.CreateBrowser();
        var token = await WebAppFactory.AntiforgeryTokenAsync(browser, "/account/login");
        using var first = await WebAppFactory.PostFormAsync(browser, "/account/signin", token, ("UserName", name), ("Password", WebAppFactory.Password));
        using var second = await WebAppFactory.PostFormAsync(browser, "/account/signin-2fa", token, ("Code", code));
        return second.Headers.Location?.OriginalString;
    }

    private async Task<T> WithServiceAsync<T>(Func<TwoFactorService, System.Security.Claims.ClaimsPrincipal, Task<T>> action, string name)
    {
        var principal = await _app.PrincipalAsync(name);
        await using var scope = _app.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<TwoFactorService>(), principal);
    }

    private async Task WithServiceAsync(Func<TwoFactorService, System.Security.Claims.ClaimsPrincipal, Task> action, string name) =>
        await WithServiceAsync(async (tf, p) =>
        {
            await action(tf, p);
            return true;
        }, name);
}
