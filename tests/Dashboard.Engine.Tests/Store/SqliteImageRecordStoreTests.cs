using Dashboard.Engine.Images;
using Dashboard.Engine.Store;
using Dashboard.Images.Records;
using Dashboard.Oci;
using ImageRecord = Dashboard.Images.Records.ImageRecord;
using Microsoft.Data.Sqlite;

namespace Dashboard.Engine.Tests.Store;

/// <summary>The engine's image records in SQLite (plain SQL on EngineDatabase's connections): a tag names one image, a put replaces the names.</summary>
public sealed class SqliteImageRecordStoreTests : IAsyncDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _dir = Directory.CreateTempSubdirectory("deir-").FullName;

    public async ValueTask DisposeAsync()
    {
        await Task.Yield();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<SqliteImageRecordStore> NewStoreAsync()
    {
        var database = new EngineDatabase(Path.Combine(_dir, "engine.db"));
        await SqliteContainerStore.InitializeAsync(database, Ct);
        return new SqliteImageRecordStore(database);
    }

    private static ImageRecord Record(string seed, params string[] names) => new()
    {
        Id = Digest.Compute(System.Text.Encoding.UTF8.GetBytes("config " + seed)),
        ManifestDigest = Digest.Compute(System.Text.Encoding.UTF8.GetBytes("manifest " + seed)),
        ManifestMediaType = "application/vnd.oci.image.manifest.v1+json",
        Names = names,
        Created = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
        Os = "linux",
        Architecture = "amd64",
        Size = 1234,
    };

    [Fact]
    public async Task PutGetFind_RoundTripsEveryField()
    {
        var store = await NewStoreAsync();
        var a = Record("a", "docker.io/library/b:2", "docker.io/library/a:1");
        await store.PutAsync(a, Ct);
        var got = await store.GetAsync(a.Id, Ct);
        Assert.NotNull(got);
        Assert.Equal(a with { Names = ["docker.io/library/a:1", "docker.io/library/b:2"] }, got, new RecordComparer());
        Assert.Equal(a.Id, await store.FindByNameAsync("docker.io/library/a:1", Ct));
        Assert.Null(await store.FindByNameAsync("docker.io/library/A:1", Ct));
        Assert.Null(await store.GetAsync(Record("missing").Id, Ct));
    }

    [Fact]
    public async Task Put_NameOfAnotherImageAndFewerNames_MovesAndReplaces()
    {
        var store = await NewStoreAsync();
        var a = Record("a", "x:1", "shared:latest");
        var b = Record("b", "y:1");
        await store.PutAsync(a, Ct);
        await store.PutAsync(b, Ct);
        await store.PutAsync(b with { Names = ["shared:latest"], Size = 99 }, Ct);
        Assert.Equal(["x:1"], (await store.GetAsync(a.Id, Ct))!.Names);
        var movedTo = await store.GetAsync(b.Id, Ct);
        Assert.Equal(["shared:latest"], movedTo!.Names);
        Assert.Equal(99, movedTo.Size);
        Assert.Equal(b.Id, await store.FindByNameAsync("shared:latest", Ct));
        Assert.Null(await store.FindByNameAsync("y:1", Ct));
        Assert.Equal(2, (await store.ListAsync(Ct)).Count);
    }

    [Fact]
    public async Task Delete_ImageWithNames_NamesGoWithItListOrderedById()
    {
        var store = await NewStoreAsync();
        var records = new[] { Record("a", "x:1", "x:latest"), Record("b", "y:1"), Record("c") };
        foreach (var r in records.OrderByDescending(r => r.Id.ToString(), StringComparer.Ordinal))
        {
            await store.PutAsync(r, Ct);
        }

        Assert.True(await store.DeleteAsync(records[0].Id, Ct));
        Assert.False(await store.DeleteAsync(records[0].Id, Ct));
        Assert.Null(await store.GetAsync(records[0].Id, Ct));
        Assert.Null(await store.FindByNameAsync("x:latest", Ct));
        Assert.Equal(records[1].Id, await store.FindByNameAsync("y:1", Ct));
        var expected = records[1..].Select(r => r.Id.ToString()).Order(StringComparer.Ordinal);
        Assert.Equal(expected, (await store.ListAsync(Ct)).Select(r => r.Id.ToString()));
    }

    private sealed class RecordComparer : IEqualityComparer<ImageRecord>
    {
        public bool Equals(ImageRecord? x, ImageRecord? y) =>
            x is not null && y is not null && x.Id == y.Id && x.ManifestDigest == y.ManifestDigest && x.ManifestMediaType == y.ManifestMediaType &&
            x.Names.SequenceEqual(y.Names) && x.Created == y.Created && x.Os == y.Os && x.Architecture == y.Architecture && x.Size == y.Size;

        public int GetHashCode(ImageRecord obj) => obj.Id.GetHashCode();
    }
}
