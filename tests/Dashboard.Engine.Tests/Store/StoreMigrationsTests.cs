using System.Diagnostics;
using System.Text;
using Dashboard.Engine.Store;
using Dashboard.Engine.Tests.Lifecycle;
using Dashboard.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Dashboard.Engine.Tests.Store;

/// <summary>
/// The pending-migration check, the engine applying its migrations itself at start (no EF migrator, no child process),
/// and the compiled model that <c>dotnet ef</c> and the schema tests use.
/// </summary>
public sealed class StoreMigrationsTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _dir = Directory.CreateTempSubdirectory("dem-").FullName;

    private string DatabasePath => Path.Combine(_dir, "engine.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Known_MatchesEfMigrationsOfTheAssembly()
    {
        using var db = new EngineDbContext(EngineDbContext.CreateOptions(DatabasePath));
        Assert.Equal(db.Database.GetMigrations().ToList(), StoreMigrations.Known);
    }

    [Fact]
    public async Task Pending_NoFileOrEmptyFile_ListsEveryMigration()
    {
        Assert.Equal(StoreMigrations.Known, await StoreMigrations.PendingAsync(DatabasePath, Ct));
        await using (var connection = new SqliteConnection($"Data Source={DatabasePath}"))
        {
            await connection.OpenAsync(Ct);
            Assert.Equal(StoreMigrations.Known, await StoreMigrations.PendingAsync(connection, Ct));
        }

        Assert.Equal(StoreMigrations.Known, await StoreMigrations.PendingAsync(DatabasePath, Ct));
    }

    [Fact]
    public async Task Pending_AfterInitialize_NoneAndPartialHistoryListsTheMissingOne()
    {
        var database = new EngineDatabase(DatabasePath);
        Assert.Equal(StoreMigrations.Known, await SqliteContainerStore.InitializeAsync(database, Ct));
        Assert.Empty(await StoreMigrations.PendingAsync(DatabasePath, Ct));
        Assert.Empty(await SqliteContainerStore.InitializeAsync(database, Ct));

        await using (var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM __EFMigrationsHistory WHERE MigrationId = $id";
            command.Parameters.AddWithValue("$id", StoreMigrations.Known[^1]);
            Assert.Equal(1, await command.ExecuteNonQueryAsync(Ct));
        }

        Assert.Equal([StoreMigrations.Known[^1]], await StoreMigrations.PendingAsync(DatabasePath, Ct));
    }

    [Fact]
    public async Task Pending_NotADatabase_IoErrorNamingTheFile()
    {
        await File.WriteAllTextAsync(DatabasePath, new string('x', 4096), Ct);
        var e = await Assert.ThrowsAsync<EngineException>(() => StoreMigrations.PendingAsync(DatabasePath, Ct));
        Assert.Equal(ErrorKind.Io, e.Kind);
        Assert.Contains(DatabasePath, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Initialize_FreshFile_AppliesAllInWalModeThenNone()
    {
        Assert.Equal(StoreMigrations.Known, await SqliteContainerStore.InitializeAsync(new EngineDatabase(DatabasePath), Ct));
        Assert.Empty(await StoreMigrations.PendingAsync(DatabasePath, Ct));
        await using (var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode";
            Assert.Equal("wal", await command.ExecuteScalarAsync(Ct));
        }

        Assert.Empty(await SqliteContainerStore.InitializeAsync(new EngineDatabase(DatabasePath), Ct));
    }

    /// <summary>Two engines starting on one new file at once: the IMMEDIATE transaction lets one apply the migrations, the other finds none.</summary>
    [Fact]
    public async Task Initialize_Concurrently_AppliesEachMigrationOnce()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => SqliteContainerStore.InitializeAsync(new EngineDatabase(DatabasePath), Ct), Ct)));
        Assert.Equal(StoreMigrations.Known, results.SelectMany(r => r).Order(StringComparer.Ordinal));
        Assert.Empty(await StoreMigrations.PendingAsync(DatabasePath, Ct));
    }

    /// <summary>
    /// The published engine applies migrations itself before listening: a migration it cannot apply (its columns already
    /// exist) stops the start with the reason, and its transaction leaves the history as it was; a file that is no
    /// database stops it too. Neither leaves an engine listening on a half-known schema.
    /// </summary>
    [Fact]
    public async Task Engine_MigrationFails_ExitsWithTheReasonDatabaseUnchanged()
    {
        Requires.Root();
        var binary = EngineProcess.Binary();
        var data = Path.Combine(_dir, "data");
        Directory.CreateDirectory(data);
        var database = Path.Combine(data, "engine.db");
        Assert.Equal(StoreMigrations.Known, await SqliteContainerStore.InitializeAsync(new EngineDatabase(database), Ct));
        await MigrationScriptTests.ForgetLatestMigrationAsync(database);

        SqliteConnection.ClearAllPools();
        var (code, output) = await RunEngineAsync(binary, data);
        Assert.Equal(1, code);
        Assert.Contains($"dashboard-engine: applying database migrations ({StoreMigrations.Known[^1]}) to {database} failed in {StoreMigrations.Known[^1]}: SQLite Error 1: 'duplicate column name", output, StringComparison.Ordinal);
        Assert.Equal([StoreMigrations.Known[^1]], await StoreMigrations.PendingAsync(database, Ct));
        Assert.False(File.Exists(Path.Combine(_dir, "engine.sock")), "the engine must not listen on a database it could not migrate");

        await File.WriteAllTextAsync(database, new string('x', 4096), Ct);
        (code, output) = await RunEngineAsync(binary, data);
        Assert.Equal(1, code);
        Assert.Contains($"dashboard-engine: database {database}: ", output, StringComparison.Ordinal);
        Assert.Contains("file is not a database", output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "engine.sock")));
    }

    private async Task<(int Code, string Output)> RunEngineAsync(string binary, string data)
    {
        var psi = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["--data-root", data, "--state-root", Path.Combine(_dir, "state"), "--socket", Path.Combine(_dir, "engine.sock"),
            "--socket-group", "dashboard-test-no-such-group", "--cgroup-parent", "/dashboard-test/migrate-" + Path.GetFileName(_dir),
            "--policy-file", Path.Combine(_dir, "no-policy.json")])
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_EnableDiagnostics"] = "0";
        using var engine = Process.Start(psi)!;
        var stderr = engine.StandardError.ReadToEndAsync(Ct);
        var stdout = engine.StandardOutput.ReadToEndAsync(Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await engine.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!engine.HasExited)
            {
                engine.Kill();
            }
        }

        return (engine.ExitCode, await stderr + await stdout);
    }
}
