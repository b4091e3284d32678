using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Dashboard.Web.Identity;

/// <summary>Users, roles and logins of the web UI; its own SQLite file under the data dir, separate from the engine's.</summary>
public sealed partial class WebDbContext(DbContextOptions<WebDbContext> options) : IdentityDbContext<WebUser>(options)
{
    /// <summary>Identity's tables, then every <see cref="IEntityTypeConfiguration{TEntity}"/> of this assembly (alerts, ...).</summary>
    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(WebDbContext).Assembly);
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without starting the app.</summary>
internal sealed class WebDbContextDesignFactory : IDesignTimeDbContextFactory<WebDbContext>
{
    public WebDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<WebDbContext>().UseSqlite("Data Source=design.db").Options);
}
