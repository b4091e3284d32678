using System.Security.Claims;
using Dashboard.Web.Identity;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dashboard.Web.Tests.Identity;

/// <summary>The real Identity store on a temp SQLite file, for bUnit tests of pages that use it.</summary>
public sealed class IdentityStore : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-identity-test-").FullName;

    public string DatabasePath => Path.Combine(_dir, "web.db");

    public void AddTo(IServiceCollection services)
    {
        services.AddLogging(l => l.ClearProviders());
        services.AddDataProtection().SetApplicationName("dashboard-web-test");
        services.AddDbContext<WebDbContext>(o => o.UseSqlite($"Data Source={DatabasePath};Pooling=False"));
        services.AddIdentityCore<WebUser>(o =>
            {
                o.Password.RequireDigit = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireNonAlphanumeric = false;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<WebDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();
        services.Configure<PasswordHasherOptions>(o => o.IterationCount = 1000);
        services.AddSingleton(TimeProvider.System);
        services.AddScoped<ApiTokenService>();
        services.AddScoped<TwoFactorService>();
    }

    public static async Task<ClaimsPrincipal> CreateUserAsync(IServiceProvider services, string name, string role = Roles.Operator)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WebDbContext>();
        await db.Database.MigrateAsync();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        foreach (var r in Roles.All)
        {
            if (!await roles.RoleExistsAsync(r))
            {
                await roles.CreateAsync(new IdentityRole(r));
            }
        }

        var users = scope.ServiceProvider.GetRequiredService<UserManager<WebUser>>();
        var user = new WebUser { UserName = name };
        Assert.True((await users.CreateAsync(user, "correct horse battery staple")).Succeeded);
        Assert.True((await users.AddToRoleAsync(user, role)).Succeeded);
        return await scope.ServiceProvider.GetRequiredService<IUserClaimsPrincipalFactory<WebUser>>().CreateAsync(user);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
