using Dashboard.Engine.Api;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Store;

namespace Dashboard.Engine.Tests.Store;

/// <summary>The <see cref="IContainerStore"/> contract; one subclass per implementation (STYLE.md habit 4).</summary>
public abstract class ContainerStoreContractTests : IAsyncLifetime
{
    protected IContainerStore Store { get; private set; } = null!;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract Task<IContainerStore> CreateStoreAsync();

    public virtual async ValueTask InitializeAsync() => Store = await CreateStoreAsync();

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    protected static ContainerRecord Container(string id, string name, DateTimeOffset? created = null) => new()
    {
        Id = id,
        Name = name,
        Image = "busybox",
        ImageId = "sha256:" + new string('1', 64),
        Created = created ?? DateTimeOffset.UtcNow,
        Config = new ContainerConfig { Image = "busybox", Cmd = ["sh", "-c", "echo hi"], Labels = new() { ["a"] = "b" } },
        HostConfig = new HostConfig { Memory = 64 * 1024 * 1024 },
        Path = "sh",
        Args = ["-c", "echo hi"],
        BundleDir = "/tmp/bundle/" + id,
        LogPath = "/tmp/bundle/" + id + "/container.log",
    };

    private static string Id(char c) => new(c, 64);

    [Fact]
    public async Task AddContainer_RoundTripsConfigAndState()
    {
        var created = new DateTimeOffset(2026, 11, 30, 10, 0, 0, 123, TimeSpan.Zero);
        await Store.AddContainerAsync(Container(Id('a'), "web", created), Ct);
        var got = await Store.GetContainerAsync(Id('a'), Ct);
        Assert.NotNull(got);
        Assert.Equal("web", got.Name);
        Assert.Equal(created, got.Created);
        Assert.Equal(["sh", "-c", "echo hi"], got.Config.Cmd);
        Assert.Equal("b", got.Config.Labels!["a"]);
        Assert.Equal(64 * 1024 * 1024, got.HostConfig.Memory);
        Assert.Equal(ContainerPhase.Created, got.State.Status);
    }

    [Fact]
    public async Task AddContainer_NameTaken_AlreadyExistsNamingHolder()
    {
        await Store.AddContainerAsync(Container(Id('a'), "web"), Ct);
        var e = await Assert.ThrowsAsync<EngineException>(() => Store.AddContainerAsync(Container(Id('b'), "web"), Ct));
        Assert.Equal(ErrorKind.AlreadyExists, e.Kind);
        Assert.Contains(Id('a'), e.Message);
        Assert.Null(await Store.GetContainerAsync(Id('b'), Ct));
    }

    [Fact]
    public async Task Lookup_ExactNamesOnly_NoWildcards()
    {
        await Store.AddContainerAsync(Container(Id('a'), "test_1"), Ct);
        await Store.AddContainerAsync(Container(Id('b'), "testa1"), Ct);
        Assert.Equal(Id('a'), (await Store.LookupContainerAsync("test_1", Ct)).Id);
        Assert.Equal(Id('b'), (await Store.LookupContainerAsync("/testa1", Ct)).Id);
        foreach (var probe in new[] { "test%", "TEST_1", "test", "t_st_1" })
        {
            var e = await Assert.ThrowsAsync<EngineException>(() => Store.LookupContainerAsync(probe, Ct));
            Assert.Equal(ErrorKind.NotFound, e.Kind);
        }
    }

    [Fact]
    public async Task Lookup_IdPrefix_UniqueOrAmbiguous()
    {
        await Store.AddContainerAsync(Container("ab" + new string('0', 62), "one"), Ct);
        await Store.AddContainerAsync(Container("ac" + new string('0', 62), "two"), Ct);
        Assert.Equal("one", (await Store.LookupContainerAsync("ab", Ct)).Name);
        var ambiguous = await Assert.ThrowsAsync<EngineException>(() => Store.LookupContainerAsync("a", Ct));
        Assert.Equal(ErrorKind.InvalidArgument, ambiguous.Kind);
        var upper = await Assert.ThrowsAsync<EngineException>(() => Store.LookupContainerAsync("AB", Ct));
        Assert.Equal(ErrorKind.NotFound, upper.Kind);
    }

    [Fact]
    public async Task SaveState_Persists_AndMissingIsNotFound()
    {
        await Store.AddContainerAsync(Container(Id('a'), "web"), Ct);
        var started = DateTimeOffset.UtcNow;
        await Store.SaveStateAsync(Id('a'), new ContainerRuntimeState { Status = ContainerPhase.Exited, ExitCode = 137, OomKilled = true, StartedAt = started, FinishedAt = started.AddSeconds(1), Error = "boom" }, Ct);
        var got = (await Store.GetContainerAsync(Id('a'), Ct))!.State;
        Assert.Equal(ContainerPhase.Exited, got.Status);
        Assert.Equal(137, got.ExitCode);
        Assert.True(got.OomKilled);
        Assert.Equal("boom", got.Error);
        Assert.Equal(started.AddSeconds(1).ToUnixTimeMilliseconds(), got.FinishedAt!.Value.ToUnixTimeMilliseconds());
        var e = await Assert.ThrowsAsync<EngineException>(() => Store.SaveStateAsync(Id('z'), new ContainerRuntimeState(), Ct));
        Assert.Equal(ErrorKind.NotFound, e.Kind);
    }

    [Fact]
    public async Task SaveStateWithEvents_StateAndEventsTogether_MissingContainerWritesNeither()
    {
        var created = await Store.AddContainerAsync(Container(Id('a'), "a"), new EngineEvent("container", "create", Id('a'), new Dictionary<string, string> { ["name"] = "a" }, 1_000), Ct);
        Assert.True(created.Seq > 0);
        var running = new ContainerRuntimeState { Status = ContainerPhase.Running, Pid = 10, ShimPid = 9, StartedAt = DateTimeOffset.UnixEpoch.AddSeconds(5) };
        var stored = await Store.SaveStateAsync(Id('a'), running, [new EngineEvent("container", "start", Id('a'), new Dictionary<string, string>(), 2_000)], Ct);
        Assert.True(Assert.Single(stored).Seq > created.Seq);
        Assert.Equal(running, (await Store.GetContainerAsync(Id('a'), Ct))!.State);

        var exited = running with { Status = ContainerPhase.Exited, Pid = 0, ShimPid = 0, ExitCode = 137, OomKilled = true, FinishedAt = DateTimeOffset.UnixEpoch.AddSeconds(6) };
        stored = await Store.SaveStateAsync(Id('a'), exited, [new EngineEvent("container", "oom", Id('a'), new Dictionary<string, string>(), 3_000), new EngineEvent("container", "die", Id('a'), new Dictionary<string, string> { ["exitCode"] = "137" }, 3_000)], Ct);
        Assert.Equal(["oom", "die"], stored.Select(e => e.Action));
        Assert.Equal(exited, (await Store.GetContainerAsync(Id('a'), Ct))!.State);

        var e = await Assert.ThrowsAsync<EngineException>(() => Store.SaveStateAsync(Id('z'), exited, [new EngineEvent("container", "die", Id('z'), new Dictionary<string, string>(), 4_000)], Ct));
        Assert.Equal(ErrorKind.NotFound, e.Kind);
        Assert.Equal(["create", "start", "oom", "die"], (await Store.ListEventsAsync(null, null, Ct)).Select(x => x.Action));
    }

    [Fact]
    public async Task AddContainerWithEvent_NameTaken_NeitherRowNorEvent()
    {
        await Store.AddContainerAsync(Container(Id('a'), "web"), new EngineEvent("container", "create", Id('a'), new Dictionary<string, string>(), 1), Ct);
        var e = await Assert.ThrowsAsync<EngineException>(() => Store.AddContainerAsync(Container(Id('b'), "web"), new EngineEvent("container", "create", Id('b'), new Dictionary<string, string>(), 2), Ct));
        Assert.Equal(ErrorKind.AlreadyExists, e.Kind);
        Assert.Null(await Store.GetContainerAsync(Id('b'), Ct));
        Assert.Equal([Id('a')], (await Store.ListEventsAsync(null, null, Ct)).Select(x => x.ActorId));
    }

    [Fact]
    public async Task Rename_ConflictAndSuccess()
    {
        await Store.AddContainerAsync(Container(Id('a'), "one"), Ct);
        await Store.AddContainerAsync(Container(Id('b'), "two"), Ct);
        var e = await Assert.ThrowsAsync<EngineException>(() => Store.RenameContainerAsync(Id('a'), "two", Ct));
        Assert.Equal(ErrorKind.AlreadyExists, e.Kind);
        await Store.RenameContainerAsync(Id('a'), "three", Ct);
        Assert.Equal(Id('a'), (await Store.LookupContainerAsync("three", Ct)).Id);
    }

    [Fact]
    public async Task Remove_CascadesExecAndStats()
    {
        await Store.AddContainerAsync(Container(Id('a'), "web"), Ct);
        await Store.AddExecAsync(new ExecRecord(Id('e'), Id('a'), "{}", true, null, 10, DateTimeOffset.UtcNow), Ct);
        await Store.AddStatsAsync([new StatsSample(Id('a'), 10, 100, 1, 0, 2, 3, 0, 1, 0, 0, 0, 0)], Ct);
        Assert.True(await Store.RemoveContainerAsync(Id('a'), Ct));
        Assert.False(await Store.RemoveContainerAsync(Id('a'), Ct));
        Assert.Null(await Store.GetExecAsync(Id('e'), Ct));
        Assert.Empty(await Store.QueryStatsAsync(Id('a'), 10, 0, 1000, Ct));
    }

    [Fact]
    public async Task Events_AppendAndRangeQuery_InOrder()
    {
        var e1 = await Store.AppendEventAsync(new EngineEvent("container", "create", Id('a'), new Dictionary<string, string> { ["name"] = "x" }, 1_000), Ct);
        var e2 = await Store.AppendEventAsync(new EngineEvent("container", "start", Id('a'), new Dictionary<string, string>(), 2_000), Ct);
        await Store.AppendEventAsync(new EngineEvent("container", "die", Id('a'), new Dictionary<string, string>(), 3_000), Ct);
        Assert.True(e2.Seq > e1.Seq);
        var range = await Store.ListEventsAsync(1_500, 3_000, Ct);
        Assert.Equal(["start", "die"], range.Select(e => e.Action));
        Assert.Equal("x", (await Store.ListEventsAsync(null, 1_000, Ct)).Single().Attributes["name"]);
    }

    [Fact]
    public async Task Volumes_AddGetListRemove_DuplicateRefused()
    {
        var v = new VolumeRecord("data", "local", "/var/lib/dashboard/volumes/data", DateTimeOffset.UtcNow, new Dictionary<string, string> { ["k"] = "v" }, new Dictionary<string, string>());
        await Store.AddVolumeAsync(v, Ct);
        Assert.Equal(ErrorKind.AlreadyExists, (await Assert.ThrowsAsync<EngineException>(() => Store.AddVolumeAsync(v, Ct))).Kind);
        Assert.Equal("v", (await Store.GetVolumeAsync("data", Ct))!.Labels["k"]);
        Assert.Null(await Store.GetVolumeAsync("DATA", Ct));
        Assert.Single(await Store.ListVolumesAsync(Ct));
        Assert.True(await Store.RemoveVolumeAsync("data", Ct));
    }

    [Fact]
    public async Task Networks_ByIdOrName_UniqueNames()
    {
        await Store.AddNetworkAsync(new NetworkRecord(Id('n'), "front", "bridge", "10.88.0.0/16", "10.88.0.1", DateTimeOffset.UtcNow, new Dictionary<string, string>()), Ct);
        var dup = await Assert.ThrowsAsync<EngineException>(() => Store.AddNetworkAsync(new NetworkRecord(Id('m'), "front", "bridge", null, null, DateTimeOffset.UtcNow, new Dictionary<string, string>()), Ct));
        Assert.Equal(ErrorKind.AlreadyExists, dup.Kind);
        Assert.Equal("10.88.0.1", (await Store.GetNetworkAsync("front", Ct))!.Gateway);
        Assert.Equal("front", (await Store.GetNetworkAsync(Id('n'), Ct))!.Name);
        Assert.True(await Store.RemoveNetworkAsync(Id('n'), Ct));
        Assert.Empty(await Store.ListNetworksAsync(Ct));
    }

    [Fact]
    public async Task Exec_AddUpdateList_UnknownContainerNotFound()
    {
        await Store.AddContainerAsync(Container(Id('a'), "web"), Ct);
        await Store.AddExecAsync(new ExecRecord(Id('e'), Id('a'), "{\"args\":[\"sh\"]}", false, null, 0, DateTimeOffset.UtcNow), Ct);
        await Store.UpdateExecAsync(Id('e'), false, 3, 42, Ct);
        var exec = Assert.Single(await Store.ListExecsAsync(Id('a'), Ct));
        Assert.Equal(3, exec.ExitCode);
        Assert.Equal(42, exec.Pid);
        var e = await Assert.ThrowsAsync<EngineException>(() => Store.AddExecAsync(new ExecRecord(Id('f'), Id('z'), "{}", false, null, 0, DateTimeOffset.UtcNow), Ct));
        Assert.Equal(ErrorKind.NotFound, e.Kind);
    }

    [Fact]
    public async Task Stats_UpsertQueryPrune()
    {
        await Store.AddContainerAsync(Container(Id('a'), "web"), Ct);
        await Store.AddStatsAsync([new StatsSample(Id('a'), 10, 100, 1, 0, 5, 0, 0, 1, 0, 0, 0, 0), new StatsSample(Id('a'), 10, 110, 2, 0, 6, 0, 0, 1, 0, 0, 0, 0)], Ct);
        await Store.AddStatsAsync([new StatsSample(Id('a'), 10, 110, 3, 0, 7, 0, 0, 1, 0, 0, 0, 0)], Ct);
        var samples = await Store.QueryStatsAsync(Id('a'), 10, 0, 200, Ct);
        Assert.Equal([5L, 7L], samples.Select(s => s.MemoryUsage));
        Assert.Equal(1, await Store.PruneStatsAsync(10, 105, Ct));
    }

    /// <summary>The stats sampler stores a round's rollups after a container may have been removed; it relies on this.</summary>
    [Fact]
    public async Task AddStats_ContainerRemovedMeanwhile_SkipsItsSamplesKeepsOthers()
    {
        await Store.AddContainerAsync(Container(Id('a'), "web"), Ct);
        await Store.AddContainerAsync(Container(Id('b'), "gone"), Ct);
        Assert.True(await Store.RemoveContainerAsync(Id('b'), Ct));
        await Store.AddStatsAsync(
        [
            new StatsSample(Id('b'), 10, 100, 1, 0, 4, 0, 0, 1, 0, 0, 0, 0),
            new StatsSample(Id('a'), 10, 100, 1, 0, 5, 0, 0, 1, 0, 0, 0, 0),
            new StatsSample(Id('b'), 10, 110, 1, 0, 6, 0, 0, 1, 0, 0, 0, 0),
        ], Ct);
        Assert.Equal([5L], (await Store.QueryStatsAsync(Id('a'), 10, 0, 200, Ct)).Select(s => s.MemoryUsage));
        Assert.Empty(await Store.QueryStatsAsync(Id('b'), 10, 0, 200, Ct));
    }

    [Fact]
    public async Task ConcurrentCreates_SameName_ExactlyOneWins()
    {
        var tasks = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            try
            {
                await Store.AddContainerAsync(Container(i.ToString("x2", System.Globalization.CultureInfo.InvariantCulture) + new string('0', 62), "race"), Ct);
                return true;
            }
            catch (EngineException e) when (e.Kind == ErrorKind.AlreadyExists)
            {
                return false;
            }
        }, Ct));
        var results = await Task.WhenAll(tasks);
        Assert.Equal(1, results.Count(r => r));
    }
}
