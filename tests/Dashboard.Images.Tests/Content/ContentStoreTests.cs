using System.Text;
using Dashboard.Images.Content;
using Dashboard.Oci;

namespace Dashboard.Images.Tests.Content;

public sealed class ContentStoreTests : IDisposable
{
    private static readonly byte[] s_data = Encoding.UTF8.GetBytes("hello blob");
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-content-").FullName;
    private readonly ContentStore _store;

    public ContentStoreTests()
    {
        _store = new ContentStore(Path.Combine(_dir, "store"));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task WriteAsync_Verified_StoredUnderDigest()
    {
        var digest = Digest.Compute(s_data);
        await _store.WriteAsync(digest, s_data.Length, new MemoryStream(s_data), TestContext.Current.CancellationToken);
        Assert.True(_store.Exists(digest));
        Assert.Equal(Path.Combine(_store.Root, "blobs", "sha256", digest.Encoded), _store.GetPath(digest));
        Assert.Equal(s_data, await _store.ReadAllAsync(digest, 1024, TestContext.Current.CancellationToken));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_store.Root, "ingest")));
    }

    public static TheoryData<string> Corruptions => new() { "flip", "append", "truncate", "size-smaller", "size-larger", "size-negative" };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public async Task WriteAsync_CorruptBlob_NothingStored(string corruption)
    {
        var digest = Digest.Compute(s_data);
        var content = s_data.ToArray();
        long size = s_data.Length;
        switch (corruption)
        {
            case "flip": content[0] ^= 1; break;
            case "append": content = [.. content, 0]; break;
            case "truncate": content = content[..^1]; break;
            case "size-smaller": size--; break;
            case "size-larger": size++; break;
            case "size-negative": size = -1; break;
        }

        var e = await Assert.ThrowsAsync<ImageException>(() => _store.WriteAsync(digest, size, new MemoryStream(content), TestContext.Current.CancellationToken));
        Assert.Equal(ImageErrorKind.InvalidSpec, e.Kind);
        Assert.False(_store.Exists(digest));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_store.Root, "ingest")));
    }

    [Fact]
    public async Task WriteAsync_ConcurrentWritersOfSameBlob_OneIntactBlob()
    {
        var data = new byte[3 << 20];
        new Random(1).NextBytes(data);
        var digest = Digest.Compute(data);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => _store.WriteAsync(digest, data.Length, new MemoryStream(data), TestContext.Current.CancellationToken), TestContext.Current.CancellationToken)));
        Assert.Equal(data, await _store.ReadAllAsync(digest, data.Length, TestContext.Current.CancellationToken));
        Assert.Single(_store.List());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_store.Root, "ingest")));
    }

    [Fact]
    public async Task GarbageCollect_Unreferenced_Deleted()
    {
        var (keep, _) = await _store.WriteAsync(Encoding.UTF8.GetBytes("keep"), TestContext.Current.CancellationToken);
        var (drop, _) = await _store.WriteAsync(Encoding.UTF8.GetBytes("drop"), TestContext.Current.CancellationToken);
        var freed = _store.GarbageCollect(new HashSet<Digest> { keep });
        Assert.Equal(4, freed);
        Assert.True(_store.Exists(keep));
        Assert.False(_store.Exists(drop));
    }

    [Fact]
    public void Store_Directories_ArePrivate()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_store.Root));
    }
}
