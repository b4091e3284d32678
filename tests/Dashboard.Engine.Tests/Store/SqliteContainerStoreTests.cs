using Dashboard.Engine.Store;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Dashboard.Engine.Tests.Store;

public sealed class SqliteContainerStoreTests : ContainerStoreContractTests
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "des-" + Guid.NewGuid().ToString("N")[..10]);

    protected override async Task<IContainerStore> CreateStoreAsync()
    {
        Directory.CreateDirectory(_dir);
        var factory = new PooledDbContextFactory<EngineDbContext>(EngineDbContext.CreateOptions(Path.Combine(_dir, "engine.db")));
        await SqliteContainerStore.InitializeAsync(factory, Ct);
        return new SqliteContainerStore(factory);
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
        var factory = new PooledDbContextFactory<EngineDbContext>(EngineDbContext.CreateOptions(Path.Combine(_dir, "engine.db")));
        await using var db = await factory.CreateDbContextAsync(Ct);
        await db.Database.OpenConnectionAsync(Ct);
        var connection = db.Database.GetDbConnection();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous";
        Assert.Equal(2L, await command.ExecuteScalarAsync(Ct));
        command.CommandText = "PRAGMA busy_timeout";
        Assert.Equal(100000L, await command.ExecuteScalarAsync(Ct));
        command.CommandText = "PRAGMA foreign_keys";
        Assert.Equal(1L, await command.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task Initialize_Twice_IsIdempotent()
    {
        var factory = new PooledDbContextFactory<EngineDbContext>(EngineDbContext.CreateOptions(Path.Combine(_dir, "engine.db")));
        await SqliteContainerStore.InitializeAsync(factory, Ct);
        await using var db = await factory.CreateDbContextAsync(Ct);
        Assert.Empty(await db.Database.GetPendingMigrationsAsync(Ct));
    }
}
