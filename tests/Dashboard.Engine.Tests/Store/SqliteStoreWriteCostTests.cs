using Dashboard.Engine.Containers;
using Dashboard.Engine.Store;

namespace Dashboard.Engine.Tests.Store;

/// <summary>The store's cheaper write and read paths (issue 4 bench a and c): WAL, event appends, batched rollups, projections.</summary>
public sealed class SqliteStoreWriteCostTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "dsw-" + Guid.NewGuid().ToString("N")[..10]);
    private EngineDatabase _database = null!;
    private SqliteContainerStore _store = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        _database = new EngineDatabase(Path.Combine(_dir, "engine.db"));
        await SqliteContainerStore.InitializeAsync(_database, Ct);
        _store = new SqliteContainerStore(_database);
    }

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
        return ValueTask.CompletedTask;
    }

    private static string Id(char c) => new(c, 64);

    private static ContainerRecord Container(string id, string name, ContainerPhase status, int pid) => new()
    {
        Id = id,
        Name = name,
        Image = "busybox",
        ImageId = "sha256:" + new string('1', 64),
        Created = DateTimeOffset.UtcNow,
        Config = new Dashboard.Engine.Api.ContainerConfig { Image = "busybox" },
        HostConfig = new Dashboard.Engine.Api.HostConfig(),
        Path = "sh",
        Args = [],
        BundleDir = "/tmp/bundle/" + id,
        LogPath = "/tmp/bundle/" + id + "/container.log",
        State = new ContainerRuntimeState { Status = status, Pid = pid },
    };

    private async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = await _database.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(Ct);
    }

    [Fact]
    public async Task Initialize_DatabaseInWalMode()
    {
        Assert.Equal("wal", await ScalarAsync("PRAGMA journal_mode"));
    }

    [Fact]
    public async Task AppendEvent_PooledConnectionStaysSynchronousFull()
    {
        await _store.AppendEventAsync(new EngineEvent("container", "create", Id('a'), new Dictionary<string, string>(), 1), Ct);
        Assert.Equal(2L, await ScalarAsync("PRAGMA synchronous"));
        Assert.Single(await _store.ListEventsAsync(null, null, Ct));
    }

    [Fact]
    public async Task SaveStateWithEvents_SynchronousFullConnection_OneCommit()
    {
        await _store.AddContainerAsync(Container(Id('a'), "a", ContainerPhase.Created, 0), Ct);
        var stored = await _store.SaveStateAsync(Id('a'), new ContainerRuntimeState { Status = ContainerPhase.Running, Pid = 5 }, [new EngineEvent("container", "start", Id('a'), new Dictionary<string, string>(), 1)], Ct);
        Assert.Equal(2L, await ScalarAsync("PRAGMA synchronous"));
        Assert.Equal(stored[0].Seq, Assert.Single(await _store.ListEventsAsync(null, null, Ct)).Seq);
        Assert.Equal(5, (await _store.GetContainerAsync(Id('a'), Ct))!.State.Pid);
    }

    [Fact]
    public async Task AddStats_SampleOfRemovedContainer_SkippedOthersKept()
    {
        await _store.AddContainerAsync(Container(Id('a'), "a", ContainerPhase.Running, 10), Ct);
        await _store.AddStatsAsync(
        [
            new StatsSample(Id('a'), 10, 100, 1, 0, 5, 0, 0, 1, 0, 0, 0, 0),
            new StatsSample(Id('z'), 10, 100, 1, 0, 5, 0, 0, 1, 0, 0, 0, 0),
            new StatsSample(Id('a'), 60, 60, 1, 0, 6, 0, 0, 1, 0, 0, 0, 0),
        ], Ct);
        Assert.Single(await _store.QueryStatsAsync(Id('a'), 10, 0, 1000, Ct));
        Assert.Equal(6L, Assert.Single(await _store.QueryStatsAsync(Id('a'), 60, 0, 1000, Ct)).MemoryUsage);
        Assert.Empty(await _store.QueryStatsAsync(Id('z'), 10, 0, 1000, Ct));
    }

    [Fact]
    public async Task ListActive_RunningAndPausedOnly_WithPids()
    {
        await _store.AddContainerAsync(Container(Id('a'), "a", ContainerPhase.Running, 10), Ct);
        await _store.AddContainerAsync(Container(Id('b'), "b", ContainerPhase.Paused, 20), Ct);
        await _store.AddContainerAsync(Container(Id('c'), "c", ContainerPhase.Exited, 0), Ct);
        await _store.AddContainerAsync(Container(Id('d'), "d", ContainerPhase.Created, 0), Ct);
        var active = await _store.ListActiveAsync(Ct);
        Assert.Equal([(Id('a'), 10), (Id('b'), 20)], active.OrderBy(a => a.Id, StringComparer.Ordinal));
    }

    [Fact]
    public async Task ContainerNameExists_ExactNameOnly()
    {
        await _store.AddContainerAsync(Container(Id('a'), "web_1", ContainerPhase.Created, 0), Ct);
        Assert.True(await _store.ContainerNameExistsAsync("web_1", Ct));
        Assert.False(await _store.ContainerNameExistsAsync("web%", Ct));
        Assert.False(await _store.ContainerNameExistsAsync("WEB_1", Ct));
    }
}
