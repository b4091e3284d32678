using Bunit;
using Dashboard.Web.Components.Layout;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Identity;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Components;

public class AccountPagesTests : DashboardTestContext
{
    private readonly FakeBootstrapStatus _bootstrap;

    public AccountPagesTests()
        : this(new FakeBootstrapStatus())
    {
    }

    private AccountPagesTests(FakeBootstrapStatus bootstrap)
        : base(services =>
        {
            services.AddSingleton<IBootstrapStatus>(bootstrap);
            services.AddSingleton<AntiforgeryStateProvider, FakeAntiforgery>();
        })
    {
        _bootstrap = bootstrap;
    }

    [Fact]
    public void Login_PostsToSignInWithAntiforgeryToken()
    {
        var cut = Render<Login>();

        var form = cut.Find("form");
        Assert.Equal("/account/signin", form.GetAttribute("action"));
        Assert.Equal("post", form.GetAttribute("method"));
        Assert.Equal(FakeAntiforgery.Token, cut.Find("input[name=__RequestVerificationToken]").GetAttribute("value"));
        Assert.Equal("password", cut.Find("input[name=Password]").GetAttribute("type"));
        Assert.Empty(cut.FindAll("[data-testid=setup-link]"));
    }

    [Theory]
    [InlineData("locked", "Too many failed attempts; this account is locked for a while.")]
    [InlineData("invalid", "Wrong user name or password.")]
    [InlineData("<script>", "Wrong user name or password.")]
    public void Login_ErrorQuery_ShowsFixedMessage(string error, string message)
    {
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/account/login?error={Uri.EscapeDataString(error)}");

        var cut = Render<Login>();

        Assert.Equal(message, cut.Find("[data-testid=login-message]").TextContent);
    }

    [Fact]
    public void Login_ReturnUrl_OnlyLocalPathIsKept()
    {
        Services.GetRequiredService<NavigationManager>().NavigateTo("/account/login?returnUrl=https%3A%2F%2Fevil.test");

        var cut = Render<Login>();

        Assert.Equal("/", cut.Find("input[name=ReturnUrl]").GetAttribute("value"));
    }

    [Fact]
    public void Login_FirstRun_LinksToSetup()
    {
        _bootstrap.Needed = true;

        var cut = Render<Login>();

        Assert.Equal("/account/setup", cut.Find("[data-testid=setup-link]").GetAttribute("href"));
    }

    [Fact]
    public void Setup_FirstRun_ShowsSecretForm()
    {
        _bootstrap.Needed = true;

        var cut = Render<Setup>();

        var form = cut.Find("[data-testid=setup-form]");
        Assert.Equal("/account/bootstrap", form.GetAttribute("action"));
        Assert.Equal("password", cut.Find("input[name=Secret]").GetAttribute("type"));
        Assert.NotNull(cut.Find("input[name=__RequestVerificationToken]"));
    }

    [Fact]
    public void Setup_AdminExists_OffersNoForm()
    {
        var cut = Render<Setup>();

        Assert.Empty(cut.FindAll("form"));
        Assert.NotNull(cut.Find("[data-testid=setup-done]"));
    }

    [Fact]
    public void Setup_WrongSecret_SaysSo()
    {
        _bootstrap.Needed = true;
        Services.GetRequiredService<NavigationManager>().NavigateTo("/account/setup?error=secret");

        var cut = Render<Setup>();

        Assert.Equal("The bootstrap secret is wrong.", cut.Find("[data-testid=setup-message]").TextContent);
    }

    private sealed class FakeBootstrapStatus : IBootstrapStatus
    {
        public bool Needed { get; set; }

        public Task<bool> IsNeededAsync() => Task.FromResult(Needed);
    }

    internal sealed class FakeAntiforgery : AntiforgeryStateProvider
    {
        public const string Token = "test-antiforgery-token";

        public override AntiforgeryRequestToken? GetAntiforgeryToken() => new(Token, "__RequestVerificationToken");
    }
}
