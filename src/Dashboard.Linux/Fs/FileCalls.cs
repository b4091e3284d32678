using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Dashboard.Linux.Fs;

/// <summary>File kinds as the S_IFMT bits of st_mode name them.</summary>
public enum FileKind
{
    Unknown = 0,
    Fifo = 0x1000,
    CharDevice = 0x2000,
    Directory = 0x4000,
    BlockDevice = 0x6000,
    Regular = 0x8000,
    Symlink = 0xA000,
    Socket = 0xC000,
}

/// <summary>What statx reported about one inode.</summary>
public readonly record struct FileStatus(
    FileKind Kind,
    uint Mode,
    uint Uid,
    uint Gid,
    long Size,
    ulong Inode,
    ulong Device,
    uint Links,
    uint RdevMajor,
    uint RdevMinor,
    DateTimeOffset ModifiedTime)
{
    /// <summary>Permission bits including setuid, setgid and sticky (07777).</summary>
    public uint Permissions => Mode & 0xFFF;
}

/// <summary>
/// Thin wrappers over the *at calls: every failure becomes a <see cref="SyscallException"/>, every
/// call that could follow a symlink in its last component is made with the no-follow flag.
/// </summary>
public static unsafe class FileCalls
{
    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_RDWR = 2;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_NOCTTY = 0x100;
    public const int O_TRUNC = 0x200;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;
    public const int O_PATH = 0x200000;

    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_REMOVEDIR = 0x200;
    public const int AT_SYMLINK_FOLLOW = 0x400;
    public const int AT_EMPTY_PATH = 0x1000;

    public const ulong RESOLVE_NO_XDEV = 0x01;
    public const ulong RESOLVE_NO_MAGICLINKS = 0x02;
    public const ulong RESOLVE_NO_SYMLINKS = 0x04;
    public const ulong RESOLVE_BENEATH = 0x08;
    public const ulong RESOLVE_IN_ROOT = 0x10;

    public const uint RENAME_NOREPLACE = 1;
    public const uint RENAME_EXCHANGE = 2;

    public const int XATTR_CREATE = 1;
    public const int XATTR_REPLACE = 2;

    public const long UTIME_OMIT = (1L << 30) - 2;

    private const uint StatxBasicStats = 0x7FF;

    private static readonly bool s_arm = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;

    /// <summary>O_DIRECTORY differs between x86 and arm (asm-generic/fcntl.h vs arch/arm64).</summary>
    public static int O_DIRECTORY => s_arm ? 0x4000 : 0x10000;

    public static int O_NOFOLLOW => s_arm ? 0x8000 : 0x20000;

    public static SafeFileHandle OpenAt(SafeFileHandle dir, string path, int flags, uint mode = 0)
    {
        var fd = FsNative.openat(Fd(dir), path, flags | O_CLOEXEC, mode);
        if (fd < 0)
        {
            throw SyscallException.FromLastError("openat", path);
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>openat, or null when the name does not exist (ENOENT).</summary>
    public static SafeFileHandle? TryOpenAt(SafeFileHandle dir, string path, int flags, uint mode = 0)
    {
        var fd = FsNative.openat(Fd(dir), path, flags | O_CLOEXEC, mode);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.ENOENT)
            {
                return null;
            }

            throw new SyscallException("openat", errno, path);
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Opens an absolute or cwd-relative path (used for roots the caller trusts).</summary>
    public static SafeFileHandle Open(string path, int flags, uint mode = 0)
    {
        var fd = FsNative.openat(AT_FDCWD, path, flags | O_CLOEXEC, mode);
        if (fd < 0)
        {
            throw SyscallException.FromLastError("open", path);
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>openat2(2); returns the negative errno instead of throwing so callers can fall back.</summary>
    public static int OpenAt2(SafeFileHandle dir, string path, int flags, uint mode, ulong resolve, out SafeFileHandle? handle)
    {
        var how = new FsNative.OpenHow { Flags = (ulong)(uint)(flags | O_CLOEXEC), Mode = mode, Resolve = resolve };
        var bytes = Utf8Z(path);
        long fd;
        fixed (byte* p = bytes)
        {
            fd = FsNative.syscall_openat2(FsNative.SYS_openat2, Fd(dir), p, &how, (nuint)sizeof(FsNative.OpenHow));
        }

        if (fd < 0)
        {
            handle = null;
            return -Marshal.GetLastPInvokeError();
        }

        handle = new SafeFileHandle((nint)fd, ownsHandle: true);
        return 0;
    }

    public static void MkdirAt(SafeFileHandle dir, string name, uint mode)
    {
        if (FsNative.mkdirat(Fd(dir), name, mode) != 0)
        {
            throw SyscallException.FromLastError("mkdirat", name);
        }
    }

    public static void MknodAt(SafeFileHandle dir, string name, FileKind kind, uint mode, uint major, uint minor)
    {
        if (FsNative.mknodat(Fd(dir), name, (uint)kind | (mode & 0xFFF), MakeDev(major, minor)) != 0)
        {
            throw SyscallException.FromLastError("mknodat", name);
        }
    }

    /// <summary>glibc's makedev encoding of dev_t.</summary>
    public static ulong MakeDev(uint major, uint minor) =>
        (((ulong)major & 0xFFFFF000UL) << 32) | (((ulong)major & 0xFFFUL) << 8) |
        (((ulong)minor & 0xFFFFFF00UL) << 12) | ((ulong)minor & 0xFFUL);

    /// <summary>fchownat with AT_SYMLINK_NOFOLLOW: a symlink gets its own owner, its target is never touched.</summary>
    public static void LchownAt(SafeFileHandle dir, string name, uint uid, uint gid)
    {
        if (FsNative.fchownat(Fd(dir), name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
        {
            throw SyscallException.FromLastError("fchownat", name);
        }
    }

    /// <summary>Owner change of the inode an fd (also O_PATH, also a symlink) refers to (AT_EMPTY_PATH).</summary>
    public static void FchownPathFd(SafeFileHandle handle, uint uid, uint gid)
    {
        if (FsNative.fchownat(Fd(handle), string.Empty, uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
        {
            throw SyscallException.FromLastError("fchownat");
        }
    }

    public static void Fchown(SafeFileHandle file, uint uid, uint gid)
    {
        if (FsNative.fchown(Fd(file), uid, gid) != 0)
        {
            throw SyscallException.FromLastError("fchown");
        }
    }

    public static void Fchmod(SafeFileHandle file, uint mode)
    {
        if (FsNative.fchmod(Fd(file), mode & 0xFFF) != 0)
        {
            throw SyscallException.FromLastError("fchmod");
        }
    }

    /// <summary>
    /// chmod that never follows a symlink (containerd CVE-2021-32760): the name is opened O_PATH|O_NOFOLLOW
    /// and the inode behind that fd is changed through /proc/self/fd; a symlink is left alone since
    /// Linux symlink modes carry no meaning. Works for device nodes on nodev mounts (no open for I/O).
    /// </summary>
    public static void LchmodAt(SafeFileHandle dir, string name, uint mode)
    {
        using var handle = OpenAt(dir, name, O_PATH | O_NOFOLLOW);
        ChmodPathFd(handle, mode, name);
    }

    /// <summary>chmod of the inode an O_PATH fd refers to; a symlink fd is left unchanged.</summary>
    public static void ChmodPathFd(SafeFileHandle handle, uint mode, string? nameForErrors = null)
    {
        if (Stat(handle).Kind == FileKind.Symlink)
        {
            return;
        }

        var proc = ProcFdPath(handle);
        if (FsNative.chmod(proc, mode & 0xFFF) != 0)
        {
            throw SyscallException.FromLastError("chmod", nameForErrors ?? proc);
        }
    }

    /// <summary>Sets atime and mtime of a name without following a final symlink.</summary>
    public static void LutimesAt(SafeFileHandle dir, string name, DateTimeOffset atime, DateTimeOffset mtime)
    {
        var times = stackalloc FsNative.Timespec[2];
        times[0] = ToTimespec(atime);
        times[1] = ToTimespec(mtime);
        if (FsNative.utimensat(Fd(dir), name, times, AT_SYMLINK_NOFOLLOW) != 0)
        {
            throw SyscallException.FromLastError("utimensat", name);
        }
    }

    public static void Futimens(SafeFileHandle file, DateTimeOffset atime, DateTimeOffset mtime)
    {
        var times = stackalloc FsNative.Timespec[2];
        times[0] = ToTimespec(atime);
        times[1] = ToTimespec(mtime);
        if (FsNative.futimens(Fd(file), times) != 0)
        {
            throw SyscallException.FromLastError("futimens");
        }
    }

    /// <summary>linkat without AT_SYMLINK_FOLLOW: a hardlink to a symlink links the symlink itself.</summary>
    public static void LinkAt(SafeFileHandle oldDir, string oldName, SafeFileHandle newDir, string newName)
    {
        if (FsNative.linkat(Fd(oldDir), oldName, Fd(newDir), newName, 0) != 0)
        {
            throw SyscallException.FromLastError("linkat", newName);
        }
    }

    public static void SymlinkAt(string target, SafeFileHandle dir, string name)
    {
        if (FsNative.symlinkat(target, Fd(dir), name) != 0)
        {
            throw SyscallException.FromLastError("symlinkat", name);
        }
    }

    public static void UnlinkAt(SafeFileHandle dir, string name, bool directory = false)
    {
        if (FsNative.unlinkat(Fd(dir), name, directory ? AT_REMOVEDIR : 0) != 0)
        {
            throw SyscallException.FromLastError("unlinkat", name);
        }
    }

    /// <summary>unlinkat that treats a missing name as done; returns whether something was removed.</summary>
    public static bool TryUnlinkAt(SafeFileHandle dir, string name, bool directory = false)
    {
        if (FsNative.unlinkat(Fd(dir), name, directory ? AT_REMOVEDIR : 0) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno == Errno.ENOENT)
        {
            return false;
        }

        throw new SyscallException("unlinkat", errno, name);
    }

    public static void RenameAt(SafeFileHandle oldDir, string oldName, SafeFileHandle newDir, string newName, uint flags = 0)
    {
        if (FsNative.renameat2(Fd(oldDir), oldName, Fd(newDir), newName, flags) != 0)
        {
            throw SyscallException.FromLastError("renameat2", newName);
        }
    }

    public static string ReadLinkAt(SafeFileHandle dir, string name)
    {
        var size = 256;
        while (true)
        {
            var buffer = new byte[size];
            nint n;
            fixed (byte* p = buffer)
            {
                n = FsNative.readlinkat(Fd(dir), name, p, (nuint)buffer.Length);
            }

            if (n < 0)
            {
                throw SyscallException.FromLastError("readlinkat", name);
            }

            if (n < buffer.Length)
            {
                return Encoding.UTF8.GetString(buffer, 0, (int)n);
            }

            size *= 4;
            if (size > 1 << 20)
            {
                throw new SyscallException("readlinkat", Errno.ENAMETOOLONG, name);
            }
        }
    }

    /// <summary>statx of a name relative to a directory fd, never following a final symlink.</summary>
    public static FileStatus StatAt(SafeFileHandle dir, string name) =>
        TryStatAt(dir, name) ?? throw new SyscallException("statx", Errno.ENOENT, name);

    public static FileStatus? TryStatAt(SafeFileHandle dir, string name)
    {
        FsNative.Statx st;
        if (FsNative.statx(Fd(dir), name, AT_SYMLINK_NOFOLLOW, StatxBasicStats, &st) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.ENOENT)
            {
                return null;
            }

            throw new SyscallException("statx", errno, name);
        }

        return ToStatus(st);
    }

    /// <summary>statx of the inode an fd (also O_PATH) refers to.</summary>
    public static FileStatus Stat(SafeFileHandle handle)
    {
        FsNative.Statx st;
        if (FsNative.statx(Fd(handle), string.Empty, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, StatxBasicStats, &st) != 0)
        {
            throw SyscallException.FromLastError("statx");
        }

        return ToStatus(st);
    }

    public static FileStatus Lstat(string path)
    {
        FsNative.Statx st;
        if (FsNative.statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, StatxBasicStats, &st) != 0)
        {
            throw SyscallException.FromLastError("statx", path);
        }

        return ToStatus(st);
    }

    public static void Fsetxattr(SafeFileHandle file, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* p = value)
        {
            if (FsNative.fsetxattr(Fd(file), name, p, (nuint)value.Length, 0) != 0)
            {
                throw SyscallException.FromLastError("fsetxattr", name);
            }
        }
    }

    /// <summary>
    /// setxattr on the inode behind an O_PATH fd: /proc/self/fd/N is a magic link that lands on the
    /// fd's own inode without a path walk. A symlink fd is refused, since following its magic link
    /// is not what a no-follow caller means and user.* xattrs are not allowed on symlinks anyway.
    /// </summary>
    public static void SetXattrPathFd(SafeFileHandle handle, string name, ReadOnlySpan<byte> value)
    {
        if (Stat(handle).Kind == FileKind.Symlink)
        {
            throw new SyscallException("setxattr", Errno.EPERM, name);
        }

        var proc = ProcFdPath(handle);
        fixed (byte* p = value)
        {
            if (FsNative.setxattr(proc, name, p, (nuint)value.Length, 0) != 0)
            {
                throw SyscallException.FromLastError("setxattr", name);
            }
        }
    }

    /// <summary>
    /// All xattrs of a path, name to value; without <paramref name="follow"/> a final symlink is not
    /// followed (use follow only for /proc/self/fd magic links of non-symlink fds).
    /// </summary>
    public static Dictionary<string, byte[]> ListXattrs(string path, bool follow = false)
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var size = follow ? FsNative.listxattr(path, null, 0) : FsNative.llistxattr(path, null, 0);
        if (size < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.EOPNOTSUPP)
            {
                return result;
            }

            throw new SyscallException("llistxattr", errno, path);
        }

        if (size == 0)
        {
            return result;
        }

        var names = new byte[size];
        fixed (byte* p = names)
        {
            size = follow ? FsNative.listxattr(path, p, (nuint)names.Length) : FsNative.llistxattr(path, p, (nuint)names.Length);
        }

        if (size < 0)
        {
            throw SyscallException.FromLastError("llistxattr", path);
        }

        foreach (var name in Encoding.UTF8.GetString(names, 0, (int)size).Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var length = follow ? FsNative.getxattr(path, name, null, 0) : FsNative.lgetxattr(path, name, null, 0);
            if (length < 0)
            {
                throw SyscallException.FromLastError("lgetxattr", path);
            }

            var value = new byte[length];
            fixed (byte* p = value)
            {
                length = follow ? FsNative.getxattr(path, name, p, (nuint)value.Length) : FsNative.lgetxattr(path, name, p, (nuint)value.Length);
            }

            if (length < 0)
            {
                throw SyscallException.FromLastError("lgetxattr", path);
            }

            result[name] = value.AsSpan(0, (int)length).ToArray();
        }

        return result;
    }

    public static void Fsync(SafeFileHandle file)
    {
        if (FsNative.fsync(Fd(file)) != 0)
        {
            throw SyscallException.FromLastError("fsync");
        }
    }

    /// <summary>The path under /proc/self/fd that names an fd's inode (for calls that have no fd form).</summary>
    public static string ProcFdPath(SafeFileHandle handle) => $"/proc/self/fd/{Fd(handle)}";

    internal static int Fd(SafeFileHandle handle) => (int)handle.DangerousGetHandle();

    private static FsNative.Timespec ToTimespec(DateTimeOffset time)
    {
        var ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var sec = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var rem);
        if (rem < 0)
        {
            sec--;
            rem += TimeSpan.TicksPerSecond;
        }

        return new FsNative.Timespec { Sec = sec, Nsec = rem * 100 };
    }

    private static FileStatus ToStatus(in FsNative.Statx st) => new(
        (FileKind)(st.Mode & 0xF000),
        st.Mode,
        st.Uid,
        st.Gid,
        (long)st.Size,
        st.Ino,
        MakeDev(st.DevMajor, st.DevMinor),
        st.Nlink,
        st.RdevMajor,
        st.RdevMinor,
        DateTimeOffset.FromUnixTimeSeconds(st.Mtime.Sec).AddTicks(st.Mtime.Nsec / 100));

    private static byte[] Utf8Z(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}
