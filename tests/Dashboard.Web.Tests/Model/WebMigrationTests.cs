using System.Globalization;
using Dashboard.Web.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Model;

/// <summary>
/// The web database's model, its migrations and the reviewed SQL in db/web agree. To refresh db/web after adding a
/// migration, run this class with DASHBOARD_UPDATE_DB_SCRIPTS=1.
/// </summary>
public sealed class WebMigrationTests
{
    private static WebDbContext NewContext(string? path = null) =>
        new(new DbContextOptionsBuilder<WebDbContext>().UseSqlite($"Data Source={path ?? ":memory:"};Pooling=False").Options);

    [Fact]
    public void Model_MatchesMigrations_NoPendingChanges()
    {
        using var db = NewContext();
        Assert.False(db.Database.HasPendingModelChanges(), "the web EF model changed without a migration: run dotnet ef migrations add");
    }

    [Fact]
    public void DbScripts_MatchGeneratedSql()
    {
        using var db = NewContext();
        var migrator = db.GetService<IMigrator>();
        var migrations = db.Database.GetMigrations().ToList();
        Assert.NotEmpty(migrations);
        var dir = Path.Combine(RepoRoot(), "db", "web");
        var update = Environment.GetEnvironmentVariable("DASHBOARD_UPDATE_DB_SCRIPTS") == "1";
        var expectedFiles = new List<string>();
        string? previous = null;
        for (var i = 0; i < migrations.Count; i++)
        {
            var name = migrations[i][(migrations[i].IndexOf('_', StringComparison.Ordinal) + 1)..];
            var file = Path.Combine(dir, $"{(i + 1).ToString("D4", CultureInfo.InvariantCulture)}_{name}.sql");
            expectedFiles.Add(Path.GetFileName(file));
            var sql = migrator.GenerateScript(previous ?? Migration.InitialDatabase, migrations[i]).ReplaceLineEndings("\n");
            previous = migrations[i];
            if (update)
            {
                Directory.CreateDirectory(dir);
                File.WriteAllText(file, sql);
                continue;
            }

            Assert.True(File.Exists(file), $"{file} is missing: run WebMigrationTests with DASHBOARD_UPDATE_DB_SCRIPTS=1");
            Assert.True(File.ReadAllText(file).ReplaceLineEndings("\n") == sql, $"{file} is stale: run WebMigrationTests with DASHBOARD_UPDATE_DB_SCRIPTS=1");
        }

        Assert.Equal(expectedFiles.Order(StringComparer.Ordinal), Directory.GetFiles(dir, "*.sql").Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Migrate_FreshFile_CreatesIdentityAndAlertTables()
    {
        var path = Path.Combine(Path.GetTempPath(), "dashboard-web-migrate-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            await using (var db = NewContext(path))
            {
                await db.Database.MigrateAsync(TestContext.Current.CancellationToken);
                var tables = await db.Database.SqlQueryRaw<string>("SELECT name AS Value FROM sqlite_master WHERE type = 'table'").ToListAsync(TestContext.Current.CancellationToken);
                Assert.Superset(new HashSet<string> { "AspNetUsers", "AspNetRoles", "alert_rules", "alert_notifications", "alert_settings" }, tables.ToHashSet());
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Migrate_GlobalReadFlagToPerUser_KeepsReadForEveryUserAndDownRestoresIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var path = Path.Combine(Path.GetTempPath(), "dashboard-web-migrate-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            await using (var db = NewContext(path))
            {
                var migrator = db.GetService<IMigrator>();
                await migrator.MigrateAsync("20261130152906_RemoteEngines", ct);
                foreach (var user in new[] { "alice", "bob" })
                {
                    await db.Database.ExecuteSqlRawAsync(
                        "INSERT INTO AspNetUsers (Id, UserName, EmailConfirmed, PhoneNumberConfirmed, TwoFactorEnabled, LockoutEnabled, AccessFailedCount) VALUES ({0}, {0}, 0, 0, 0, 0, 0)", [user], ct);
                }

                for (var i = 1; i <= 3; i++)
                {
                    await db.Database.ExecuteSqlRawAsync(
                        "INSERT INTO alert_notifications (RuleName, Kind, Engine, ContainerId, ContainerName, Message, TimeUtc, Read) VALUES ('r', 'Died', 'local', 'c', 'c', {0}, '2026-11-30 10:00:00', {1})",
                        [$"m{i}", i == 2 ? 1 : 0], ct);
                }

                await migrator.MigrateAsync(null, ct);
                Assert.Empty(await db.Database.GetPendingMigrationsAsync(ct));
                await using var services = new ServiceCollection().AddDbContext<WebDbContext>(o => o.UseSqlite($"Data Source={path};Pooling=False")).BuildServiceProvider();
                var store = new Dashboard.Web.Alerts.EfAlertStore(services.GetRequiredService<IServiceScopeFactory>());
                foreach (var user in new[] { "alice", "bob" })
                {
                    Assert.Equal([false, true, false], (await store.RecentAsync(user, [], 10, ct)).Select(n => n.Read));
                }

                await store.MarkReadAsync("bob", null, ct);
                Assert.Equal(2, await store.UnreadCountAsync("alice", [], ct));

                await migrator.MigrateAsync("20261130152906_RemoteEngines", ct);
                var read = await db.Database.SqlQueryRaw<string>("SELECT Message AS Value FROM alert_notifications WHERE Read = 1 ORDER BY Id").ToListAsync(ct);
                Assert.Equal(["m1", "m2", "m3"], read);
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }

    /// <summary>The checkout this test was compiled from (the build output may live elsewhere).</summary>
    private static string RepoRoot([System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { Path.GetDirectoryName(sourceFile), AppContext.BaseDirectory })
        {
            for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Dashboard.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException($"Dashboard.sln not found above {AppContext.BaseDirectory}");
    }
}
