namespace Dashboard.Runtime.Tests.State;

public sealed class StateStoreRemoveTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-statestore-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Remove_KnownFiles_RemovesTheDirectory()
    {
        var store = new StateStore(_dir);
        var dir = store.Reserve("c1");
        store.Save(new ContainerRecord { Id = "c1", Bundle = "/b" });
        File.WriteAllText(store.ConfigPath("c1"), "{}");
        File.WriteAllText(store.FifoPath("c1"), "");

        store.Remove("c1");

        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void Remove_UnknownFilesAndSubdirectories_FallsBackToTheRecursiveDelete()
    {
        var store = new StateStore(_dir);
        var dir = store.Reserve("c1");
        store.Save(new ContainerRecord { Id = "c1", Bundle = "/b" });
        File.WriteAllText(Path.Combine(dir, "other.log"), "x");
        Directory.CreateDirectory(Path.Combine(dir, "sub", "deeper"));

        store.Remove("c1");

        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void Remove_Missing_IsNoError()
    {
        var store = new StateStore(_dir);

        store.Remove("never-created");

        Assert.False(Directory.Exists(Path.Combine(_dir, "never-created")));
    }
}
