using System.Security.Claims;
using System.Text.RegularExpressions;
using Dashboard.Web.Engines;
using Dashboard.Web.Hosting;
using Dashboard.Web.Identity;
using Dashboard.Web.Tests.Fakes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dashboard.Web.Tests.Hosting;

/// <summary>The real app (Identity on SQLite in a temp dir, real middleware) with the engine replaced by a fake.</summary>
public sealed partial class WebAppFactory : WebApplicationFactory<Program>
{
    public const string Secret = "test-bootstrap-secret-0123456789";
    public const string Password = "correct horse battery staple";

    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-web-test-").FullName;

    public FakeEngineClient Engine { get; } = new();

    public int LoginAttemptsPerMinute { get; init; } = 1000;

    public string SecretFile => Path.Combine(_dir, "bootstrap-secret");

    public string DataDir => Path.Combine(_dir, "data");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        File.WriteAllText(SecretFile, Secret + "\n");
        builder.UseEnvironment("Production");
        builder.ConfigureLogging(logging => logging.ClearProviders());
        builder.ConfigureTestServices(services =>
        {
            services.PostConfigure<DashboardOptions>(o =>
            {
                o.DataDir = DataDir;
                o.BootstrapSecretFile = SecretFile;
                o.LoginAttemptsPerMinute = LoginAttemptsPerMinute;
                o.AllowedOrigins = ["https://trusted.test"];
            });
            // Fewer PBKDF2 rounds keep the many sign-ins of these tests fast; the algorithm is unchanged.
            services.Configure<PasswordHasherOptions>(o => o.IterationCount = 1000);
            services.AddSingleton<IEngineRegistry>(new EngineRegistry([KeyValuePair.Create("local", (IEngineClient)Engine)]));
        });
    }

    public HttpClient CreateBrowser() => CreateClient(new WebApplicationFactoryClientOptions
    {
        BaseAddress = new Uri("https://localhost"),
        AllowAutoRedirect = false,
        HandleCookies = true,
    });

    public async Task<WebUser> CreateUserAsync(string name, params string[] roles)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<WebUser>>();
        var user = new WebUser { UserName = name };
        Check(await users.CreateAsync(user, Password));
        foreach (var role in roles)
        {
            Check(await users.AddToRoleAsync(user, role));
        }

        return user;
    }

    /// <summary>The principal a cookie sign-in would carry right now (roles and security stamp included).</summary>
    public async Task<ClaimsPrincipal> PrincipalAsync(string name)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<WebUser>>();
        var factory = scope.ServiceProvider.GetRequiredService<IUserClaimsPrincipalFactory<WebUser>>();
        return await factory.CreateAsync((await users.FindByNameAsync(name))!);
    }

    public async Task WithUsersAsync(Func<UserManager<WebUser>, Task> action)
    {
        await using var scope = Services.CreateAsyncScope();
        await action(scope.ServiceProvider.GetRequiredService<UserManager<WebUser>>());
    }

    public static async Task<string> AntiforgeryTokenAsync(HttpClient client, string path)
    {
        var html = await client.GetStringAsync(path);
        var match = TokenField().Match(html);
        Assert.True(match.Success, $"no antiforgery token on {path}");
        return match.Groups[1].Value;
    }

    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string path, string? token, params (string Key, string Value)[] fields)
    {
        var values = fields.Select(f => KeyValuePair.Create(f.Key, f.Value)).ToList();
        if (token is not null)
        {
            values.Add(KeyValuePair.Create("__RequestVerificationToken", token));
        }

        using var content = new FormUrlEncodedContent(values);
        return await client.PostAsync(path, content);
    }

    public async Task<HttpClient> SignedInBrowserAsync(string name)
    {
        var client = CreateBrowser();
        var token = await AntiforgeryTokenAsync(client, "/account/login");
        using var response = await PostFormAsync(client, "/account/signin", token, ("UserName", name), ("Password", Password));
        Assert.Equal("/", response.Headers.Location?.OriginalString);
        return client;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Check(IdentityResult result) =>
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => e.Description)));

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
