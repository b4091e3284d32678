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

    private async Task<object?> ValidateAsync(string token)
    {
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ApiTokenService>().ValidateAsync(token, CancellationToken.None);
    }
}
