using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dashboard.Web.Api;
using Dashboard.Web.Identity;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Api;

public sealed class ApiTokenTests(ApiTokenTests.Fixture fixture) : IClassFixture<ApiTokenTests.Fixture>
{
    private readonly WebAppFactory _app = fixture.App;

    public sealed class Fixture : IDisposable
    {
        public WebAppFactory App { get; } = new();

        public void Dispose() => App.Dispose();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CreateToken_CookieWithAntiforgery_ShownOnceAndStoredHashed()
    {
        await _app.CreateUserAsync("tok-op", Roles.Operator);
        using var browser = await _app.SignedInBrowserAsync("tok-op");
        await ApiTestClient.AddAntiforgeryAsync(browser);

        using var created = await browser.PostAsync("/api/tokens", ApiTestClient.Json("""{"name":"ci script","expiresAt":"2099-01-01T00:00:00Z"}"""), Ct);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var token = body.GetProperty("token").GetString()!;
        Assert.StartsWith(ApiTokenService.Prefix, token, StringComparison.Ordinal);
        Assert.True(ApiTokenService.TryParseToken(token, out var id, out var secret));
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            var row = await scope.ServiceProvider.GetRequiredService<WebDbContext>().ApiTokens.SingleAsync(t => t.Id == id, Ct);
            Assert.Equal("ci script", row.Name);
            Assert.DoesNotContain(secret, row.SecretHash, StringComparison.Ordinal);
            Assert.Equal(64, row.SecretHash.Length);
        }

        var listed = await browser.GetStringAsync("/api/tokens", Ct);
        Assert.Contains(id, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, listed, StringComparison.Ordinal);
        using var bearer = ApiTestClient.Bearer(_app, token);
        using var containers = await bearer.GetAsync("/api/containers", Ct);
        Assert.Equal(HttpStatusCode.OK, containers.StatusCode);
        Assert.Contains(_app.Services.GetRequiredService<IAuditLog>().Recent(50), e => e.Action == "CreateApiToken" && e.User == "tok-op");
    }

    [Fact]
    public async Task CreateToken_CookieWithoutAntiforgery_Refused()
    {
        await _app.CreateUserAsync("tok-csrf", Roles.Operator);
        using var browser = await _app.SignedInBrowserAsync("tok-csrf");

        using var response = await browser.PostAsync("/api/tokens", ApiTestClient.Json("""{"name":"x"}"""), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("antiforgery", await ApiTestClient.MessageAsync(response), StringComparison.Ordinal);
        await using var scope = _app.Services.CreateAsyncScope();
        var user = await ApiTestClient.FindAsync(_app, "tok-csrf");
        Assert.Equal(0, await scope.ServiceProvider.GetRequiredService<WebDbContext>().ApiTokens.CountAsync(t => t.UserId == user.Id, Ct));
    }

    [Fact]
    public async Task CreateToken_WithBearerToken_Refused()
    {
        using var bearer = await ApiTestClient.BearerForNewUserAsync(_app, "tok-mint", Roles.Admin);

        using var response = await bearer.PostAsync("/api/tokens", ApiTestClient.Json("""{"name":"second"}"""), Ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("a token cannot manage tokens", await ApiTestClient.MessageAsync(response), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("dsh_nonsense")]
    [InlineData("dsh_0123456789abcdef01234567_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task Bearer_InvalidToken_Unauthorized(string token)
    {
        using var client = _app.CreateBrowser();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + token);

        using var response = await client.GetAsync("/api/containers", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.StartsWith("authentication required", await ApiTestClient.MessageAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bearer_WrongSecretForRealId_Unauthorized()
    {
        await _app.CreateUserAsync("tok-guess", Roles.Admin);
        var token = await ApiTestClient.CreateTokenAsync(_app, "tok-guess");
        Assert.True(ApiTokenService.TryParseToken(token, out var id, out _));
        using var client = ApiTestClient.Bearer(_app, $"{ApiTokenService.Prefix}{id}_{new string('A', 43)}");

        using var response = await client.GetAsync("/api/containers", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Anonymous_Api_UnauthorizedJsonNotRedirect()
    {
        using var client = _app.CreateBrowser();

        using var response = await client.GetAsync("/api/images", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("authentication required", await ApiTestClient.MessageAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bearer_OutsideApi_NotAccepted()
    {
        using var bearer = await ApiTestClient.BearerForNewUserAsync(_app, "tok-page", Roles.Admin);

        using var response = await bearer.GetAsync("/containers", Ct);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("https://localhost/account/login", response.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bearer_ExpiredToken_Unauthorized()
    {
        await _app.CreateUserAsync("tok-exp", Roles.Admin);
        var token = await ApiTestClient.CreateTokenAsync(_app, "tok-exp", DateTimeOffset.UtcNow.AddHours(1));
        using var client = ApiTestClient.Bearer(_app, token);
        using (var before = await client.GetAsync("/api/containers", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        Assert.True(ApiTokenService.TryParseToken(token, out var id, out _));
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<WebDbContext>();
            var row = await db.ApiTokens.SingleAsync(t => t.Id == id, Ct);
            row.ExpiresAt = DateTimeOffset.UtcNow.AddSeconds(-1);
            await db.SaveChangesAsync(Ct);
        }

        using var after = await client.GetAsync("/api/containers", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task RevokedToken_Unauthorized()
    {
        await _app.CreateUserAsync("tok-rev", Roles.Operator);
        using var browser = await _app.SignedInBrowserAsync("tok-rev");
        await ApiTestClient.AddAntiforgeryAsync(browser);
        using var created = await browser.PostAsync("/api/tokens", ApiTestClient.Json("""{"name":"temp"}"""), Ct);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>(Ct);
        using var bearer = ApiTestClient.Bearer(_app, body.GetProperty("token").GetString()!);

        using var revoked = await browser.DeleteAsync($"/api/tokens/{body.GetProperty("id").GetString()}", Ct);
        using var after = await bearer.GetAsync("/api/containers", Ct);
        using var again = await browser.DeleteAsync($"/api/tokens/{body.GetProperty("id").GetString()}", Ct);

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Revoke_OtherUsersToken_NotFound()
    {
        await _app.CreateUserAsync("tok-owner", Roles.Operator);
        await _app.CreateUserAsync("tok-thief", Roles.Admin);
        var token = await ApiTestClient.CreateTokenAsync(_app, "tok-owner");
        Assert.True(ApiTokenService.TryParseToken(token, out var id, out _));
        using var thief = await _app.SignedInBrowserAsync("tok-thief");
        await ApiTestClient.AddAntiforgeryAsync(thief);

        using var response = await thief.DeleteAsync($"/api/tokens/{id}", Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var owner = ApiTestClient.Bearer(_app, token);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync("/api/containers", Ct)).StatusCode);
    }

    [Fact]
    public async Task Token_CarriesOwnersRoleAtUseTime()
    {
        using var bearer = await ApiTestClient.BearerForNewUserAsync(_app, "tok-demoted", Roles.Operator);
        using (var allowed = await bearer.PostAsync("/api/containers/c1/stop", null, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
        }

        await _app.WithUsersAsync(async users =>
        {
            var user = (await users.FindByNameAsync("tok-demoted"))!;
            await users.RemoveFromRoleAsync(user, Roles.Operator);
            await users.AddToRoleAsync(user, Roles.Viewer);
        });

        using var denied = await bearer.PostAsync("/api/containers/c2/stop", null, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal("stop container local/c2: permission denied", await ApiTestClient.MessageAsync(denied));
        Assert.DoesNotContain(("stop", "c2"), _app.Engine.Calls);
    }

    [Fact]
    public async Task Token_OfLockedOutUser_Unauthorized()
    {
        using var bearer = await ApiTestClient.BearerForNewUserAsync(_app, "tok-locked", Roles.Operator);
        await _app.WithUsersAsync(async users =>
            await users.SetLockoutEndDateAsync((await users.FindByNameAsync("tok-locked"))!, DateTimeOffset.UtcNow.AddHours(1)));

        using var response = await bearer.GetAsync("/api/containers", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("""{"name":""}""", "token name")]
    [InlineData("""{"name":"x","expiresAt":"2001-01-01T00:00:00Z"}""", "future")]
    [InlineData("""{"name":"x","extra":1}""", "request body")]
    public async Task CreateToken_InvalidRequest_BadRequest(string json, string expected)
    {
        var name = $"tok-bad-{expected.Length}";
        await _app.CreateUserAsync(name, Roles.Viewer);
        using var browser = await _app.SignedInBrowserAsync(name);
        await ApiTestClient.AddAntiforgeryAsync(browser);

        using var response = await browser.PostAsync("/api/tokens", ApiTestClient.Json(json), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await ApiTestClient.MessageAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_RejectsMalformedTokens()
    {
        Assert.False(ApiTokenService.TryParseToken(null, out _, out _));
        Assert.False(ApiTokenService.TryParseToken("dsh_ABCDEF0123456789abcdef01_" + new string('a', 43), out _, out _));
        Assert.False(ApiTokenService.TryParseToken("dsh_0123456789abcdef01234567_" + new string('a', 42), out _, out _));
        Assert.True(ApiTokenService.TryParseToken("dsh_0123456789abcdef01234567_" + new string('a', 43), out var id, out _));
        Assert.Equal("0123456789abcdef01234567", id);
    }
}
