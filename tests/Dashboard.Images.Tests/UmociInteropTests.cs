using Dashboard.Images.Layers;
using Dashboard.Images.Records;
using Dashboard.Images.Tests.Layers;
using Dashboard.Linux.Fs;
using Dashboard.Testing;
using Dashboard.Testing.Images;

namespace Dashboard.Images.Tests;

/// <summary>Our unpacked root filesystem equals <c>umoci unpack</c> of the same image (paths, types, modes, owners, link targets, contents, xattrs).</summary>
public sealed class UmociInteropTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-umoci-").FullName;

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
    public async Task Unpack_BusyboxLayout_EqualsUmociUnpack(LayerDriver driver)
    {
        Requires.Root();
        Requires.Tool("umoci");
        var layout = Path.Combine(_dir, "layout");
        BusyboxImage.CreateLayout(layout);

        await AssertSameAsUmociAsync(layout, driver);
    }

    [Theory]
    [InlineData(LayerDriver.Overlay)]
    [InlineData(LayerDriver.Copy)]
    public async Task Unpack_UmociRepackedLayers_EqualsUmociUnpack(LayerDriver driver)
    {
        Requires.Root();
        Requires.Tool("umoci");
        var layout = Path.Combine(_dir, "layout");
        BusyboxImage.CreateLayout(layout);
        var bundle = Path.Combine(_dir, "work-bundle");
        ImageStoreTests.Run("umoci", "unpack", "--image", layout + ":latest", bundle);
        var rootfs = Path.Combine(bundle, "rootfs");

        // Second layer: a whiteout, a directory replaced (opaque), a hardlink, a symlinked directory, new owners/modes.
        File.Delete(Path.Combine(rootfs, "etc", "group"));
        Directory.Delete(Path.Combine(rootfs, "tmp"));
        Directory.CreateDirectory(Path.Combine(rootfs, "tmp"));
        File.WriteAllText(Path.Combine(rootfs, "tmp", "new"), "new");
        using (var bin = FileCalls.Open(Path.Combine(rootfs, "bin"), FileCalls.O_PATH | FileCalls.O_DIRECTORY))
        {
            FileCalls.LinkAt(bin, "busybox", bin, "bb2");
        }

        File.CreateSymbolicLink(Path.Combine(rootfs, "etc2"), "/etc");
        Directory.CreateDirectory(Path.Combine(rootfs, "data", "sub"));
        File.WriteAllText(Path.Combine(rootfs, "data", "sub", "x"), "x");
        using (var data = FileCalls.Open(Path.Combine(rootfs, "data"), FileCalls.O_PATH | FileCalls.O_DIRECTORY))
        {
            FileCalls.LchownAt(data, "sub", 1000, 1000);
            FileCalls.LchmodAt(data, "sub", 0x5ED);
        }

        ImageStoreTests.Run("umoci", "repack", "--image", layout + ":latest", bundle);

        // Third layer: the first layer's directory becomes opaque and the symlink is removed.
        File.Delete(Path.Combine(rootfs, "etc2"));
        Directory.Delete(Path.Combine(rootfs, "data"), recursive: true);
        Directory.CreateDirectory(Path.Combine(rootfs, "data"));
        File.WriteAllText(Path.Combine(rootfs, "data", "only"), "only");
        ImageStoreTests.Run("umoci", "repack", "--image", layout + ":latest", bundle);

        await AssertSameAsUmociAsync(layout, driver);
    }

    private async Task AssertSameAsUmociAsync(string layout, LayerDriver driver)
    {
        var theirs = Path.Combine(_dir, "umoci-bundle-" + driver);
        ImageStoreTests.Run("umoci", "unpack", "--image", layout + ":latest", theirs);
        var store = new ImageStore(new ImageStoreOptions { Root = Path.Combine(_dir, "store-" + driver), LayerDriver = driver }, new InMemoryImageRecordStore());
        var record = Assert.Single(await store.ImportAsync(layout, cancellationToken: TestContext.Current.CancellationToken));
        var ours = await store.CreateRootfsAsync(record, Path.Combine(_dir, "c-" + driver), cancellationToken: TestContext.Current.CancellationToken);
        try
        {
            var expected = Describe(Path.Combine(theirs, "rootfs"));
            var actual = Describe(ours.RootfsPath);
            Assert.Equal(expected, actual);
        }
        finally
        {
            ours.Remove();
        }
    }

    private static List<string> Describe(string root) =>
        LayerTestRoot.Walk(root).Order(StringComparer.Ordinal).Select(p => LayerTestRoot.Describe(root, p, inode: true)).ToList();
}
