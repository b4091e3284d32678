using System.Net;
using System.Security.Claims;
using Dashboard.Web.Engines;
using Dashboard.Web.Hubs;
using Dashboard.Web.Identity;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Fakes;
using Dashboard.Web.Tests.Hosting;
using Dashboard.Web.Tests.Hubs;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Security;

/// <summary>Per-engine roles: Operator on engine A, nothing or Viewer on B, enforced in the hub, streams and API (D7).</summary>
public sealed class EngineRoleTests(EngineRoleTests.Fixture fixture) : IClassFixture<EngineRoleTests.Fixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public sealed class Fixture : IAsyncLifetime
    {
        private readonly WebAppFactory _base = new();

        public FakeEngineClient A { get; } = new();

        public FakeEngineClient B { get; } = new();

        public WebApplicationFactory<Program> App { get; private set; } = default!;

        public ClaimsPrincipal Admin { get; private set; } = default!;

        public async ValueTask InitializeAsync()
        {
            App = _base.WithWebHostBuilder(b => b.ConfigureTestServices(s =>
                s.AddSingleton<IEngineRegistry>(new EngineRegistry([KeyValuePair.Create("a", (IEngineClient)A), KeyValuePair.Create("b", (IEngineClient)B)]))));
            Admin = await CreateAsync("er-admin", Roles.Admin);
        }

        public async Task<ClaimsPrincipal> CreateAsync(string name, string role, params (string Engine, string Role)[] engineRoles)
        {
            await using var scope = App.Services.CreateAsyncScope();
            var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<WebUser>>();
            var user = new WebUser { UserName = name };
            Assert.True((await users.CreateAsync(user, WebAppFactory.Password)).Succeeded);
            Assert.True((await users.AddToRoleAsync(user, role)).Succeeded);
            foreach (var (engine, engineRole) in engineRoles)
            {
                await scope.ServiceProvider.GetRequiredService<EngineRoleAdministration>().SetAsync(Admin, user.Id, engine, engineRole, CancellationToken.None);
            }

            return await scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.IUserClaimsPrincipalFactory<WebUser>>().CreateAsync(user);
        }

        public async ValueTask DisposeAsync()
        {
            await App.DisposeAsync();
            await _base.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("a", true)]
    [InlineData("b", false)]
    public async Task OperatorWithNoRoleOnB_HubStartAndStream_OnlyOnA(string engine, bool allowed)
    {
        var user = await fixture.CreateAsync($"er-op-{engine}", Roles.Operator, ("b", EngineRoleAdministration.NoRole));
        var client = engine == "a" ? fixture.A : fixture.B;
        var id = $"er-{engine}-1";
        await client.LogWriter(id).WriteAsync([new LogLine(null, LogStream.Stdout, "secret")], Ct);
        await using var scope = fixture.App.Services.CreateAsyncScope();
        using var hub = CreateHub(scope, user);

        var startError = await Record.ExceptionAsync(() => hub.Start(engine, id));
        var streamError = await Record.ExceptionAsync(async () =>
        {
            await foreach (var batch in hub.StreamLogs(engine, id, 10, Ct))
            {
                Assert.Equal("secret", Assert.Single(batch).Text);
                break;
            }
        });

        Assert.Equal(allowed, startError is null);
        Assert.Equal(allowed, streamError is null);
        Assert.Equal(allowed, client.Calls.Contains(("start", id)));
        if (!allowed)
        {
            Assert.Equal($"read logs of container {engine}/{id}: permission denied", Assert.IsType<HubException>(streamError).Message);
        }
    }

    [Theory]
    [InlineData("a", HttpStatusCode.NoContent)]
    [InlineData("b", HttpStatusCode.Forbidden)]
    public async Task ViewerWhoIsOperatorOnA_ApiStop_OnlyOnA(string engine, HttpStatusCode expected)
    {
        await fixture.CreateAsync($"er-viewer-{engine}", Roles.Viewer, ("a", Roles.Operator));
        using var bearer = fixture.App.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://localhost") });
        await using (var scope = fixture.App.Services.CreateAsyncScope())
        {
            var principal = await PrincipalAsync(scope, $"er-viewer-{engine}");
            var token = await scope.ServiceProvider.GetRequiredService<ApiTokenService>().CreateAsync(principal, "t", null, Ct);
            bearer.DefaultRequestHeaders.Authorization = new("Bearer", token.Token);
        }

        using var stop = await bearer.PostAsync($"/api/containers/er-api/stop?engine={engine}", null, Ct);
        using var logs = await bearer.GetAsync($"/api/containers/er-api/logs?engine={engine}", Ct);

        Assert.Equal(expected, stop.StatusCode);
        Assert.Equal(HttpStatusCode.OK, logs.StatusCode);
    }

    [Fact]
    public async Task GlobalAdmin_EngineRoleNone_StillAdminEverywhere()
    {
        var admin = await fixture.CreateAsync("er-admin2", Roles.Admin, ("b", EngineRoleAdministration.NoRole));
        await using var scope = fixture.App.Services.CreateAsyncScope();
        using var hub = CreateHub(scope, admin);

        await hub.Kill("b", "er-admin-kill");

        Assert.Contains(("kill", "er-admin-kill"), fixture.B.Calls);
    }

    [Fact]
    public async Task EngineRole_UnknownEngineOrRole_Refused()
    {
        var user = await fixture.CreateAsync("er-bad", Roles.Viewer);
        await using var scope = fixture.App.Services.CreateAsyncScope();
        var admin = scope.ServiceProvider.GetRequiredService<EngineRoleAdministration>();
        var id = user.FindFirstValue(ClaimTypes.NameIdentifier)!;

        await Assert.ThrowsAsync<UserAdministrationException>(() => admin.SetAsync(fixture.Admin, id, "nowhere", Roles.Operator, Ct));
        await Assert.ThrowsAsync<UserAdministrationException>(() => admin.SetAsync(fixture.Admin, id, "a", Roles.Admin, Ct));
        await Assert.ThrowsAsync<DashboardForbiddenException>(() => admin.SetAsync(user, id, "a", Roles.Operator, Ct));
        Assert.DoesNotContain(await admin.ListAsync(fixture.Admin, Ct), r => r.UserId == id);
    }

    private static async Task<ClaimsPrincipal> PrincipalAsync(AsyncServiceScope scope, string name)
    {
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<WebUser>>();
        return await scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.IUserClaimsPrincipalFactory<WebUser>>().CreateAsync((await users.FindByNameAsync(name))!);
    }

    private static ContainersHub CreateHub(AsyncServiceScope scope, ClaimsPrincipal principal)
    {
        var hub = ActivatorUtilities.CreateInstance<ContainersHub>(scope.ServiceProvider);
        hub.Context = new FakeHubCallerContext(principal);
        return hub;
    }
}
