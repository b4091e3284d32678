using Dashboard.Images.Content;
using Dashboard.Images.Layers;
using Dashboard.Images.Rootfs;
using Dashboard.Images.Tests.Layers;
using Dashboard.Linux.Fs;
using Dashboard.Testing;

namespace Dashboard.Images.Tests.Rootfs;

/// <summary>
/// Removing an overlay rootfs while something in this process has a file open inside it: the unmount waits out a
/// transient EBUSY (a child being forked by another thread holds copies of our fds until it execs) and falls back
/// to a lazy unmount when the rootfs stays busy, as <see cref="ContainerRootfs.Remove"/> documents.
/// </summary>
public sealed class ContainerRootfsRemoveTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-rootfs-rm-").FullName;

    public void Dispose()
    {
        foreach (var mount in File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(m => m.StartsWith(_dir, StringComparison.Ordinal)).Reverse().ToList())
        {
            OverlayMount.TryUnmount(mount, detach: true);
        }

        LayerTestRoot.RemoveTree(_dir);
    }

    private ContainerRootfs Create(string name)
    {
        Requires.Root();
        var layers = new LayerStore(Path.Combine(_dir, "layers"), new ContentStore(Path.Combine(_dir, "content")), LayerDriver.Overlay);
        var rootfs = ContainerRootfs.Create(layers, [], Path.Combine(_dir, name), RootfsKind.Overlay);
        File.WriteAllText(Path.Combine(rootfs.RootfsPath, "held"), "x");
        return rootfs;
    }

    [Fact]
    public async Task Remove_FileOpenInsideBriefly_UnmountedOnceClosed()
    {
        var rootfs = Create("brief");
        var held = File.OpenRead(Path.Combine(rootfs.RootfsPath, "held"));
        var closer = Task.Run(async () =>
        {
            await Task.Delay(300);
            await held.DisposeAsync();
        }, TestContext.Current.CancellationToken);

        rootfs.Remove();

        Assert.False(OverlayMount.IsMountPoint(rootfs.RootfsPath));
        Assert.False(Directory.Exists(rootfs.Directory));
        await closer;
    }

    [Fact]
    public void Remove_FileHeldOpen_LazilyUnmountedAndDeleted()
    {
        var rootfs = Create("held");
        using var held = File.OpenRead(Path.Combine(rootfs.RootfsPath, "held"));

        rootfs.Remove();

        Assert.False(OverlayMount.IsMountPoint(rootfs.RootfsPath));
        Assert.False(Directory.Exists(rootfs.Directory));
        Assert.Equal((byte)'x', held.ReadByte());
    }
}
