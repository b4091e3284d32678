using System.Formats.Tar;
using Dashboard.Images.Layers;
using Dashboard.Images.Records;
using Dashboard.Images.Rootfs;
using Dashboard.Images.Tests.Layers;
using Dashboard.Linux.Fs;
using Dashboard.Testing;
using Dashboard.Testing.Images;

namespace Dashboard.Images.Tests.Rootfs;

/// <summary>Commit round trip: image + diff of the container's upper dir = the container's view.</summary>
public sealed class ContainerDiffTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-diff-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        foreach (var mount in File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(m => m.StartsWith(_dir, StringComparison.Ordinal)).Reverse().ToList())
        {
            OverlayMount.TryUnmount(mount, detach: true);
        }

        LayerTestRoot.RemoveTree(_dir);
    }

    [Theory]
    [InlineData(LayerDriver.Overlay)]
    [InlineData(LayerDriver.Copy)]
    public async Task CommitAsync_ContainerChanges_NewImageEqualsContainerView(LayerDriver applyDriver)
    {
        Requires.Root();
        var store = new ImageStore(new ImageStoreOptions { Root = Path.Combine(_dir, "store"), LayerDriver = LayerDriver.Overlay }, new InMemoryImageRecordStore());
        var layout = WriteBaseLayout();
        var image = Assert.Single(await store.ImportAsync(layout, "base:1", cancellationToken: Ct));
        var container = await store.CreateRootfsAsync(image, Path.Combine(_dir, "c1"), RootfsKind.Overlay, Ct);
        var root = container.RootfsPath;

        Mutate(root);

        var expected = LayerTestRoot.Snapshot(root);
        var layer = new MemoryStream();
        ContainerDiff.WriteLayer(container.UpperPath, layer, Ct);
        var names = ReadNames(layer.ToArray());
        Assert.Contains("etc/.wh.gone", names);
        Assert.Contains(".wh.data", names);
        Assert.Contains("opq/.wh..wh..opq", names);
        Assert.DoesNotContain(names, n => n.StartsWith("opq/sub", StringComparison.Ordinal) || n == "etc/second");

        var committed = await store.CommitAsync(image, container.UpperPath, "committed:1", cancellationToken: Ct);

        Assert.Equal(["docker.io/library/committed:1"], committed.Names);
        var (manifest, config) = await store.LoadAsync(committed, Ct);
        Assert.Equal(3, manifest.Layers.Count);
        Assert.Equal(3, config.RootFs.DiffIds.Count);
        Assert.Equal("dashboard commit", config.History![^1].CreatedBy);
        var target = applyDriver == LayerDriver.Overlay ? store : new ImageStore(new ImageStoreOptions { Root = Path.Combine(_dir, "store-copy"), LayerDriver = LayerDriver.Copy }, new InMemoryImageRecordStore());
        if (!ReferenceEquals(target, store))
        {
            var exported = Path.Combine(_dir, "exported");
            await store.ExportOciLayoutAsync(["committed:1"], exported, Ct);
            committed = Assert.Single(await target.ImportAsync(exported, cancellationToken: Ct));
        }

        var again = await target.CreateRootfsAsync(committed, Path.Combine(_dir, "c2"), applyDriver == LayerDriver.Overlay ? RootfsKind.Overlay : RootfsKind.Copy, Ct);
        Assert.Equal(expected, LayerTestRoot.Snapshot(again.RootfsPath));
        Assert.Equal(2u, FileCalls.Lstat(Path.Combine(again.RootfsPath, "new", "hardlink")).Links);
        again.Remove();
        container.Remove();
    }

    [Fact]
    public async Task CommitAsync_CopiedRootfs_DiffAgainstImageTreeRoundTrips()
    {
        Requires.Root();
        var store = new ImageStore(new ImageStoreOptions { Root = Path.Combine(_dir, "store"), LayerDriver = LayerDriver.Copy }, new InMemoryImageRecordStore());
        var image = Assert.Single(await store.ImportAsync(WriteBaseLayout(), "base:1", cancellationToken: Ct));
        var container = await store.CreateRootfsAsync(image, Path.Combine(_dir, "c1"), RootfsKind.Copy, Ct);
        Mutate(container.RootfsPath);
        var expected = LayerTestRoot.Snapshot(container.RootfsPath);

        var committed = await store.CommitAsync(image, container, "committed:copy", cancellationToken: Ct);

        var (manifest, _) = await store.LoadAsync(committed, Ct);
        Assert.Equal(3, manifest.Layers.Count);
        var names = ReadNames(await ReadLayerTarAsync(store, manifest.Layers[^1]));
        Assert.Contains("etc/.wh.gone", names);
        Assert.Contains(".wh.data", names);
        Assert.Contains("opq/.wh.sub", names);
        Assert.Contains("keep/mode", names);
        Assert.Contains("new/nested/file", names);
        Assert.DoesNotContain("etc/second", names);
        Assert.DoesNotContain("bin/busybox", names);
        var again = await store.CreateRootfsAsync(committed, Path.Combine(_dir, "c2"), RootfsKind.Copy, Ct);
        Assert.Equal(expected, LayerTestRoot.Snapshot(again.RootfsPath));
        again.Remove();
        container.Remove();
    }

    [Fact]
    public void WriteLayerFromCopy_UntouchedCopy_EmptyLayer()
    {
        Requires.Root();
        var image = Directory.CreateDirectory(Path.Combine(_dir, "image")).FullName;
        Directory.CreateDirectory(Path.Combine(image, "etc"));
        File.WriteAllText(Path.Combine(image, "etc", "hosts"), "127.0.0.1 localhost");
        File.CreateSymbolicLink(Path.Combine(image, "hosts"), "etc/hosts");
        var copy = Directory.CreateDirectory(Path.Combine(_dir, "copy")).FullName;
        TreeCopy.Copy(image, copy);
        var layer = new MemoryStream();

        ContainerDiff.WriteLayerFromCopy(image, copy, layer, Ct);

        Assert.Empty(ReadNames(layer.ToArray()));
    }

    private string WriteBaseLayout()
    {
        var layout = Path.Combine(_dir, "layout");
        BusyboxImage.WriteLayout(layout,
        [
            new TestTar().Dir("etc").File("etc/passwd", "root:x:0:0").File("etc/gone", "x").Dir("opq").File("opq/lower", "l").Dir("opq/sub").File("opq/sub/deep", "d")
                .Dir("data").File("data/f", "f").Dir("keep").File("keep/mode", "m", mode: 0x1A4).Symlink("link", "etc/passwd").ToArray(),
            new TestTar().File("etc/second", "2").ToArray(),
        ], "latest", ["sh"]);
        return layout;
    }

    private static void Mutate(string root)
    {
        File.WriteAllText(Path.Combine(root, "etc", "passwd"), "root:x:0:0\nbob:x:1000:1000");
        File.Delete(Path.Combine(root, "etc", "gone"));
        Directory.Delete(Path.Combine(root, "opq"), recursive: true);
        Directory.CreateDirectory(Path.Combine(root, "opq"));
        File.WriteAllText(Path.Combine(root, "opq", "upper"), "u");
        Directory.Delete(Path.Combine(root, "data"), recursive: true);
        File.SetUnixFileMode(Path.Combine(root, "keep", "mode"), (UnixFileMode)0x9ED);
        Directory.CreateDirectory(Path.Combine(root, "new", "nested"));
        File.WriteAllText(Path.Combine(root, "new", "nested", "file"), "n");
        File.Delete(Path.Combine(root, "link"));
        File.CreateSymbolicLink(Path.Combine(root, "link"), "/new/nested/file");
        using (var dir = FileCalls.Open(Path.Combine(root, "new"), FileCalls.O_PATH | FileCalls.O_DIRECTORY))
        {
            FileCalls.LinkAt(dir, "nested/file", dir, "hardlink");
            FileCalls.MknodAt(dir, "fifo", FileKind.Fifo, 0x1A4, 0, 0);
            FileCalls.LchownAt(dir, "nested", 1000, 1000);
        }
    }

    private static async Task<byte[]> ReadLayerTarAsync(ImageStore store, Dashboard.Oci.Image.Descriptor layer)
    {
        await using var blob = store.Content.OpenRead(layer.Digest);
        await using var gzip = new System.IO.Compression.GZipStream(blob, System.IO.Compression.CompressionMode.Decompress);
        var tar = new MemoryStream();
        await gzip.CopyToAsync(tar, Ct);
        return tar.ToArray();
    }

    [Fact]
    public void WriteLayer_UntouchedContainer_EmptyLayer()
    {
        var upper = Directory.CreateDirectory(Path.Combine(_dir, "upper")).FullName;
        var layer = new MemoryStream();

        ContainerDiff.WriteLayer(upper, layer, Ct);

        Assert.Empty(ReadNames(layer.ToArray()));
    }

    private static List<string> ReadNames(byte[] tar)
    {
        var names = new List<string>();
        using var reader = new TarReader(new MemoryStream(tar));
        while (reader.GetNextEntry() is { } entry)
        {
            names.Add(entry.Name.TrimEnd('/'));
        }

        return names;
    }
}
