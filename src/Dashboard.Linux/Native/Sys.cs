using System.Runtime.InteropServices;
using System.Text;

namespace Dashboard.Linux.Native;

/// <summary>
/// Checked kernel calls: each wrapper throws <see cref="SyscallException"/> on failure, naming the
/// call and the path, with errno captured at once (STYLE.md errors rule 1).
/// </summary>
public static unsafe class Sys
{
    private static int Check(int result, string call, string? path = null) =>
        result < 0 ? throw SyscallException.FromLastError(call, path) : result;

    private static long Check(long result, string call, string? path = null) =>
        result < 0 ? throw SyscallException.FromLastError(call, path) : result;

    public static int LastErrno => Marshal.GetLastPInvokeError();

    public static void Mount(string? source, string target, string? fstype, ulong flags, string? data, string? displayTarget = null)
    {
        if (LibC.mount(source, target, fstype, flags, data) != 0)
        {
            throw SyscallException.FromLastError("mount", displayTarget ?? target);
        }
    }

    public static void Umount(string target, int flags) => Check(LibC.umount2(target, flags), "umount", target);

    public static bool TryUmount(string target, int flags) => LibC.umount2(target, flags) == 0;

    public static void Unshare(ulong flags) => Check(LibC.unshare((int)flags), "unshare");

    public static void Setns(int fd, ulong nstype, string? what = null) => Check(LibC.setns(fd, (int)nstype), "setns", what);

    public static void Chdir(string path) => Check(LibC.chdir(path), "chdir", path);

    public static void Fchdir(int fd, string? what = null) => Check(LibC.fchdir(fd), "fchdir", what);

    public static void Chroot(string path) => Check(LibC.chroot(path), "chroot", path);

    public static void PivotRoot(string newRoot, string putOld) =>
        CheckSyscall(SyscallNumbers.SYS_pivot_root, "pivot_root", newRoot, putOld);

    private static void CheckSyscall(long nr, string call, string a, string b)
    {
        var pa = Utf8(a);
        var pb = Utf8(b);
        fixed (byte* x = pa, y = pb)
        {
            Check(LibC.syscall(nr, (nint)x, (nint)y, 0, 0, 0, 0), call, a);
        }
    }

    public static void SetHostname(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        fixed (byte* p = bytes)
        {
            Check(LibC.sethostname(p, bytes.Length), "sethostname", name);
        }
    }

    public static void SetDomainname(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        fixed (byte* p = bytes)
        {
            Check(LibC.setdomainname(p, bytes.Length), "setdomainname", name);
        }
    }

    /// <summary>
    /// keyctl(KEYCTL_JOIN_SESSION_KEYRING, name): joins the session keyring of that name, creating it
    /// when missing, so the caller no longer shares its parent's. Returns the keyring's serial, or
    /// -errno (ENOSYS where keys are compiled out or filtered).
    /// </summary>
    public static unsafe long JoinSessionKeyring(string name)
    {
        const int KEYCTL_JOIN_SESSION_KEYRING = 1;
        var bytes = System.Text.Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = bytes)
        {
            var r = LibC.syscall(SyscallNumbers.SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, (nint)p, 0, 0, 0, 0);
            return r >= 0 ? r : -Marshal.GetLastPInvokeError();
        }
    }

    public static int Prctl(int option, nuint a2 = 0, nuint a3 = 0, nuint a4 = 0, nuint a5 = 0) =>
        Check(LibC.prctl(option, a2, a3, a4, a5), "prctl");

    public static void SetRlimit(int resource, ulong soft, ulong hard, string name)
    {
        var limit = new RLimit { Cur = soft, Max = hard };
        Check(LibC.prlimit(0, resource, &limit, null), "setrlimit", name);
    }

    public static RLimit GetRlimit(int resource)
    {
        RLimit limit;
        Check(LibC.getrlimit(resource, &limit), "getrlimit");
        return limit;
    }

    public static void SetResUid(uint uid) => Check(LibC.setresuid(uid, uid, uid), "setresuid", uid.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static void SetResGid(uint gid) => Check(LibC.setresgid(gid, gid, gid), "setresgid", gid.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static void SetGroups(ReadOnlySpan<uint> groups)
    {
        fixed (uint* p = groups)
        {
            Check(LibC.setgroups(groups.Length, p), "setgroups");
        }
    }

    public static uint Umask(uint mask) => LibC.umask(mask);

    public static int Open(string path, int flags, uint mode = 0) => Check(LibC.open(path, flags | OpenFlags.O_CLOEXEC, mode), "open", path);

    public static int TryOpen(string path, int flags, uint mode = 0) => LibC.open(path, flags | OpenFlags.O_CLOEXEC, mode);

    public static int OpenAt(int dirfd, string path, int flags, uint mode = 0, string? display = null) =>
        Check(LibC.openat(dirfd, path, flags | OpenFlags.O_CLOEXEC, mode), "open", display ?? path);

    public static void Close(int fd)
    {
        if (fd >= 0)
        {
            _ = LibC.close(fd);
        }
    }

    public static int Read(int fd, Span<byte> buffer, string? what = null)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = LibC.read(fd, p, buffer.Length);
                if (n >= 0)
                {
                    return (int)n;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR)
                {
                    throw new SyscallException("read", errno, what);
                }
            }
        }
    }

    public static void WriteAll(int fd, ReadOnlySpan<byte> data, string? what = null)
    {
        fixed (byte* p = data)
        {
            var done = 0;
            while (done < data.Length)
            {
                var n = LibC.write(fd, p + done, data.Length - done);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }

                    throw new SyscallException("write", errno, what);
                }

                done += (int)n;
            }
        }
    }

    /// <summary>Reads until EOF or <paramref name="limit"/> bytes; <paramref name="what"/> names the file in errors.</summary>
    /// <remarks>
    /// Into a stack buffer first, doubled on the heap only when full: a small file (state, config, cgroupfs and procfs
    /// entries, read a dozen times by every create) costs one array of its exact size.
    /// </remarks>
    public static byte[] ReadToEnd(int fd, int limit = 16 << 20, string? what = null)
    {
        Span<byte> buffer = stackalloc byte[4096];
        var length = 0;
        while (length < limit)
        {
            if (length == buffer.Length)
            {
                var bigger = new byte[buffer.Length * 2];
                buffer.CopyTo(bigger);
                buffer = bigger;
            }

            var n = Read(fd, buffer[length..], what);
            if (n == 0)
            {
                break;
            }

            length += n;
        }

        return buffer[..length].ToArray();
    }

    public static (int Read, int Write) Pipe(bool cloexec = true)
    {
        var fds = stackalloc int[2];
        Check(LibC.pipe2(fds, cloexec ? OpenFlags.O_CLOEXEC : 0), "pipe2");
        return (fds[0], fds[1]);
    }

    public const int AF_UNIX = 1;
    public const int SOCK_STREAM = 1;
    public const int SOCK_SEQPACKET = 5;
    public const int SOCK_CLOEXEC = 0x80000;

    public static (int A, int B) SocketPair(int type = SOCK_SEQPACKET)
    {
        var fds = stackalloc int[2];
        Check(LibC.socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds), "socketpair");
        return (fds[0], fds[1]);
    }

    public static int Dup3(int oldfd, int newfd, bool cloexec) => Check(LibC.dup3(oldfd, newfd, cloexec ? OpenFlags.O_CLOEXEC : 0), "dup3");

    public static int DupCloexec(int fd, int minFd = 3) => Check(LibC.fcntl(fd, OpenFlags.F_DUPFD_CLOEXEC, minFd), "fcntl");

    public static void SetCloexec(int fd, bool on)
    {
        var flags = Check(LibC.fcntl(fd, OpenFlags.F_GETFD, 0), "fcntl");
        flags = on ? flags | OpenFlags.FD_CLOEXEC : flags & ~OpenFlags.FD_CLOEXEC;
        Check(LibC.fcntl(fd, OpenFlags.F_SETFD, flags), "fcntl");
    }

    public static int Fcntl(int fd, int cmd, nint arg) => Check(LibC.fcntl(fd, cmd, arg), "fcntl");

    public static int Ioctl(int fd, nuint request, nint arg, string what) => Check(LibC.ioctl(fd, request, arg), "ioctl", what);

    public static void Mkfifo(string path, uint mode) => Check(LibC.mkfifo(path, mode), "mkfifo", path);

    public static void MknodAt(int dirfd, string name, uint mode, ulong dev, string display) =>
        Check(LibC.mknodat(dirfd, name, mode, dev), "mknod", display);

    public static void SymlinkAt(string target, int dirfd, string linkpath, string display) =>
        Check(LibC.symlinkat(target, dirfd, linkpath), "symlink", display);

    public static void MkdirAt(int dirfd, string path, uint mode, string display) => Check(LibC.mkdirat(dirfd, path, mode), "mkdir", display);

    public static int TryMkdirAt(int dirfd, string path, uint mode) => LibC.mkdirat(dirfd, path, mode) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public static int TryUnlinkAt(int dirfd, string path, int flags) => LibC.unlinkat(dirfd, path, flags) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public static void FchownAt(int dirfd, string path, uint uid, uint gid, int flags, string display) =>
        Check(LibC.fchownat(dirfd, path, uid, gid, flags), "chown", display);

    public static void Fchown(int fd, uint uid, uint gid, string display) => Check(LibC.fchown(fd, uid, gid), "fchown", display);

    public static void Fchmod(int fd, uint mode, string display) => Check(LibC.fchmod(fd, mode), "fchmod", display);

    public static long FsType(int fd, string? what = null)
    {
        StatFs st;
        Check(LibC.fstatfs(fd, &st), "fstatfs", what);
        return st.Type;
    }

    public static long MountFlagsOf(int fd, string? what = null)
    {
        StatFs st;
        Check(LibC.fstatfs(fd, &st), "fstatfs", what);
        return st.Flags;
    }

    public static Statx StatFd(int fd, string? what = null)
    {
        Statx st;
        Check(LibC.statx(fd, "", OpenFlags.AT_EMPTY_PATH | OpenFlags.AT_SYMLINK_NOFOLLOW, 0xfff, &st), "statx", what);
        return st;
    }

    public static bool TryStat(string path, bool follow, out Statx st)
    {
        Statx s;
        var ok = LibC.statx(OpenFlags.AT_FDCWD, path, follow ? 0 : OpenFlags.AT_SYMLINK_NOFOLLOW, 0xfff, &s) == 0;
        st = s;
        return ok;
    }

    public static int Kill(int pid, int signal) => LibC.kill(pid, signal) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public static void Setsid() => Check(LibC.setsid(), "setsid");

    public static int GetPid() => LibC.getpid();

    public static uint Geteuid() => LibC.geteuid();

    public static int PidfdOpen(int pid) => (int)Check(LibC.syscall(SyscallNumbers.SYS_pidfd_open, pid, 0, 0, 0, 0, 0), "pidfd_open", pid.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static int TryPidfdOpen(int pid)
    {
        var fd = LibC.syscall(SyscallNumbers.SYS_pidfd_open, pid, 0, 0, 0, 0, 0);
        return fd < 0 ? -1 : (int)fd;
    }

    /// <summary>Sends a signal through a pidfd; returns 0 or the errno (ESRCH when the process is gone).</summary>
    public static int PidfdSendSignal(int pidfd, int signal) =>
        LibC.syscall(SyscallNumbers.SYS_pidfd_send_signal, pidfd, signal, 0, 0, 0, 0) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public const int P_PID = 1;
    public const int P_PIDFD = 3;
    public const int WEXITED = 4;
    public const int WNOHANG = 1;
    public const int WNOWAIT = 0x01000000;
    public const int CLD_EXITED = 1;
    public const int CLD_KILLED = 2;
    public const int CLD_DUMPED = 3;

    /// <summary>Waits for a child through its pidfd; returns the exit status in the shell convention (128+signal).</summary>
    public static int WaitPidfd(int pidfd, bool noHang = false)
    {
        SigInfo info = default;
        while (true)
        {
            if (LibC.waitid(P_PIDFD, pidfd, &info, WEXITED | (noHang ? WNOHANG : 0)) == 0)
            {
                break;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                throw new SyscallException("waitid", errno);
            }
        }

        if (info.Pid == 0)
        {
            return -1;
        }

        return info.Code == CLD_EXITED ? info.Status : 128 + info.Status;
    }

    /// <summary>Reaps any exited child without blocking; returns (pid, status) or pid 0.</summary>
    public static (int Pid, int Status) ReapAny()
    {
        int status;
        var pid = LibC.waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
        {
            return (0, 0);
        }

        var code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
        return (pid, code);
    }

    public static int WaitPid(int pid)
    {
        int status;
        while (LibC.waitpid(pid, &status, 0) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                throw new SyscallException("waitpid", errno);
            }
        }

        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
    }

    public const short POLLIN = 1;
    public const short POLLOUT = 4;
    public const short POLLERR = 8;
    public const short POLLHUP = 16;

    /// <summary>Polls one fd; returns its revents, 0 on timeout.</summary>
    public static short PollOne(int fd, short events, int timeoutMs)
    {
        var pfd = new PollFd { Fd = fd, Events = events };
        while (true)
        {
            var n = LibC.poll(&pfd, 1, timeoutMs);
            if (n >= 0)
            {
                return n == 0 ? (short)0 : pfd.REvents;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                throw new SyscallException("poll", errno);
            }
        }
    }

    /// <summary>Polls several fds; fills revents; returns the number ready.</summary>
    public static int Poll(Span<(int Fd, short Events, short REvents)> fds, int timeoutMs)
    {
        var p = stackalloc PollFd[fds.Length];
        for (var i = 0; i < fds.Length; i++)
        {
            p[i] = new PollFd { Fd = fds[i].Fd, Events = fds[i].Events };
        }

        int n;
        while ((n = LibC.poll(p, (nuint)fds.Length, timeoutMs)) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                throw new SyscallException("poll", errno);
            }
        }

        for (var i = 0; i < fds.Length; i++)
        {
            fds[i].REvents = p[i].REvents;
        }

        return n;
    }

    public static int MemfdCreate(string name, uint flags) => Check(LibC.memfd_create(name, flags), "memfd_create", name);

    public static long SendFile(int outFd, int inFd, long count)
    {
        long total = 0;
        while (total < count)
        {
            var n = LibC.sendfile(outFd, inFd, null, (nint)Math.Min(count - total, 1 << 30));
            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                throw new SyscallException("sendfile", errno);
            }

            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    /// <summary>close_range(first, ~0, CLOSE_RANGE_CLOEXEC): marks every fd from <paramref name="first"/> close-on-exec.</summary>
    public static void CloexecFrom(int first)
    {
        const int CLOSE_RANGE_CLOEXEC = 4;
        if (LibC.syscall(SyscallNumbers.SYS_close_range, first, unchecked((nint)uint.MaxValue), CLOSE_RANGE_CLOEXEC, 0, 0, 0) == 0)
        {
            return;
        }

        // Kernels before 5.11 lack CLOSE_RANGE_CLOEXEC: walk /proc/self/fd instead.
        foreach (var fd in ListOpenFds())
        {
            if (fd >= first)
            {
                _ = LibC.fcntl(fd, OpenFlags.F_SETFD, OpenFlags.FD_CLOEXEC);
            }
        }
    }

    public static List<int> ListOpenFds()
    {
        var result = new List<int>();
        foreach (var entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            if (int.TryParse(System.IO.Path.GetFileName(entry), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var fd))
            {
                result.Add(fd);
            }
        }

        return result;
    }

    public static void Personality(ulong persona) => Check(LibC.personality(persona), "personality");

    public static string? ReadLink(string path)
    {
        var p = Utf8(path);
        var buf = new byte[4096];
        fixed (byte* pp = p, b = buf)
        {
            var n = LibC.readlink(pp, b, buf.Length);
            return n < 0 ? null : Encoding.UTF8.GetString(buf, 0, (int)n);
        }
    }

    public static string GetCwd()
    {
        var buf = new byte[4096];
        fixed (byte* b = buf)
        {
            if (LibC.getcwd(b, buf.Length) == 0)
            {
                throw SyscallException.FromLastError("getcwd");
            }
        }

        var len = Array.IndexOf(buf, (byte)0);
        return Encoding.UTF8.GetString(buf, 0, len < 0 ? buf.Length : len);
    }

    public static byte[] Utf8(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    public static void Capset(uint effective0, uint effective1, uint permitted0, uint permitted1, uint inheritable0, uint inheritable1)
    {
        // _LINUX_CAPABILITY_VERSION_3 with two 32-bit data words.
        var header = stackalloc uint[2];
        header[0] = 0x20080522;
        header[1] = 0;
        var data = stackalloc uint[6];
        data[0] = effective0;
        data[1] = permitted0;
        data[2] = inheritable0;
        data[3] = effective1;
        data[4] = permitted1;
        data[5] = inheritable1;
        Check(LibC.syscall(SyscallNumbers.SYS_capset, (nint)header, (nint)data, 0, 0, 0, 0), "capset");
    }

    public static int Eventfd(uint initial, int flags) => Check(LibC.eventfd(initial, flags), "eventfd");
}
