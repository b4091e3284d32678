using System.Net;
using System.Security.Claims;
using Dashboard.Web.Engines;
using Dashboard.Web.Hubs;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Api;
using Dashboard.Web.Tests.Fakes;
using Dashboard.Web.Tests.Hosting;
using Dashboard.Web.Tests.Hubs;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Security;

/// <summary>
/// Role × action over every surface (page, hub method, API endpoint) against the real app: each action is allowed
/// exactly for the roles at or above its least role (security.md D2 "API and UI share one enforcement point", D7).
/// </summary>
public sealed class AuthorizationMatrixTests(AuthorizationMatrixTests.Fixture fixture) : IClassFixture<AuthorizationMatrixTests.Fixture>
{
    private const string None = "none";
    private static readonly string[] s_roles = [None, Roles.Viewer, Roles.Operator, Roles.Admin];

    /// <summary>The table: surface and action, and the least role allowed to do it.</summary>
    private static readonly (string Action, string LeastRole)[] s_table =
    [
        ("page:/containers", Roles.Viewer),
        ("page:/containers buttons", Roles.Operator),
        ("page:/containers/new", Roles.Operator),
        ("page:/images registries", Roles.Admin),
        ("page:/users", Roles.Admin),
        ("page:/audit", Roles.Admin),
        ("page:/profile", None),
        ("get:/audit.csv", Roles.Admin),
        ("hub:Start", Roles.Operator),
        ("hub:Stop", Roles.Operator),
        ("hub:Restart", Roles.Operator),
        ("hub:Kill", Roles.Operator),
        ("hub:Pause", Roles.Operator),
        ("hub:Unpause", Roles.Operator),
        ("hub:Remove", Roles.Operator),
        ("hub:StreamLogs", Roles.Viewer),
        ("api:GET /api/containers", Roles.Viewer),
        ("api:POST /api/containers", Roles.Operator),
        ("api:POST /api/containers privileged", Roles.Admin),
        ("api:POST /api/containers/{id}/start", Roles.Operator),
        ("api:POST /api/containers/{id}/stop", Roles.Operator),
        ("api:POST /api/containers/{id}/restart", Roles.Operator),
        ("api:POST /api/containers/{id}/kill", Roles.Operator),
        ("api:DELETE /api/containers/{id}", Roles.Operator),
        ("api:GET /api/containers/{id}/logs", Roles.Viewer),
        ("api:GET /api/images", Roles.Viewer),
        ("api:POST /api/images/pull", Roles.Operator),
        ("api:GET /api/tokens", None),
    ];

    private readonly WebAppFactory _app = fixture.App;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, bool> Matrix()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var (action, least) in s_table)
        {
            foreach (var role in s_roles)
            {
                data.Add(action, role, Array.IndexOf(s_roles, role) >= Array.IndexOf(s_roles, least));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task RoleAndAction_AllowedExactlyWhenTableSays(string action, string role, bool allowed)
    {
        var surface = action[..action.IndexOf(':', StringComparison.Ordinal)];
        var what = action[(surface.Length + 1)..];
        var id = $"m-{role}-{Math.Abs(StableHash(action))}".ToLowerInvariant();

        var outcome = surface switch
        {
            "page" => await PageAsync(role, what),
            "get" => await CookieGetAsync(role, what),
            "hub" => await HubAsync(role, what, id),
            _ => await ApiAsync(role, what, id),
        };

        Assert.Equal(allowed, outcome);
    }

    [Fact]
    public void Table_CoversEveryHubMethodAndApiEndpoint()
    {
        var hubMethods = typeof(ContainersHub).GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName).Select(m => "hub:" + m.Name);
        Assert.All(hubMethods, m => Assert.Contains(s_table, row => row.Action == m));

        var endpoints = _app.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true && e.RoutePattern.RawText != "/api/antiforgery")
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IHttpMethodMetadata>()?.HttpMethods ?? []).Select(m => $"api:{m} {e.RoutePattern.RawText}"))
            .Where(e => !e.Contains("/api/tokens", StringComparison.Ordinal) || e == "api:GET /api/tokens")
            .ToList();
        Assert.NotEmpty(endpoints);
        Assert.All(endpoints, e => Assert.Contains(s_table, row => row.Action == e));
    }

    private async Task<bool> PageAsync(string role, string what)
    {
        var browser = fixture.Browsers[role];
        var path = what.Split(' ')[0];
        var html = await browser.GetStringAsync(path, Ct);
        return what switch
        {
            "/containers" => html.Contains("data-testid=\"container-name\"", StringComparison.Ordinal),
            "/containers buttons" => html.Contains("data-testid=\"action-stop\"", StringComparison.Ordinal),
            "/containers/new" => html.Contains("data-testid=\"create-form\"", StringComparison.Ordinal),
            "/users" => html.Contains("data-testid=\"users-table\"", StringComparison.Ordinal),
            "/audit" => html.Contains("data-testid=\"audit-table\"", StringComparison.Ordinal),
            "/images registries" => html.Contains("data-testid=\"registries-panel\"", StringComparison.Ordinal),
            _ => html.Contains("data-testid=\"tokens-section\"", StringComparison.Ordinal),
        };
    }

    private async Task<bool> CookieGetAsync(string role, string path)
    {
        using var response = await fixture.Browsers[role].GetAsync(path, Ct);
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Forbidden or HttpStatusCode.Redirect, $"{path}: {response.StatusCode}");
        return response.StatusCode == HttpStatusCode.OK;
    }

    private async Task<bool> HubAsync(string role, string method, string id)
    {
        var principal = await _app.PrincipalAsync(Fixture.UserName(role));
        await using var scope = _app.Services.CreateAsyncScope();
        using var hub = ActivatorUtilities.CreateInstance<ContainersHub>(scope.ServiceProvider);
        hub.Context = new FakeHubCallerContext(principal);
        if (method == "StreamLogs")
        {
            await _app.Engine.LogWriter(id).WriteAsync([new LogLine(null, LogStream.Stdout, "x")], Ct);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            try
            {
                await foreach (var unused in hub.StreamLogs("local", id, 10, cts.Token))
                {
                    return true;
                }
            }
            catch (HubException e)
            {
                Assert.EndsWith("permission denied", e.Message, StringComparison.Ordinal);
                return false;
            }

            Assert.Fail("stream ended without a batch");
        }

        var call = method switch
        {
            "Start" => hub.Start("local", id),
            "Stop" => hub.Stop("local", id),
            "Restart" => hub.Restart("local", id),
            "Kill" => hub.Kill("local", id),
            "Pause" => hub.Pause("local", id),
            "Unpause" => hub.Unpause("local", id),
            _ => hub.Remove("local", id),
        };
        var error = await Record.ExceptionAsync(() => call);
        var reached = _app.Engine.Calls.Contains((method.ToLowerInvariant(), id));
        Assert.Equal(error is null, reached);
        if (error is not null)
        {
            Assert.EndsWith("permission denied", Assert.IsType<HubException>(error).Message, StringComparison.Ordinal);
        }

        return error is null;
    }

    private async Task<bool> ApiAsync(string role, string what, string id)
    {
        var parts = what.Split(' ');

        // Token management is for signed-in users only (a token cannot manage tokens): the cookie is used there.
        var client = parts[1].StartsWith("/api/tokens", StringComparison.Ordinal) ? fixture.Browsers[role] : fixture.Bearers[role];
        var path = parts[1].Replace("{id}", id, StringComparison.Ordinal);
        using var request = new HttpRequestMessage(new HttpMethod(parts[0]), path);
        if (what == "POST /api/containers")
        {
            request.Content = ApiTestClient.Json($$"""{"image":"busybox","name":"{{id}}"}""");
        }
        else if (what == "POST /api/containers privileged")
        {
            request.Content = ApiTestClient.Json($$"""{"image":"busybox","name":"{{id}}","privileged":true}""");
        }
        else if (what == "POST /api/images/pull")
        {
            request.Content = ApiTestClient.Json($$"""{"image":"{{id}}:1"}""");
        }

        using var response = await client.SendAsync(request, Ct);
        Assert.True(response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.Forbidden, $"{what}: {response.StatusCode}");
        if (response.StatusCode == HttpStatusCode.Forbidden)
        {
            Assert.Contains("permission denied", await ApiTestClient.MessageAsync(response), StringComparison.Ordinal);
        }

        return response.IsSuccessStatusCode;
    }

    private static int StableHash(string s) => s.Aggregate(17, (h, c) => unchecked((h * 31) + c));

    public sealed class Fixture : IAsyncLifetime
    {
        public WebAppFactory App { get; } = new();

        public Dictionary<string, HttpClient> Browsers { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, HttpClient> Bearers { get; } = new(StringComparer.Ordinal);

        public static string UserName(string role) => $"matrix-{role.ToLowerInvariant()}";

        public async ValueTask InitializeAsync()
        {
            App.Engine.SetContainer(FakeEngineClient.Container("matrix1", "matrix-web", ContainerState.Running));
            foreach (var role in s_roles)
            {
                await App.CreateUserAsync(UserName(role), role == None ? [] : [role]);
                Browsers[role] = await App.SignedInBrowserAsync(UserName(role));
                Bearers[role] = ApiTestClient.Bearer(App, await ApiTestClient.CreateTokenAsync(App, UserName(role)));
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var client in Browsers.Values.Concat(Bearers.Values))
            {
                client.Dispose();
            }

            await App.DisposeAsync();
        }
    }
}
