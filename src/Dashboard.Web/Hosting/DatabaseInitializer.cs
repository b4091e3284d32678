using Dashboard.Web.Identity;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Web.Hosting;

/// <summary>Applies the Identity migrations and creates the roles before the server takes requests.</summary>
public sealed class DatabaseInitializer(IServiceProvider services, IOptions<DashboardOptions> options, ILogger<DatabaseInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.Value.DataDir);
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WebDbContext>();
        await db.Database.MigrateAsync(cancellationToken);
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        foreach (var role in Roles.All)
        {
            if (!await roles.RoleExistsAsync(role))
            {
                await roles.CreateAsync(new IdentityRole(role));
            }
        }

        var bootstrap = scope.ServiceProvider.GetRequiredService<BootstrapService>();
        if (await bootstrap.IsNeededAsync())
        {
            logger.LogWarning(
                "no admin account yet: open /account/setup and enter the one-time secret from {File}",
                options.Value.BootstrapSecretFile ?? "(no --bootstrap-secret-file given)");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
