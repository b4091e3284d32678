using Bunit;
using Dashboard.Web.Components.Layout;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Dashboard.Web.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Components;

public class MainLayoutTests : DashboardTestContext
{
    public MainLayoutTests()
        : base(services => services.AddSingleton<AntiforgeryStateProvider, AccountPagesTests.FakeAntiforgery>(), popoverProvider: false)
    {
    }

    [Fact]
    public void Render_SignedIn_ShowsUserNavigationAndSignOutForm()
    {
        var cut = Render<MainLayout>(p => p.Add(c => c.Body, (RenderFragment)(b => b.AddContent(0, "page body"))));

        Assert.Equal("alice", cut.Find("[data-testid=current-user]").TextContent);
        Assert.NotNull(cut.Find("form[action='/account/signout'] input[name=__RequestVerificationToken]"));
        Assert.Contains("page body", cut.Markup, StringComparison.Ordinal);
        Assert.Contains(cut.FindAll("a"), a => a.GetAttribute("href") == "/containers");
    }

    [Fact]
    public void Render_UserNameWithMarkup_IsText()
    {
        Auth.SetAuthorized("<img src=x onerror=alert(1)>");

        var cut = Render<MainLayout>(p => p.Add(c => c.Body, (RenderFragment)(b => b.AddContent(0, "x"))));

        Assert.Equal("<img src=x onerror=alert(1)>", cut.Find("[data-testid=current-user]").TextContent);
        Assert.Empty(cut.FindAll("img"));
    }

    [Fact]
    public void Render_Interactive_MarksCircuitLiveAndAdminSeesUsersLink()
    {
        Auth.SetRoles(Roles.Admin);

        var cut = Render<MainLayout>(p => p.Add(c => c.Body, (RenderFragment)(b => b.AddContent(0, "x"))));

        Assert.NotNull(cut.Find("[data-testid=interactive]"));
        Assert.Contains(cut.FindAll("a"), a => a.GetAttribute("href") == "/users");
    }

    [Fact]
    public void Render_Viewer_NoUsersLink()
    {
        Auth.SetRoles(Roles.Viewer);

        var cut = Render<MainLayout>(p => p.Add(c => c.Body, (RenderFragment)(b => b.AddContent(0, "x"))));

        Assert.DoesNotContain(cut.FindAll("a"), a => a.GetAttribute("href") == "/users");
    }
}
