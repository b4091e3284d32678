using System.Text;
using System.Text.RegularExpressions;
using Dashboard.Engine.Store;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Dashboard.Engine.Tests.Store;

/// <summary>
/// The engine's own migration path (the embedded db/engine scripts, <see cref="StoreMigrations.ApplyAsync"/>) against
/// EF's: the embedded scripts are the reviewed files (MigrationTests keeps those equal to EF's SQL), and a database
/// migrated through them has exactly the schema and history EF's <c>Migrate</c> makes, from scratch and from every
/// intermediate migration.
/// </summary>
public sealed partial class MigrationScriptTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _dir = Directory.CreateTempSubdirectory("dems-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void EmbeddedScripts_AreTheDbFilesAndEachRecordsItsMigration()
    {
        var dir = Path.Combine(MigrationTests.RepoRoot(), "db", "engine");
        Assert.Equal(Directory.GetFiles(dir, "*.sql").Select(Path.GetFileName).Order(StringComparer.Ordinal),
            StoreMigrations.Known.Select(StoreMigrations.ScriptName).Order(StringComparer.Ordinal));
        foreach (var id in StoreMigrations.Known)
        {
            var script = StoreMigrations.Script(id);
            Assert.Equal(File.ReadAllText(Path.Combine(dir, StoreMigrations.ScriptName(id))).ReplaceLineEndings("\n"), script.ReplaceLineEndings("\n"));
            Assert.Contains($"INSERT INTO \"__EFMigrationsHistory\" (\"MigrationId\", \"ProductVersion\")\nVALUES ('{id}', ", script.ReplaceLineEndings("\n"), StringComparison.Ordinal);
            var statements = StoreMigrations.Statements(script);
            Assert.DoesNotContain("BEGIN TRANSACTION;", statements, StringComparison.Ordinal);
            Assert.DoesNotContain("COMMIT;", statements, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Script_UnknownMigration_Internal()
    {
        var e = Assert.Throws<EngineException>(() => StoreMigrations.Script("20000101000000_Nope"));
        Assert.Equal(ErrorKind.Internal, e.Kind);
    }

    /// <summary>From an empty file and from each applied prefix of the migrations, the script path ends where EF's Migrate does.</summary>
    [Fact]
    public async Task ScriptPath_FromEveryStartingPoint_SameSchemaAndHistoryAsEfMigrate()
    {
        var ef = Path.Combine(_dir, "ef.db");
        await using (var db = new EngineDbContext(EngineDbContext.CreateOptions(ef)))
        {
            await db.Database.MigrateAsync(Ct);
        }

        var expected = await DescribeAsync(ef);
        Assert.Contains("table containers", expected, StringComparison.Ordinal);

        for (var start = 0; start <= StoreMigrations.Known.Count; start++)
        {
            var ours = Path.Combine(_dir, $"ours-{start}.db");
            if (start > 0)
            {
                await using var db = new EngineDbContext(EngineDbContext.CreateOptions(ours));
                await db.GetService<IMigrator>().MigrateAsync(StoreMigrations.Known[start - 1], cancellationToken: Ct);
            }

            var applied = await SqliteContainerStore.InitializeAsync(new EngineDatabase(ours), Ct);
            Assert.Equal(StoreMigrations.Known.Skip(start), applied);
            Assert.Equal(expected, await DescribeAsync(ours));
        }
    }

    /// <summary>
    /// A migration that fails (its columns exist already) stops the start with the migration and SQLite's reason, and
    /// its transaction leaves schema and history exactly as they were.
    /// </summary>
    [Fact]
    public async Task Initialize_MigrationFails_EngineExceptionAndDatabaseUnchanged()
    {
        var path = Path.Combine(_dir, "engine.db");
        await SqliteContainerStore.InitializeAsync(new EngineDatabase(path), Ct);
        await ForgetLatestMigrationAsync(path);
        var before = await DescribeAsync(path);

        var e = await Assert.ThrowsAsync<EngineException>(() => SqliteContainerStore.InitializeAsync(new EngineDatabase(path), Ct));
        Assert.Contains($"applying database migrations ({StoreMigrations.Known[^1]}) to {path} failed in {StoreMigrations.Known[^1]}: SQLite Error 1: 'duplicate column name", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, await DescribeAsync(path));
        Assert.Equal([StoreMigrations.Known[^1]], await StoreMigrations.PendingAsync(path, Ct));
    }

    [Fact]
    public async Task Initialize_NotADatabase_IoErrorNamingTheFile()
    {
        var path = Path.Combine(_dir, "engine.db");
        await File.WriteAllTextAsync(path, new string('x', 4096), Ct);
        var e = await Assert.ThrowsAsync<EngineException>(() => SqliteContainerStore.InitializeAsync(new EngineDatabase(path), Ct));
        Assert.Equal(ErrorKind.Io, e.Kind);
        Assert.StartsWith($"database {path}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("file is not a database", e.Message, StringComparison.Ordinal);
        Assert.Equal(new string('x', 4096), await File.ReadAllTextAsync(path, Ct));
    }

    internal static async Task ForgetLatestMigrationAsync(string path)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM __EFMigrationsHistory WHERE MigrationId = $id";
        command.Parameters.AddWithValue("$id", StoreMigrations.Known[^1]);
        Assert.Equal(1, await command.ExecuteNonQueryAsync(Ct));
    }

    /// <summary>
    /// Every schema object (sqlite_master, its SQL with whitespace normalised) and the migration history. EF's own lock
    /// table (<c>__EFMigrationsLock</c>, made by its migrator as a mutex, no part of the schema) is left out.
    /// </summary>
    private static async Task<string> DescribeAsync(string path)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT type, name, tbl_name, sql FROM sqlite_master
            WHERE name <> '__EFMigrationsLock' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'
            ORDER BY type, name
            """;
        var text = new StringBuilder();
        await using (var reader = await command.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                var sql = reader.IsDBNull(3) ? "" : Whitespace().Replace(reader.GetString(3), " ").Trim();
                text.Append($"{reader.GetString(0)} {reader.GetString(1)} on {reader.GetString(2)}: {sql}\n");
            }
        }

        command.CommandText = "SELECT MigrationId, ProductVersion FROM __EFMigrationsHistory ORDER BY MigrationId";
        await using (var reader = await command.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                text.Append($"history {reader.GetString(0)} {reader.GetString(1)}\n");
            }
        }

        return text.ToString();
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
