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

        cut.Find("[data-testid=token-name]").Input("backup script");
        cut.Find("[data-testid=token-create]").Click();
        var token = cut.WaitForElement("[data-testid=new-token]").TextContent;

        Assert.StartsWith(ApiTokenService.Prefix, token, StringComparison.Ordinal);
        Assert.Contains("backup script", Assert.Single(cut.FindAll("[data-testid=token-row]")).TextContent, StringComparison.Ordinal);
        Assert.NotNull(await ValidateAsync(token));

        cut.Find("[data-testid=token-revoke]").Click();

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=token-row]")));
        Assert.Empty(cut.FindAll("[data-testid=new-token]"));
        Assert.Null(await ValidateAsync(token));
    }

    [Fact]
    public async Task CreateToken_EmptyName_ShowsErrorAndCreatesNothing()
    {
        await SignInAsync("page-empty");
        var cut = Render<Profile>();

        cut.Find("[data-testid=token-create]").Click();

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

        cut.Find("[data-testid=totp-begin]").Click();
        var key = cut.WaitForElement("[data-testid=totp-key]").TextContent;
        Assert.StartsWith("otpauth://totp/", cut.Find("[data-testid=totp-uri]").GetAttribute("href"), StringComparison.Ordinal);
        cut.Find("[data-testid=totp-code]").Input(Rfc6238.Current(key));
        cut.Find("[data-testid=totp-enable]").Click();

        cut.WaitForAssertion(() => Assert.Equal(10, cut.FindAll("[data-testid=recovery-code]").Count));
        Assert.StartsWith("On (10 recovery codes left)", cut.Find("[data-testid=totp-status]").TextContent.Trim(), StringComparison.Ordinal);

        cut.Find("[data-testid=totp-code]").Input(Rfc6238.Current(key));
        cut.Find("[data-testid=totp-disable]").Click();

        cut.WaitForAssertion(() => Assert.Equal("Off.", cut.Find("[data-testid=totp-status]").TextContent.Trim()));
        Assert.Empty(cut.FindAll("[data-testid=recovery-code]"));
    }

    [Fact]
    public async Task TwoFactor_WrongCode_ShowsErrorStaysOff()
    {
        await SignInAsync("page-totp-wrong");
        var cut = Render<Profile>();
        cut.Find("[data-testid=totp-begin]").Click();
        var key = cut.WaitForElement("[data-testid=totp-key]").TextContent;
        var right = Rfc6238.Current(key);

        cut.Find("[data-testid=totp-code]").Input(right == "123456" ? "654321" : "123456");
        cut.Find("[data-testid=totp-enable]").Click();

        Assert.Contains("not valid", cut.WaitForElement("[data-testid=profile-error]").TextContent, StringComparison.Ordinal);
        Assert.Equal("Off.", cut.Find("[data-testid=totp-status]").TextContent.Trim());
    }

    private async Task<object?> ValidateAsync(string token)
    {
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ApiTokenService>().ValidateAsync(token, CancellationToken.None);
    }
}
