using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dashboard.Web.Api;
using Dashboard.Web.Identity;
using Dashboard.Web.Tests.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Api;

/// <summary>Helpers for raw HTTP calls against the real app: bearer clients, cookie clients with the antiforgery header.</summary>
internal static class ApiTestClient
{
    public static async Task<string> CreateTokenAsync(WebAppFactory app, string userName, DateTimeOffset? expiresAt = null)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var tokens = scope.ServiceProvider.GetRequiredService<ApiTokenService>();
        var principal = await app.PrincipalAsync(userName);
        return (await tokens.CreateAsync(principal, "test", expiresAt, CancellationToken.None)).Token;
    }

    public static HttpClient Bearer(WebAppFactory app, string token)
    {
        var client = app.CreateBrowser();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public static async Task<HttpClient> BearerForNewUserAsync(WebAppFactory app, string userName, params string[] roles)
    {
        await app.CreateUserAsync(userName, roles);
        return Bearer(app, await CreateTokenAsync(app, userName));
    }

    /// <summary>Adds the antiforgery header a browser script would send with its cookie.</summary>
    public static async Task AddAntiforgeryAsync(HttpClient cookieClient)
    {
        using var doc = JsonDocument.Parse(await cookieClient.GetStringAsync("/api/antiforgery"));
        cookieClient.DefaultRequestHeaders.Add(ApiEndpoints.AntiforgeryHeader, doc.RootElement.GetProperty("token").GetString());
    }

    public static async Task<string> MessageAsync(HttpResponseMessage response)
    {
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        return error.GetProperty("message").GetString()!;
    }

    public static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    public static async Task<WebUser> FindAsync(WebAppFactory app, string name)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<UserManager<WebUser>>().FindByNameAsync(name))!;
    }
}
