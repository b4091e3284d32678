using System.Runtime.InteropServices;

namespace Dashboard.Linux.Native;

/// <summary>
/// The fd-based mount API (Linux 5.2+ open_tree/move_mount, 5.12+ mount_setattr): a mount is cloned
/// detached, its attributes (and id mapping) are set while nobody else can reach it, and it is then
/// attached to a target fd. Nothing is resolved by path after the mount exists, so a rename race
/// cannot redirect a later remount to another mount (CVE-2021-30465 class).
/// </summary>
public static unsafe class MountApi
{
    public const uint OPEN_TREE_CLONE = 1;
    public const uint AT_EMPTY_PATH = 0x1000;
    public const uint AT_RECURSIVE = 0x8000;
    private const uint OPEN_TREE_CLOEXEC = 0x80000;
    private const uint MOVE_MOUNT_F_EMPTY_PATH = 0x04;
    private const uint MOVE_MOUNT_T_EMPTY_PATH = 0x40;

    public const ulong MOUNT_ATTR_RDONLY = 0x1;
    public const ulong MOUNT_ATTR_NOSUID = 0x2;
    public const ulong MOUNT_ATTR_NODEV = 0x4;
    public const ulong MOUNT_ATTR_NOEXEC = 0x8;
    public const ulong MOUNT_ATTR__ATIME = 0x70;
    public const ulong MOUNT_ATTR_RELATIME = 0x0;
    public const ulong MOUNT_ATTR_NOATIME = 0x10;
    public const ulong MOUNT_ATTR_STRICTATIME = 0x20;
    public const ulong MOUNT_ATTR_NODIRATIME = 0x80;
    public const ulong MOUNT_ATTR_IDMAP = 0x100000;
    public const ulong MOUNT_ATTR_NOSYMFOLLOW = 0x200000;

    [StructLayout(LayoutKind.Sequential)]
    private struct MountAttr
    {
        public ulong AttrSet;
        public ulong AttrClr;
        public ulong Propagation;
        public ulong UsernsFd;
    }

    private static readonly Lazy<bool> s_setattrAvailable = new(() =>
    {
        // An empty change is a no-op (0) where the call exists, ENOSYS where it does not.
        var attr = default(MountAttr);
        byte empty = 0;
        return LibC.syscall(SyscallNumbers.SYS_mount_setattr, -1, (nint)(&empty), (nint)AT_EMPTY_PATH, (nint)(&attr), sizeof(MountAttr), 0) >= 0
            || Marshal.GetLastPInvokeError() != Errno.ENOSYS;
    });

    /// <summary>Whether the kernel has mount_setattr (and so open_tree and move_mount): Linux 5.12 or newer.</summary>
    public static bool SetattrAvailable => s_setattrAvailable.Value;

    /// <summary>
    /// A detached copy of the mount at <paramref name="fd"/> (recursive: with its submounts),
    /// close-on-exec. The copy disappears when its last fd is closed unless it was attached.
    /// </summary>
    public static int CloneTree(int fd, bool recursive, string display)
    {
        byte empty = 0;
        var flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
        var rc = LibC.syscall(SyscallNumbers.SYS_open_tree, fd, (nint)(&empty), (nint)flags, 0, 0, 0);
        return rc < 0 ? throw SyscallException.FromLastError("open_tree", display) : (int)rc;
    }

    /// <summary>
    /// mount_setattr on the mount at <paramref name="fd"/>: sets and clears MOUNT_ATTR_* bits, changes
    /// propagation (MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, 0 = unchanged), and with
    /// MOUNT_ATTR_IDMAP maps ids through the user namespace <paramref name="usernsFd"/>.
    /// </summary>
    public static void SetAttributes(int fd, bool recursive, ulong set, ulong clear, ulong propagation, int usernsFd, string display)
    {
        var attr = new MountAttr { AttrSet = set, AttrClr = clear, Propagation = propagation, UsernsFd = usernsFd >= 0 ? (ulong)usernsFd : 0 };
        byte empty = 0;
        var flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
        if (LibC.syscall(SyscallNumbers.SYS_mount_setattr, fd, (nint)(&empty), (nint)flags, (nint)(&attr), sizeof(MountAttr), 0) < 0)
        {
            throw SyscallException.FromLastError("mount_setattr", display);
        }
    }

    /// <summary>Attaches the (detached) mount <paramref name="treeFd"/> on top of <paramref name="targetFd"/>.</summary>
    public static void Attach(int treeFd, int targetFd, string display)
    {
        byte empty = 0;
        if (LibC.syscall(SyscallNumbers.SYS_move_mount, treeFd, (nint)(&empty), targetFd, (nint)(&empty), (nint)(MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH), 0) < 0)
        {
            throw SyscallException.FromLastError("move_mount", display);
        }
    }

    private const long SYS_fsopen = 430;
    private const long SYS_fsconfig = 431;
    private const long SYS_fsmount = 432;
    private const uint FSOPEN_CLOEXEC = 1;
    private const uint FSMOUNT_CLOEXEC = 1;
    private const uint FSCONFIG_SET_FLAG = 0;
    private const uint FSCONFIG_SET_STRING = 1;
    private const uint FSCONFIG_CMD_CREATE = 6;

    /// <summary>
    /// A new, detached mount of a filesystem (fsopen/fsconfig/fsmount): <paramref name="data"/> is
    /// mount(2)'s comma-separated option string, <paramref name="attributes"/> MOUNT_ATTR_* bits.
    /// Its propagation can then be set through the fd before it is attached, with no lookup by path.
    /// </summary>
    public static int CreateDetached(string type, string? source, string? data, ulong attributes, string display)
    {
        var fs = (int)Check(Call(SYS_fsopen, type, null, FSOPEN_CLOEXEC, 0), "fsopen", display);
        try
        {
            if (!string.IsNullOrEmpty(source))
            {
                Check(Call(SYS_fsconfig, "source", source, FSCONFIG_SET_STRING, fs), "fsconfig source", display);
            }

            foreach (var option in (data ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = option.IndexOf('=', StringComparison.Ordinal);
                var rc = eq < 0
                    ? Call(SYS_fsconfig, option, null, FSCONFIG_SET_FLAG, fs)
                    : Call(SYS_fsconfig, option[..eq], option[(eq + 1)..], FSCONFIG_SET_STRING, fs);
                Check(rc, "fsconfig " + option, display);
            }

            Check(LibC.syscall(SYS_fsconfig, fs, (nint)FSCONFIG_CMD_CREATE, 0, 0, 0, 0), "fsconfig create", display);
            return (int)Check(LibC.syscall(SYS_fsmount, fs, (nint)FSMOUNT_CLOEXEC, (nint)attributes, 0, 0, 0), "fsmount", display);
        }
        finally
        {
            Sys.Close(fs);
        }
    }

    // fsopen(name, flags) when fs is 0; fsconfig(fs, cmd, key, value, 0) otherwise.
    private static long Call(long number, string first, string? second, uint flagsOrCmd, int fs)
    {
        var a = System.Text.Encoding.UTF8.GetBytes(first + "\0");
        var b = second is null ? null : System.Text.Encoding.UTF8.GetBytes(second + "\0");
        fixed (byte* pa = a)
        fixed (byte* pb = b)
        {
            return number == SYS_fsopen
                ? LibC.syscall(number, (nint)pa, (nint)flagsOrCmd, 0, 0, 0, 0)
                : LibC.syscall(number, fs, (nint)flagsOrCmd, (nint)pa, (nint)pb, 0, 0);
        }
    }

    private static long Check(long rc, string call, string display) => rc < 0 ? throw SyscallException.FromLastError(call, display) : rc;

    /// <summary>
    /// The MOUNT_ATTR_* bits to set and clear for mount(2) flags that apply per mount point (the
    /// superblock flags such as MS_SYNCHRONOUS have no per-mount form and are ignored, as a bind
    /// remount ignores them).
    /// </summary>
    public static (ulong Set, ulong Clear) AttributesOf(ulong msSet, ulong msClear)
    {
        ulong set = 0, clear = 0;
        foreach (var (ms, attr) in new[]
        {
            (MountFlags.MS_RDONLY, MOUNT_ATTR_RDONLY), (MountFlags.MS_NOSUID, MOUNT_ATTR_NOSUID), (MountFlags.MS_NODEV, MOUNT_ATTR_NODEV),
            (MountFlags.MS_NOEXEC, MOUNT_ATTR_NOEXEC), (MountFlags.MS_NODIRATIME, MOUNT_ATTR_NODIRATIME), (MountFlags.MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW),
        })
        {
            if ((msSet & ms) != 0)
            {
                set |= attr;
            }
            else if ((msClear & ms) != 0)
            {
                clear |= attr;
            }
        }

        // The access-time mode is one field: setting one replaces the whole field. relatime, the
        // default, is left as the source has it: in a user namespace the field is locked
        // (MNT_LOCK_ATIME) and any change of it fails with EPERM.
        if ((msSet & MountFlags.MS_NOATIME) != 0)
        {
            set |= MOUNT_ATTR_NOATIME;
            clear |= MOUNT_ATTR__ATIME;
        }
        else if ((msSet & MountFlags.MS_STRICTATIME) != 0)
        {
            set |= MOUNT_ATTR_STRICTATIME;
            clear |= MOUNT_ATTR__ATIME;
        }

        return (set, clear);
    }

    /// <summary>A readable name for a statfs f_type, for error messages.</summary>
    public static string FsName(long magic) => magic switch
    {
        0xEF53 => "ext4",
        0x01021994 => "tmpfs",
        0x794c7630 => "overlay",
        0x58465342 => "xfs",
        unchecked((long)0x9123683E) => "btrfs",
        unchecked((long)0x858458f6) => "ramfs",
        0x9fa0 => "proc",
        0x62656572 => "sysfs",
        0x6969 => "nfs",
        0x65735546 => "fuse",
        _ => $"filesystem 0x{magic:x}",
    };
}
