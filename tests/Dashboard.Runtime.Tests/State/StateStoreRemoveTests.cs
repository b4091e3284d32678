namespace Dashboard.Runtime.Tests.State;

public sealed class StateStoreRemoveTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-statestore-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Reserve_Save_WritesFlatFilesAndNoDirectory()
    {
        var store = new StateStore(_dir);
        var entry = store.Reserve("c1");
        store.Save(new ContainerRecord { Id = "c1", Bundle = "/b" });
        store.SaveConfig("c1", "{}"u8);

        Assert.Equal(Path.Combine(_dir, "c1"), entry);
        Assert.True(File.Exists(entry));
        Assert.Equal(0, new FileInfo(entry).Length);
        Assert.Equal(["c1", "c1@config.json", "c1@state.json"], Entries());
        Assert.Equal(Path.Combine(_dir, "c1@exec.fifo"), store.FifoPath("c1"));
        Assert.Equal("/b", store.Load("c1").Bundle);
        Assert.Equal(["c1"], store.ListIds());
    }

    [Fact]
    public void Reserve_Twice_IsAlreadyExists()
    {
        var store = new StateStore(_dir);
        store.Reserve("c1");

        var e = Assert.Throws<RuntimeException>(() => store.Reserve("c1"));

        Assert.Equal(ErrorKind.AlreadyExists, e.Kind);
    }

    [Fact]
    public void Reserve_MissingRoot_CreatesIt()
    {
        var store = new StateStore(Path.Combine(_dir, "a", "b"));

        store.Reserve("c1");

        Assert.True(File.Exists(Path.Combine(_dir, "a", "b", "c1")));
    }

    [Fact]
    public void Remove_KnownFiles_RemovesEveryFileAndTheEntry()
    {
        var store = new StateStore(_dir);
        store.Reserve("c1");
        store.Reserve("c1.x");
        store.Save(new ContainerRecord { Id = "c1", Bundle = "/b" });
        File.WriteAllText(store.ConfigPath("c1"), "{}");
        File.WriteAllText(store.FifoPath("c1"), "");
        File.WriteAllText(Path.Combine(_dir, ".c1@state.json.tmp"), "");

        store.Remove("c1");

        Assert.Equal(["c1.x"], Entries());
    }

    [Fact]
    public void ListIds_OnlyContainersWithState_InOrdinalOrder()
    {
        var store = new StateStore(_dir);
        foreach (var id in new[] { "b", "a", "creating" })
        {
            store.Reserve(id);
        }

        store.Save(new ContainerRecord { Id = "b", Bundle = "/b" });
        store.Save(new ContainerRecord { Id = "a", Bundle = "/a" });
        Directory.CreateDirectory(Path.Combine(_dir, "netns"));

        Assert.Equal(["a", "b"], store.ListIds());
    }

    [Fact]
    public void LegacyDirectory_IsRead_ListedAndRemoved()
    {
        // A container created by a runtime of an earlier version: a directory per container.
        var legacy = Path.Combine(_dir, "old1");
        Directory.CreateDirectory(legacy);
        File.WriteAllBytes(Path.Combine(legacy, "state.json"), ContainerRecordJson.Write(new ContainerRecord { Id = "old1", Bundle = "/legacy" }));
        File.WriteAllText(Path.Combine(legacy, "config.json"), "{}");
        File.WriteAllText(Path.Combine(legacy, "exec.fifo"), "");
        var store = new StateStore(_dir);

        Assert.Equal("/legacy", store.Load("old1").Bundle);
        Assert.Equal(Path.Combine(legacy, "config.json"), store.ConfigPath("old1"));
        Assert.Equal(Path.Combine(legacy, "exec.fifo"), store.FifoPath("old1"));
        Assert.Equal(["old1"], store.ListIds());
        Assert.Equal(ErrorKind.AlreadyExists, Assert.Throws<RuntimeException>(() => store.Reserve("old1")).Kind);

        store.Remove("old1");

        Assert.Empty(Entries());
    }

    [Fact]
    public void LegacyDirectory_UnknownFilesAndSubdirectories_FallsBackToTheRecursiveDelete()
    {
        var legacy = Path.Combine(_dir, "c1");
        Directory.CreateDirectory(Path.Combine(legacy, "sub", "deeper"));
        File.WriteAllText(Path.Combine(legacy, "state.json"), "{}");
        File.WriteAllText(Path.Combine(legacy, "other.log"), "x");

        new StateStore(_dir).Remove("c1");

        Assert.False(Directory.Exists(legacy));
    }

    [Fact]
    public void Remove_Missing_IsNoError()
    {
        var store = new StateStore(_dir);

        store.Remove("never-created");

        Assert.Empty(Entries());
    }

    private string[] Entries() => [.. Directory.EnumerateFileSystemEntries(_dir).Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal)];
}
