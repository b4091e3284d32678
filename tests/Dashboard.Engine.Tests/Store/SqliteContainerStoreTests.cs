using Dashboard.Engine.Store;

namespace Dashboard.Engine.Tests.Store;

public sealed class SqliteContainerStoreTests : ContainerStoreContractTests
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "des-" + Guid.NewGuid().ToString("N")[..10]);

    private EngineDatabase Database => new(Path.Combine(_dir, "engine.db"));

    protected override async Task<IContainerStore> CreateStoreAsync()
    {
        Directory.CreateDirectory(_dir);
        await SqliteContainerStore.InitializeAsync(Database, Ct);
        return new SqliteContainerStore(Database);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Connection_SynchronousFullAndBusyTimeout()
    {
        await using var connection = await Database.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous";
        Assert.Equal(2L, await command.ExecuteScalarAsync(Ct));
        command.CommandText = "PRAGMA busy_timeout";
        Assert.Equal(100000L, await command.ExecuteScalarAsync(Ct));
        command.CommandText = "PRAGMA foreign_keys";
        Assert.Equal(1L, await command.ExecuteScalarAsync(Ct));
    }

    /// <summary>EF's design-time context (dotnet ef, the schema tests) opens its connections with the engine's settings.</summary>
    [Fact]
    public async Task EfContextConnection_SameSettingsAsEngineDatabase()
    {
        await using var db = new EngineDbContext(EngineDbContext.CreateOptions(Database.Path));
        await Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.OpenConnectionAsync(db.Database, Ct);
        var connection = Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.GetDbConnection(db.Database);
        Assert.Equal(Database.ConnectionString, connection.ConnectionString);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous";
        Assert.Equal(2L, await command.ExecuteScalarAsync(Ct));
        command.CommandText = "PRAGMA busy_timeout";
        Assert.Equal(100000L, await command.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task Initialize_Twice_IsIdempotent()
    {
        Assert.Empty(await SqliteContainerStore.InitializeAsync(Database, Ct));
        Assert.Empty(await StoreMigrations.PendingAsync(Database.Path, Ct));
    }
}
