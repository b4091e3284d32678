using System.Security.Claims;
using Bunit;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Identity;
using Dashboard.Web.Tests.Components;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Identity;

public sealed class ProfilePageTests : DashboardTestContext
{
    private readonly IdentityStore _store;

    public ProfilePageTests()
        : this(new IdentityStore())
    {
    }

    private ProfilePageTests(IdentityStore store)
        : base(store.AddTo)
    {
        _store = store;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _store.Dispose();
    }

    private async Task SignInAsync(string name)
    {
        var principal = await IdentityStore.CreateUserAsync(Services, name);
        Auth.SetAuthorized(name);
        Auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, principal.FindFirstValue(ClaimTypes.NameIdentifier)!));
    }

    [Fact]
    public async Task CreateToken_ShownOnceListedAndUsable_RevokeRemovesIt()
    {
        await SignInAsync("page-owner");
        var cut = Render<Profile>();

        cut.Input("[data-testid=token-name]", "backup script");
        cut.Click("[data-testid=token-create]");
        var token = cut.WaitForElement("[data-testid=new-token]").TextContent;

        Assert.StartsWith(ApiTokenService.Prefix, token, StringComparison.Ordinal);
        Assert.Contains("backup script", Assert.Single(cut.FindAll("[data-testid=token-row]")).TextContent, StringComparison.Ordinal);
        Assert.NotNull(await ValidateAsync(token));

        cut.Click("[data-testid=token-revoke]");

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=token-row]")));
        Assert.Empty(cut.FindAll("[data-testid=new-token]"));
        Assert.Null(await ValidateAsync(token));
    }

    [Fact]
    public async Task CreateToken_EmptyName_ShowsErrorAndCreatesNothing()
    {
        await SignInAsync("page-empty");
        var cut = Render<Profile>();

        cut.Click("[data-testid=token-create]");

        Assert.Contains("token name", cut.WaitForElement("[data-testid=profile-error]").TextContent, StringComparison.Ordinal);
        Assert.Empty(cut.FindAll("[data-testid=token-row]"));
    }

    [Fact]
    public async Task Page_OffersSignOutEverywhereWithAntiforgery()
    {
        await SignInAsync("page-signout");
        var cut = Render<Profile>();

        var form = cut.Find("form[action='/account/signout-everywhere']");
        Assert.Equal("post", form.GetAttribute("method"));
        Assert.NotNull(form.QuerySelector("[data-testid=signout-everywhere]"));
    }

    [Fact]
    public async Task TwoFactor_EnrolWithCodeFromKey_ShowsRecoveryCodesThenTurnOff()
    {
        await SignInAsync("page-totp");
        var cut = Render<Profile>();
        Assert.Equal("Off.", cut.Find("[data-testid=totp-status]").TextContent.Trim());

        cut.Click("[data-testid=totp-begin]");
        var key = cut.WaitForElement("[data-testid=totp-key]").TextContent;
        Assert.StartsWith("otpauth://totp/", cut.Find("[data-testid=totp-uri]").GetAttribute("href"), StringComparison.Ordinal);
        cut.Input("[data-testid=totp-code]", Rfc6238.Current(key));
        cut.Click("[data-testid=totp-enable]");

        cut.WaitForAssertion(() => Assert.Equal(10, cut.FindAll("[data-testid=recovery-code]").Count));
        Assert.StartsWith("On (10 recovery codes left)", cut.Find("[data-testid=totp-status]").TextContent.Trim(), StringComparison.Ordinal);

        cut.Input("[data-testid=totp-code]", Rfc6238.Current(key));
        cut.Click("[data-testid=totp-disable]");

        cut.WaitForAssertion(() => Assert.Equal("Off.", cut.Find("[data-testid=totp-status]").TextContent.Trim()));
        Assert.Empty(cut.FindAll("[data-testid=recovery-code]"));
    }

    [Fact]
    public async Task TwoFactor_WrongCode_ShowsErrorStaysOff()
    {
        await SignInAsync("page-totp-wrong");
        var cut = Render<Profile>();
        cut.Click("[data-testid=totp-begin]");
        var key = cut.WaitForElement("[data-testid=totp-key]").TextContent;
        var right = Rfc6238.Current(key);

        cut.Input("[data-testid=totp-code]", right == "123456" ? "654321" : "123456");
        cut.Click("[data-testid=totp-enable]");

        Assert.Contains("not valid", cut.WaitForElement("[data-testid=profile-error]").TextContent, StringComparison.Ordinal);
        Assert.Equal("Off.", cut.Find("[data-testid=totp-status]").TextContent.Trim());
    }

    private async Task<object?> ValidateAsync(string token)
    {
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ApiTokenService>().ValidateAsync(token, CancellationToken.None);
    }
}
