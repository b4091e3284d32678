using Dashboard.Images.Records;
using Dashboard.Oci;

namespace Dashboard.Images.Tests.Records;

/// <summary>One contract, run against every <see cref="IImageRecordStore"/> (STYLE.md habit 4).</summary>
public abstract class ImageRecordStoreContractTests
{
    protected abstract IImageRecordStore CreateStore();

    [Fact]
    public async Task PutGetList_RoundTrips()
    {
        var store = CreateStore();
        var record = Record(1, "docker.io/library/a:latest");
        await store.PutAsync(record, Ct);

        var loaded = await store.GetAsync(record.Id, Ct);

        Assert.NotNull(loaded);
        Assert.Equal(record.ManifestDigest, loaded.ManifestDigest);
        Assert.Equal(record.Names, loaded.Names);
        Assert.Single(await store.ListAsync(Ct));
    }

    [Fact]
    public async Task Put_NameUsedByAnother_MovesName()
    {
        var store = CreateStore();
        await store.PutAsync(Record(1, "docker.io/library/a:latest", "docker.io/library/a:v1"), Ct);
        await store.PutAsync(Record(2, "docker.io/library/a:latest"), Ct);

        Assert.Equal(["docker.io/library/a:v1"], (await store.GetAsync(Id(1), Ct))!.Names);
        Assert.Equal(["docker.io/library/a:latest"], (await store.GetAsync(Id(2), Ct))!.Names);
    }

    [Fact]
    public async Task Delete_RemovesOnlyThatRecord()
    {
        var store = CreateStore();
        await store.PutAsync(Record(1), Ct);
        await store.PutAsync(Record(2), Ct);

        Assert.True(await store.DeleteAsync(Id(1), Ct));
        Assert.False(await store.DeleteAsync(Id(1), Ct));
        Assert.Null(await store.GetAsync(Id(1), Ct));
        Assert.NotNull(await store.GetAsync(Id(2), Ct));
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Digest Id(int n) => Digest.Compute([(byte)n]);

    private static ImageRecord Record(int n, params string[] names) => new()
    {
        Id = Id(n),
        ManifestDigest = Digest.Compute([(byte)n, 1]),
        ManifestMediaType = Oci.Image.MediaTypes.OciManifest,
        Names = names,
        Created = DateTimeOffset.UnixEpoch,
        Architecture = "amd64",
        Size = n,
    };
}

public sealed class InMemoryImageRecordStoreTests : ImageRecordStoreContractTests
{
    protected override IImageRecordStore CreateStore() => new InMemoryImageRecordStore();
}

public sealed class JsonFileImageRecordStoreTests : ImageRecordStoreContractTests, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-records-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    protected override IImageRecordStore CreateStore() => new JsonFileImageRecordStore(Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".json"));
}
