using System.Security.Claims;
using Bunit;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Engines;
using Dashboard.Web.Identity;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Components;
using Dashboard.Web.Tests.Fakes;
using Dashboard.Web.Tests.Identity;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dashboard.Web.Tests.Security;

/// <summary>The per-engine role matrix on the Users page (Admin), and that a change reaches the user's open session at once (D5, D7).</summary>
public sealed class UsersEngineRolesPageTests : DashboardTestContext
{
    private readonly IdentityStore _store;

    public UsersEngineRolesPageTests()
        : this(new IdentityStore())
    {
    }

    private UsersEngineRolesPageTests(IdentityStore store)
        : base(services =>
        {
            store.AddTo(services);
            services.AddSingleton<SessionNotifier>();
            services.AddScoped<UserAdministration>();
            services.AddScoped<EngineRoleAdministration>();
            services.AddSingleton<IEngineRegistry>(new EngineRegistry([KeyValuePair.Create("a", (IEngineClient)new FakeEngineClient()), KeyValuePair.Create("b", (IEngineClient)new FakeEngineClient())]));
        })
    {
        _store = store;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _store.Dispose();
    }

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    private async Task<UserAccess> CurrentAccessAsync(ClaimsPrincipal principal)
    {
        await using var scope = Services.CreateAsyncScope();
        var source = new IdentityUserAccessSource(
            scope.ServiceProvider.GetRequiredService<UserManager<WebUser>>(),
            scope.ServiceProvider.GetRequiredService<IOptions<IdentityOptions>>(),
            scope.ServiceProvider.GetRequiredService<WebDbContext>());
        return await source.GetAsync(principal, Ct);
    }

    [Fact]
    public async Task Admin_SetsNoneOnEngineB_OpenSessionNotifiedAndRefusedOnBAtOnce()
    {
        Access.Roles = [Roles.Admin];
        var bob = await IdentityStore.CreateUserAsync(Services, "bob", Roles.Operator);
        var bobId = bob.FindFirstValue(ClaimTypes.NameIdentifier)!;
        Assert.True((await CurrentAccessAsync(bob)).Can(DashboardAction.StartContainer, "b"));

        // What every open circuit and hub stream of bob's does (RevalidatingIdentityStateProvider, ContainersHub).
        var notified = 0;
        using var session = Services.GetRequiredService<SessionNotifier>().Subscribe(bobId, () =>
        {
            Interlocked.Increment(ref notified);
            return Task.CompletedTask;
        });
        var cut = Render<Users>();
        cut.WaitForAssertion(() => Assert.Equal(["a", "b"], cut.FindAll("[data-testid=engine-roles-engine]").Select(e => e.TextContent)), Wait);

        cut.Change("[data-testid=engine-role][data-user=bob][data-engine=b]", EngineRoleAdministration.NoRole);

        cut.WaitForAssertion(() => Assert.Equal(1, Volatile.Read(ref notified)), Wait);
        var now = await CurrentAccessAsync(bob);
        Assert.False(now.Can(DashboardAction.StartContainer, "b"));
        Assert.False(now.Can(DashboardAction.ViewContainers, "b"));
        Assert.True(now.Can(DashboardAction.StartContainer, "a"));
        cut.WaitForAssertion(() => Assert.Equal(EngineRoleAdministration.NoRole, cut.Find("[data-testid=engine-role][data-user=bob][data-engine=b]").GetAttribute("value")), Wait);
        Assert.Contains(Audit.Recent(50), e => e.Action == "SetEngineRole" && e.Target == "user bob on engine b" && e.Detail == EngineRoleAdministration.NoRole);
    }

    [Fact]
    public async Task Admin_ViewerMadeOperatorOnA_ThenInherit_AssignmentRemoved()
    {
        Access.Roles = [Roles.Admin];
        var carol = await IdentityStore.CreateUserAsync(Services, "carol", Roles.Viewer);
        var cut = Render<Users>();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-testid=engine-role][data-user=carol]")), Wait);

        cut.Change("[data-testid=engine-role][data-user=carol][data-engine=a]", Roles.Operator);
        cut.WaitForAssertion(() => Assert.Equal(Roles.Operator, cut.Find("[data-testid=engine-role][data-user=carol][data-engine=a]").GetAttribute("value")), Wait);
        Assert.True((await CurrentAccessAsync(carol)).Can(DashboardAction.StopContainer, "a"));
        Assert.False((await CurrentAccessAsync(carol)).Can(DashboardAction.StopContainer, "b"));

        cut.Change("[data-testid=engine-role][data-user=carol][data-engine=a]", "");

        cut.WaitForAssertion(() => Assert.Equal("", cut.Find("[data-testid=engine-role][data-user=carol][data-engine=a]").GetAttribute("value")), Wait);
        Assert.False((await CurrentAccessAsync(carol)).Can(DashboardAction.StopContainer, "a"));
        await using var scope = Services.CreateAsyncScope();
        Assert.False(await scope.ServiceProvider.GetRequiredService<WebDbContext>().EngineRoleAssignments.AnyAsync(Ct));
    }

    [Fact]
    public async Task AdminRow_EngineSelectsDisabled_InheritShowsGlobalRole()
    {
        Access.Roles = [Roles.Admin];
        await IdentityStore.CreateUserAsync(Services, "root-like", Roles.Admin);
        await IdentityStore.CreateUserAsync(Services, "dave", Roles.Viewer);

        var cut = Render<Users>();

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=engine-role][data-user=root-like]").Count), Wait);
        Assert.All(cut.FindAll("[data-testid=engine-role][data-user=root-like]"), s => Assert.True(s.HasAttribute("disabled")));
        Assert.All(cut.FindAll("[data-testid=engine-role][data-user=dave]"), s => Assert.False(s.HasAttribute("disabled")));
        Assert.Contains("Inherit (Viewer)", cut.Find("[data-testid=engine-role][data-user=dave]").TextContent, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Roles.Operator)]
    [InlineData(Roles.Viewer)]
    public async Task NotAdmin_NoEngineRoleMatrix(string role)
    {
        Access.Roles = [role];
        await IdentityStore.CreateUserAsync(Services, "erin", Roles.Viewer);

        var cut = Render<Users>();

        cut.WaitForAssertion(() => Assert.Equal("manage users users: permission denied", cut.Find("[data-testid=users-error]").TextContent), Wait);
        Assert.Empty(cut.FindAll("[data-testid=engine-roles]"));
        Assert.Empty(cut.FindAll("[data-testid=engine-role]"));
    }
}
