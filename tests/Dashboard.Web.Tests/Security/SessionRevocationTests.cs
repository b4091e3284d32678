using System.Net;
using System.Security.Claims;
using Dashboard.Web.Engines;
using Dashboard.Web.Hubs;
using Dashboard.Web.Identity;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Api;
using Dashboard.Web.Tests.Hosting;
using Dashboard.Web.Tests.Hubs;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Security;

/// <summary>Role changes and sign-out everywhere reach open circuits, cookies and hub streams at once (D5, D7).</summary>
public sealed class SessionRevocationTests(SessionRevocationTests.Fixture fixture) : IClassFixture<SessionRevocationTests.Fixture>
{
    private readonly WebAppFactory _app = fixture.App;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public sealed class Fixture : IAsyncLifetime
    {
        public WebAppFactory App { get; } = new();

        public ClaimsPrincipal Admin { get; private set; } = default!;

        public async ValueTask InitializeAsync()
        {
            await App.CreateUserAsync("sess-admin", Roles.Admin);
            Admin = await App.PrincipalAsync("sess-admin");
        }

        public async ValueTask DisposeAsync() => await App.DisposeAsync();
    }

    [Fact]
    public async Task AdminChangesRole_OpenCircuit_GetsNewRolesAtOnceAndHubRefuses()
    {
        var user = await _app.CreateUserAsync("sess-op", Roles.Operator);
        var principal = await _app.PrincipalAsync("sess-op");
        await using var circuit = _app.Services.CreateAsyncScope();
        var provider = await OpenCircuitAsync(circuit, principal);

        await AdministerAsync(scope => scope.ServiceProvider.GetRequiredService<UserAdministration>().SetRoleAsync(fixture.Admin, user.Id, Roles.Viewer, Ct));

        var now = (await provider.GetAuthenticationStateAsync()).User;
        Assert.True(now.Identity?.IsAuthenticated);
        Assert.True(now.IsInRole(Roles.Viewer));
        Assert.False(now.IsInRole(Roles.Operator));
        await using var hubScope = _app.Services.CreateAsyncScope();
        using var hub = CreateHub(hubScope, principal);
        var error = await Assert.ThrowsAsync<HubException>(() => hub.Stop("local", "sess-c1"));
        Assert.Equal("stop container local/sess-c1: permission denied", error.Message);
        Assert.DoesNotContain(("stop", "sess-c1"), _app.Engine.Calls);
    }

    [Fact]
    public async Task SignOutEverywhere_OpenCircuitSignedOutAndOtherCookiesRefused()
    {
        await _app.CreateUserAsync("sess-everywhere", Roles.Operator);
        using var first = await _app.SignedInBrowserAsync("sess-everywhere");
        using var second = await _app.SignedInBrowserAsync("sess-everywhere");
        await using var circuit = _app.Services.CreateAsyncScope();
        var provider = await OpenCircuitAsync(circuit, await _app.PrincipalAsync("sess-everywhere"));
        using (var before = await second.GetAsync("/api/containers", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        var token = await WebAppFactory.AntiforgeryTokenAsync(first, "/profile");
        using var signOut = await WebAppFactory.PostFormAsync(first, "/account/signout-everywhere", token);

        Assert.Equal("/account/login", signOut.Headers.Location?.OriginalString);
        Assert.False((await provider.GetAuthenticationStateAsync()).User.Identity?.IsAuthenticated);
        using var after = await second.GetAsync("/api/containers", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        using var page = await second.GetAsync("/containers", Ct);
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
    }

    [Fact]
    public async Task EngineRoleRevoked_OpenLogStream_EndsWithPermissionDenied()
    {
        var user = await _app.CreateUserAsync("sess-streamer", Roles.Viewer);
        var principal = await _app.PrincipalAsync("sess-streamer");
        await _app.Engine.LogWriter("sess-logs").WriteAsync([new LogLine(null, LogStream.Stdout, "first")], Ct);
        await using var hubScope = _app.Services.CreateAsyncScope();
        using var hub = CreateHub(hubScope, principal);
        var notifier = _app.Services.GetRequiredService<SessionNotifier>();

        var error = await Assert.ThrowsAsync<HubException>(async () =>
        {
            await foreach (var batch in hub.StreamLogs("local", "sess-logs", 10, Ct))
            {
                Assert.Equal("first", Assert.Single(batch).Text);
                Assert.Equal(1, notifier.SubscriberCount(user.Id));
                await AdministerAsync(scope => scope.ServiceProvider.GetRequiredService<EngineRoleAdministration>()
                    .SetAsync(fixture.Admin, user.Id, "local", EngineRoleAdministration.NoRole, Ct));
            }
        });

        Assert.Equal("read logs of container local/sess-logs: permission denied", error.Message);
        Assert.Equal(0, notifier.SubscriberCount(user.Id));
    }

    [Fact]
    public async Task UnrelatedUserChanged_OpenLogStream_Continues()
    {
        var streamer = await _app.CreateUserAsync("sess-calm", Roles.Viewer);
        var other = await _app.CreateUserAsync("sess-other", Roles.Operator);
        var principal = await _app.PrincipalAsync("sess-calm");
        var writer = _app.Engine.LogWriter("sess-calm-logs");
        await writer.WriteAsync([new LogLine(null, LogStream.Stdout, "one")], Ct);
        await using var hubScope = _app.Services.CreateAsyncScope();
        using var hub = CreateHub(hubScope, principal);
        var seen = new List<string>();

        await foreach (var batch in hub.StreamLogs("local", "sess-calm-logs", 10, Ct))
        {
            seen.AddRange(batch.Select(l => l.Text));
            if (seen.Count == 1)
            {
                await AdministerAsync(scope => scope.ServiceProvider.GetRequiredService<UserAdministration>().SetRoleAsync(fixture.Admin, other.Id, Roles.Viewer, Ct));
                await writer.WriteAsync([new LogLine(null, LogStream.Stdout, "two")], Ct);
            }
            else
            {
                break;
            }
        }

        Assert.Equal(["one", "two"], seen);
        Assert.NotNull(streamer);
    }

    [Fact]
    public async Task ClosedCircuit_Unsubscribes()
    {
        var user = await _app.CreateUserAsync("sess-closed", Roles.Viewer);
        var notifier = _app.Services.GetRequiredService<SessionNotifier>();
        var circuit = _app.Services.CreateAsyncScope();
        await OpenCircuitAsync(circuit, await _app.PrincipalAsync("sess-closed"));
        Assert.Equal(1, notifier.SubscriberCount(user.Id));

        await circuit.DisposeAsync();

        Assert.Equal(0, notifier.SubscriberCount(user.Id));
    }

    /// <summary>What the Blazor host does when a circuit starts: hands the provider the cookie's principal.</summary>
    private async Task<RevalidatingIdentityStateProvider> OpenCircuitAsync(AsyncServiceScope circuit, ClaimsPrincipal principal)
    {
        var provider = (RevalidatingIdentityStateProvider)circuit.ServiceProvider.GetRequiredService<AuthenticationStateProvider>();
        provider.SetAuthenticationState(Task.FromResult(new AuthenticationState(principal)));
        var notifier = _app.Services.GetRequiredService<SessionNotifier>();
        var id = principal.FindFirstValue(ClaimTypes.NameIdentifier)!;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); notifier.SubscriberCount(id) == 0 && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(10, Ct);
        }

        Assert.Equal(1, notifier.SubscriberCount(id));
        return provider;
    }

    private async Task AdministerAsync(Func<AsyncServiceScope, Task> action)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        await action(scope);
    }

    private static ContainersHub CreateHub(AsyncServiceScope scope, ClaimsPrincipal principal)
    {
        var hub = ActivatorUtilities.CreateInstance<ContainersHub>(scope.ServiceProvider);
        hub.Context = new FakeHubCallerContext(principal);
        return hub;
    }
}
