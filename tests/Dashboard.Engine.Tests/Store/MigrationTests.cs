using System.Globalization;
using Dashboard.Engine.Store;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Dashboard.Engine.Tests.Store;

/// <summary>
/// The model, the migrations and the reviewed SQL in db/engine agree. To refresh db/ after adding a
/// migration run this class with DASHBOARD_UPDATE_DB_SCRIPTS=1.
/// </summary>
public sealed class MigrationTests
{
    private static EngineDbContext NewContext() =>
        new(EngineDbContext.CreateOptions(Path.Combine(Path.GetTempPath(), "dem-unused-" + Guid.NewGuid().ToString("N") + ".db")));

    [Fact]
    public void Model_MatchesMigrations_NoPendingChanges()
    {
        using var db = NewContext();
        Assert.False(db.Database.HasPendingModelChanges(), "the EF model changed without a migration: run dotnet ef migrations add");
    }

    [Fact]
    public void DbScripts_MatchGeneratedSql()
    {
        using var db = NewContext();
        var migrator = db.GetService<IMigrator>();
        var migrations = db.Database.GetMigrations().ToList();
        Assert.NotEmpty(migrations);
        var dir = Path.Combine(RepoRoot(), "db", "engine");
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

            Assert.True(File.Exists(file), $"{file} is missing: run the migration tests with DASHBOARD_UPDATE_DB_SCRIPTS=1");
            Assert.True(File.ReadAllText(file).ReplaceLineEndings("\n") == sql, $"{file} is stale: run the migration tests with DASHBOARD_UPDATE_DB_SCRIPTS=1");
        }

        Assert.Equal(expectedFiles.Order(StringComparer.Ordinal), Directory.GetFiles(dir, "*.sql").Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Migrate_FreshFile_CreatesEveryTable()
    {
        var path = Path.Combine(Path.GetTempPath(), "dem-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            var database = new EngineDatabase(path);
            await SqliteContainerStore.InitializeAsync(database, TestContext.Current.CancellationToken);
            await using var connection = await database.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
            var tables = new List<string>();
            await using (var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken))
            {
                while (await reader.ReadAsync(TestContext.Current.CancellationToken))
                {
                    tables.Add(reader.GetString(0));
                }
            }

            Assert.Superset(new HashSet<string> { "containers", "events", "volumes", "networks", "images", "image_references", "exec_sessions", "stats_samples" }, tables.ToHashSet());
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }

    /// <summary>The checkout this test was compiled from (the build output may live elsewhere, e.g. with --artifacts-path).</summary>
    internal static string RepoRoot([System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
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

        var fromCwd = Path.GetFullPath(".");
        throw new InvalidOperationException($"Dashboard.sln not found above {AppContext.BaseDirectory} or {fromCwd}");
    }
}
