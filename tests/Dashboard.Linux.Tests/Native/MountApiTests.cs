using Dashboard.Linux.Native;

namespace Dashboard.Linux.Tests.Native;

public sealed class MountApiTests
{
    [Fact]
    public void AttributesOf_MapsPerMountFlags_AndLeavesSuperblockFlagsAndRelatime()
    {
        var (set, clear) = MountApi.AttributesOf(
            MountFlags.MS_RDONLY | MountFlags.MS_NOSUID | MountFlags.MS_NODEV | MountFlags.MS_NOEXEC | MountFlags.MS_SYNCHRONOUS | MountFlags.MS_RELATIME,
            0);
        Assert.Equal(MountApi.MOUNT_ATTR_RDONLY | MountApi.MOUNT_ATTR_NOSUID | MountApi.MOUNT_ATTR_NODEV | MountApi.MOUNT_ATTR_NOEXEC, set);
        Assert.Equal(0UL, clear);
    }

    [Fact]
    public void AttributesOf_ClearsWhatIsExplicitlyCleared_AndReplacesTheAtimeField()
    {
        var (set, clear) = MountApi.AttributesOf(MountFlags.MS_NOATIME, MountFlags.MS_RDONLY | MountFlags.MS_NOEXEC);
        Assert.Equal(MountApi.MOUNT_ATTR_NOATIME, set);
        Assert.Equal(MountApi.MOUNT_ATTR_RDONLY | MountApi.MOUNT_ATTR_NOEXEC | MountApi.MOUNT_ATTR__ATIME, clear);
    }

    [Fact]
    public void FsName_NamesCommonFilesystems()
    {
        Assert.Equal("ramfs", MountApi.FsName(0x858458f6));
        Assert.Equal("tmpfs", MountApi.FsName(0x01021994));
        Assert.Equal("filesystem 0x1234", MountApi.FsName(0x1234));
    }

    [Fact]
    public void SetattrAvailable_MatchesTheKernelVersion()
    {
        var release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim().Split('.', '-');
        var kernel = new Version(int.Parse(release[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(release[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(kernel >= new Version(5, 12), MountApi.SetattrAvailable);
    }
}
