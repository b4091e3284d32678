using System.Net;
using Dashboard.Web.Hosting;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Fakes;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dashboard.Web.Tests.Hosting;

public sealed class WebAppTests : IDisposable
{
    private readonly WebAppFactory _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task Healthz_Anonymous_ReturnsOkWithSecurityHeaders()
    {
        using var client = _app.CreateBrowser();

        using var response = await client.GetAsync("/healthz", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/containers")]
    [InlineData("/containers/local/c1")]
    public async Task ProtectedPage_Anonymous_RedirectsToLogin(string path)
    {
        using var client = _app.CreateBrowser();

        using var response = await client.GetAsync(path, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("https://localhost/account/login?returnUrl=", response.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoginPage_FirstRun_OffersSetupAndAntiforgeryToken()
    {
        using var client = _app.CreateBrowser();

        var html = await client.GetStringAsync("/account/login", TestContext.Current.CancellationToken);

        Assert.Contains("name=\"__RequestVerificationToken\"", html, StringComparison.Ordinal);
        Assert.Contains("action=\"/account/signin\"", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"setup-link\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bootstrap_WrongSecret_CreatesNoAdmin()
    {
        using var client = _app.CreateBrowser();
        var token = await WebAppFactory.AntiforgeryTokenAsync(client, "/account/setup");

        using var response = await WebAppFactory.PostFormAsync(client, "/account/bootstrap", token,
            ("Secret", "guess-guess-guess-guess"), ("UserName", "mallory"), ("Password", WebAppFactory.Password), ("ConfirmPassword", WebAppFactory.Password));

        Assert.Equal("/account/setup?error=secret", response.Headers.Location?.OriginalString);
        Assert.True(File.Exists(_app.SecretFile));
        await _app.WithUsersAsync(async users => Assert.Null(await users.FindByNameAsync("mallory")));
    }

    [Fact]
    public async Task Bootstrap_RightSecret_CreatesAdminOnceAndConsumesSecret()
    {
        using var client = _app.CreateBrowser();
        var token = await WebAppFactory.AntiforgeryTokenAsync(client, "/account/setup");

        using var first = await WebAppFactory.PostFormAsync(client, "/account/bootstrap", token,
            ("Secret", WebAppFactory.Secret), ("UserName", "admin"), ("Password", WebAppFactory.Password), ("ConfirmPassword", WebAppFactory.Password));
        using var second = await WebAppFactory.PostFormAsync(client, "/account/bootstrap", token,
            ("Secret", WebAppFactory.Secret), ("UserName", "second"), ("Password", WebAppFactory.Password), ("ConfirmPassword", WebAppFactory.Password));

        Assert.Equal("/account/login?created=1", first.Headers.Location?.OriginalString);
        Assert.Equal("/account/login", second.Headers.Location?.OriginalString);
        Assert.False(File.Exists(_app.SecretFile));
        await _app.WithUsersAsync(async users =>
        {
            Assert.True(await users.IsInRoleAsync((await users.FindByNameAsync("admin"))!, Roles.Admin));
            Assert.Null(await users.FindByNameAsync("second"));
        });
        var html = await client.GetStringAsync("/account/setup", TestContext.Current.CancellationToken);
        Assert.Contains("data-testid=\"setup-done\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bootstrap_ShortPassword_IsRejectedByPolicy()
    {
        using var client = _app.CreateBrowser();
        var token = await WebAppFactory.AntiforgeryTokenAsync(client, "/account/setup");

        using var response = await WebAppFactory.PostFormAsync(client, "/account/bootstrap", token,
            ("Secret", WebAppFactory.Secret), ("UserName", "admin"), ("Password", "short"), ("ConfirmPassword", "short"));

        Assert.StartsWith("/account/setup?error=account", response.Headers.Location?.OriginalString, StringComparison.Ordinal);
        Assert.True(File.Exists(_app.SecretFile));
    }

    [Fact]
    public async Task SignIn_WithoutAntiforgeryToken_IsRejected()
    {
        await _app.CreateUserAsync("alice", Roles.Operator);
        using var client = _app.CreateBrowser();
        await client.GetStringAsync("/account/login", TestContext.Current.CancellationToken);

        using var response = await WebAppFactory.PostFormAsync(client, "/account/signin", null, ("UserName", "alice"), ("Password", WebAppFactory.Password));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task SignIn_CorrectPassword_SetsHostPrefixedSecureCookieAndOpensContainers()
    {
        await _app.CreateUserAsync("alice", Roles.Viewer);
        _app.Engine.SetContainer(FakeEngineClient.Container("c1", "web-frontend", Dashboard.Web.Engines.ContainerState.Running));
        using var client = _app.CreateBrowser();
        var token = await WebAppFactory.AntiforgeryTokenAsync(client, "/account/login");

        using var response = await WebAppFactory.PostFormAsync(client, "/account/signin", token, ("UserName", "alice"), ("Password", WebAppFactory.Password));

        Assert.Equal("/", response.Headers.Location?.OriginalString);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("__Host-dashboard=", StringComparison.Ordinal));
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        var html = await client.GetStringAsync("/containers", TestContext.Current.CancellationToken);
        Assert.Contains("web-frontend", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_OpenRedirectReturnUrl_GoesHome()
    {
        await _app.CreateUserAsync("alice", Roles.Viewer);
        using var client = _app.CreateBrowser();
        var token = await WebAppFactory.AntiforgeryTokenAsync(client, "/account/login");

        using var response = await WebAppFactory.PostFormAsync(client, "/account/signin", token,
            ("UserName", "alice"), ("Password", WebAppFactory.Password), ("ReturnUrl", "//evil.test/phish"));

        Assert.Equal("/", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task SignIn_RepeatedWrongPasswords_LockOutEvenTheRightPassword()
    {
        await _app.CreateUserAsync("alice", Roles.Admin);
        using var client = _app.CreateBrowser();
        var token = await WebAppFactory.AntiforgeryTokenAsync(client, "/account/login");

        for (var i = 0; i < 5; i++)
        {
            using var wrong = await WebAppFactory.PostFormAsync(client, "/account/signin", token, ("UserName", "alice"), ("Password", "wrong password " + i));
            Assert.StartsWith("/account/login?error=", wrong.Headers.Location?.OriginalString, StringComparison.Ordinal);
        }

        using var right = await WebAppFactory.PostFormAsync(client, "/account/signin", token, ("UserName", "alice"), ("Password", WebAppFactory.Password));

        Assert.StartsWith("/account/login?error=locked", right.Headers.Location?.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_UnknownUser_LooksLikeWrongPassword()
    {
        using var client = _app.CreateBrowser();
        var token = await WebAppFactory.AntiforgeryTokenAsync(client, "/account/login");

        using var response = await WebAppFactory.PostFormAsync(client, "/account/signin", token, ("UserName", "nobody"), ("Password", "whatever-whatever"));

        Assert.StartsWith("/account/login?error=invalid", response.Headers.Location?.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_TooManyAttemptsFromOneAddress_Returns429()
    {
        using var app = new WebAppFactory { LoginAttemptsPerMinute = 3 };
        using var client = app.CreateBrowser();
        var token = await WebAppFactory.AntiforgeryTokenAsync(client, "/account/login");
        var statuses = new List<HttpStatusCode>();

        for (var i = 0; i < 5; i++)
        {
            using var response = await WebAppFactory.PostFormAsync(client, "/account/signin", token, ("UserName", $"user{i}"), ("Password", "x"));
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Redirect, HttpStatusCode.Redirect, HttpStatusCode.Redirect, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    [Theory]
    [InlineData("/_blazor/negotiate?negotiateVersion=1")]
    [InlineData("/hubs/containers/negotiate?negotiateVersion=1")]
    public async Task Negotiate_CrossOrigin_IsRefusedEvenWhenSignedIn(string path)
    {
        await _app.CreateUserAsync("alice", Roles.Admin);
        using var client = await _app.SignedInBrowserAsync("alice");
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Headers.Add("Origin", "https://evil.test");

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Theory]
    [InlineData("https://localhost")]
    [InlineData("https://trusted.test")]
    public async Task HubNegotiate_AllowedOriginSignedIn_Succeeds(string origin)
    {
        await _app.CreateUserAsync("alice", Roles.Viewer);
        using var client = await _app.SignedInBrowserAsync("alice");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hubs/containers/negotiate?negotiateVersion=1");
        request.Headers.Add("Origin", origin);

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task HubNegotiate_Anonymous_IsNotServed()
    {
        using var client = _app.CreateBrowser();

        using var response = await client.PostAsync("/hubs/containers/negotiate?negotiateVersion=1", null, TestContext.Current.CancellationToken);

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Redirect, response.StatusCode.ToString());
    }

    [Fact]
    public void HubOptions_MessageSizeLimit_Is32KiB()
    {
        var hub = _app.Services.GetRequiredService<IOptions<HubOptions>>().Value;

        Assert.Equal(WebApp.MaxReceiveMessageSize, hub.MaximumReceiveMessageSize);
        Assert.Equal(32 * 1024, WebApp.MaxReceiveMessageSize);
    }

    [Theory]
    [InlineData("Admin", HttpStatusCode.OK)]
    [InlineData("Operator", HttpStatusCode.Redirect)]
    [InlineData("Viewer", HttpStatusCode.Redirect)]
    public async Task AuditCsv_OnlyAdminDownloads(string role, HttpStatusCode expected)
    {
        await _app.CreateUserAsync("alice", role);
        using var client = await _app.SignedInBrowserAsync("alice");

        using var response = await client.GetAsync("/audit.csv", TestContext.Current.CancellationToken);

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.OK)
        {
            Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
            Assert.StartsWith("time,user,action,target,outcome,detail", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SignOut_WithToken_EndsSession()
    {
        await _app.CreateUserAsync("alice", Roles.Viewer);
        using var client = await _app.SignedInBrowserAsync("alice");
        var token = await WebAppFactory.AntiforgeryTokenAsync(client, "/containers");

        using var response = await WebAppFactory.PostFormAsync(client, "/account/signout", token);
        using var after = await client.GetAsync("/containers", TestContext.Current.CancellationToken);

        Assert.Equal("/account/login", response.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
    }
}
