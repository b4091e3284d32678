using System.Security.Claims;
using Dashboard.Web.Engines;
using Dashboard.Web.Hubs;
using Dashboard.Web.Identity;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Fakes;
using Dashboard.Web.Tests.Hosting;
using Dashboard.Web.Tests.Hubs;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Security;

/// <summary>Role × action against the real Identity store: page handlers and hub methods share one check (D5, D7).</summary>
public sealed class AuthorizationTests : IClassFixture<AuthorizationTests.Fixture>
{
    private static readonly ContainerAction[] s_actions = Enum.GetValues<ContainerAction>();
    private readonly Fixture _fixture;

    public AuthorizationTests(Fixture fixture) => _fixture = fixture;

    public static TheoryData<string, ContainerAction, bool> RoleActions()
    {
        var data = new TheoryData<string, ContainerAction, bool>();
        foreach (var action in s_actions)
        {
            data.Add(Roles.Admin, action, true);
            data.Add(Roles.Operator, action, true);
            data.Add(Roles.Viewer, action, false);
            data.Add("none", action, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RoleActions))]
    public async Task ContainerActions_RoleAndAction_AllowedExactlyWhenPolicySays(string role, ContainerAction action, bool allowed)
    {
        var principal = await _fixture.App.PrincipalAsync(UserFor(role));
        var id = $"c-{role}-{action}".ToLowerInvariant();

        var error = await Record.ExceptionAsync(() => RunAsync(principal, id, action));

        Assert.Equal(allowed, error is null);
        Assert.Equal(allowed, _fixture.App.Engine.Calls.Contains((action.ToString().ToLowerInvariant(), id)));
        if (!allowed)
        {
            Assert.IsType<DashboardForbiddenException>(error);
        }
    }

    [Theory]
    [MemberData(nameof(RoleActions))]
    public async Task HubMethod_RoleAndAction_AllowedExactlyWhenPolicySays(string role, ContainerAction action, bool allowed)
    {
        var principal = await _fixture.App.PrincipalAsync(UserFor(role));
        var id = $"h-{role}-{action}".ToLowerInvariant();
        await using var scope = _fixture.App.Services.CreateAsyncScope();
        using var hub = CreateHub(scope, principal);

        var error = await Record.ExceptionAsync(() => action switch
        {
            ContainerAction.Start => hub.Start("local", id),
            ContainerAction.Stop => hub.Stop("local", id),
            ContainerAction.Restart => hub.Restart("local", id),
            ContainerAction.Kill => hub.Kill("local", id),
            ContainerAction.Pause => hub.Pause("local", id),
            ContainerAction.Unpause => hub.Unpause("local", id),
            _ => hub.Remove("local", id),
        });

        Assert.Equal(allowed, error is null);
        Assert.Equal(allowed, _fixture.App.Engine.Calls.Contains((action.ToString().ToLowerInvariant(), id)));
        if (!allowed)
        {
            var hubError = Assert.IsType<HubException>(error);
            Assert.EndsWith("permission denied", hubError.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("Admin", true)]
    [InlineData("Operator", true)]
    [InlineData("Viewer", true)]
    [InlineData("none", false)]
    public async Task HubStreamLogs_Role_AllowedForEveryRole(string role, bool allowed)
    {
        var principal = await _fixture.App.PrincipalAsync(UserFor(role));
        var id = $"logs-{role}".ToLowerInvariant();
        await _fixture.App.Engine.LogWriter(id).WriteAsync([new LogLine(null, LogStream.Stdout, "hello")], TestContext.Current.CancellationToken);
        await using var scope = _fixture.App.Services.CreateAsyncScope();
        using var hub = CreateHub(scope, principal);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var error = await Record.ExceptionAsync(async () =>
        {
            await foreach (var batch in hub.StreamLogs("local", id, 100, cts.Token))
            {
                Assert.Equal("hello", Assert.Single(batch).Text);
                await cts.CancelAsync();
            }
        });

        Assert.Equal(allowed, error is null or OperationCanceledException);
        if (!allowed)
        {
            Assert.IsType<HubException>(error);
        }
    }

    [Theory]
    [InlineData("*")]
    [InlineData("../x")]
    [InlineData("..%2Fadmin")]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("-oProxyCommand=x")]
    public async Task HubMethod_InvalidContainerId_IsRefusedBeforeTheEngine(string id)
    {
        var principal = await _fixture.App.PrincipalAsync(UserFor(Roles.Admin));
        await using var scope = _fixture.App.Services.CreateAsyncScope();
        using var hub = CreateHub(scope, principal);

        await Assert.ThrowsAsync<HubException>(() => hub.Start("local", id));
        await Assert.ThrowsAsync<HubException>(async () =>
        {
            await foreach (var unused in hub.StreamLogs("local", id, 10, TestContext.Current.CancellationToken))
            {
                Assert.Fail("stream opened");
            }
        });
        Assert.DoesNotContain(_fixture.App.Engine.Calls, c => c.Id == id);
    }

    [Fact]
    public async Task HubMethod_UnknownEngine_IsRefused()
    {
        var principal = await _fixture.App.PrincipalAsync(UserFor(Roles.Admin));
        await using var scope = _fixture.App.Services.CreateAsyncScope();
        using var hub = CreateHub(scope, principal);

        var error = await Assert.ThrowsAsync<HubException>(() => hub.Start("elsewhere", "c1"));

        Assert.Equal("engine elsewhere: not configured", error.Message);
    }

    [Fact]
    public async Task RoleRevoked_DuringOpenSession_NextActionRefusedAndCircuitInvalidated()
    {
        await _fixture.App.CreateUserAsync("revoked-op", Roles.Operator);
        var principal = await _fixture.App.PrincipalAsync("revoked-op");
        await RunAsync(principal, "r1", ContainerAction.Stop);
        Assert.True(await ValidateCircuitAsync(principal));

        await _fixture.App.WithUsersAsync(async users =>
        {
            var user = (await users.FindByNameAsync("revoked-op"))!;
            await users.RemoveFromRoleAsync(user, Roles.Operator);
            await users.AddToRoleAsync(user, Roles.Viewer);
        });

        await Assert.ThrowsAsync<DashboardForbiddenException>(() => RunAsync(principal, "r2", ContainerAction.Stop));
        Assert.False(await ValidateCircuitAsync(principal));
        Assert.DoesNotContain(("stop", "r2"), _fixture.App.Engine.Calls);
    }

    [Fact]
    public async Task RoleRevoked_SignedInAgainAsViewer_StillRefused()
    {
        await _fixture.App.CreateUserAsync("demoted-op", Roles.Operator);
        await _fixture.App.WithUsersAsync(async users =>
            await users.RemoveFromRoleAsync((await users.FindByNameAsync("demoted-op"))!, Roles.Operator));
        await _fixture.App.WithUsersAsync(async users =>
            await users.AddToRoleAsync((await users.FindByNameAsync("demoted-op"))!, Roles.Viewer));
        var fresh = await _fixture.App.PrincipalAsync("demoted-op");

        await Assert.ThrowsAsync<DashboardForbiddenException>(() => RunAsync(fresh, "d1", ContainerAction.Kill));
        Assert.True(await ValidateCircuitAsync(fresh));
    }

    [Fact]
    public async Task LockedOutUser_OpenSession_IsRefused()
    {
        await _fixture.App.CreateUserAsync("locked-op", Roles.Operator);
        var principal = await _fixture.App.PrincipalAsync("locked-op");

        await _fixture.App.WithUsersAsync(async users =>
            await users.SetLockoutEndDateAsync((await users.FindByNameAsync("locked-op"))!, DateTimeOffset.UtcNow.AddHours(1)));

        await Assert.ThrowsAsync<DashboardForbiddenException>(() => RunAsync(principal, "l1", ContainerAction.Start));
    }

    [Theory]
    [InlineData("Admin", true)]
    [InlineData("Operator", true)]
    [InlineData("Viewer", false)]
    [InlineData("none", false)]
    public async Task ImageActions_Role_PullAndRemoveAllowedExactlyForOperatorAndAdmin(string role, bool allowed)
    {
        var principal = await _fixture.App.PrincipalAsync(UserFor(role));
        var reference = $"img-{role}:1".ToLowerInvariant();
        await using var scope = _fixture.App.Services.CreateAsyncScope();
        var images = scope.ServiceProvider.GetRequiredService<ImageActions>();

        var pullError = await Record.ExceptionAsync(async () =>
        {
            await foreach (var unused in images.PullAsync(principal, "local", reference, CancellationToken.None))
            {
            }
        });
        var removeError = await Record.ExceptionAsync(() => images.RemoveAsync(principal, "local", reference, CancellationToken.None));

        Assert.Equal(allowed, pullError is null);
        Assert.Equal(allowed, removeError is null);
        Assert.Equal(allowed, _fixture.App.Engine.Calls.Contains(("pull", reference)));
        Assert.Equal(allowed, _fixture.App.Engine.Calls.Contains(("remove-image", reference)));
    }

    [Fact]
    public async Task DeniedAction_IsAudited()
    {
        var principal = await _fixture.App.PrincipalAsync(UserFor(Roles.Viewer));
        var audit = _fixture.App.Services.GetRequiredService<IAuditLog>();

        await Assert.ThrowsAsync<DashboardForbiddenException>(() => RunAsync(principal, "audited1", ContainerAction.Remove));

        Assert.Contains(audit.Recent(100), e => e.Outcome == AuditOutcome.Denied && e.Target == "container local/audited1" && e.User == UserFor(Roles.Viewer));
    }

    private static string UserFor(string role) => $"user-{role.ToLowerInvariant()}";

    private static ContainersHub CreateHub(AsyncServiceScope scope, ClaimsPrincipal principal)
    {
        var hub = ActivatorUtilities.CreateInstance<ContainersHub>(scope.ServiceProvider);
        hub.Context = new FakeHubCallerContext(principal);
        return hub;
    }

    private async Task RunAsync(ClaimsPrincipal principal, string id, ContainerAction action)
    {
        await using var scope = _fixture.App.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ContainerActions>().RunAsync(principal, "local", id, action, CancellationToken.None);
    }

    private async Task<bool> ValidateCircuitAsync(ClaimsPrincipal principal)
    {
        await using var scope = _fixture.App.Services.CreateAsyncScope();
        var provider = (RevalidatingIdentityStateProvider)scope.ServiceProvider.GetRequiredService<AuthenticationStateProvider>();
        return await provider.ValidateAsync(new AuthenticationState(principal), CancellationToken.None);
    }

    public sealed class Fixture : IAsyncLifetime
    {
        public WebAppFactory App { get; } = new();

        public async ValueTask InitializeAsync()
        {
            _ = App.Services;
            await App.CreateUserAsync(UserFor(Roles.Admin), Roles.Admin);
            await App.CreateUserAsync(UserFor(Roles.Operator), Roles.Operator);
            await App.CreateUserAsync(UserFor(Roles.Viewer), Roles.Viewer);
            await App.CreateUserAsync(UserFor("none"));
        }

        public ValueTask DisposeAsync()
        {
            App.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
