using System.Runtime.InteropServices;
using System.Text;

namespace Dashboard.Linux.Native;

/// <summary>
/// The kernel calls the cgroup drivers make: whole-file reads and single-write updates of cgroupfs
/// control files, mkdir/rmdir of cgroup directories, signals, and the eventfd/inotify/poll trio
/// the OOM watchers use. Every failure is a <see cref="SyscallException"/> naming the path.
/// </summary>
public static unsafe partial class CgroupSyscalls
{
    public const int SIGKILL = 9;

    private const string Lib = "libc";
    private const int O_RDONLY = 0;
    private const int O_WRONLY = 1;
    private const int O_TRUNC = 0x200;
    private const int O_CLOEXEC = 0x80000;
    private const int O_NONBLOCK = 0x800;
    private const short POLLIN = 0x1;
    private const uint IN_MODIFY = 0x2;

    /// <summary>Reads a whole control file (cgroupfs reports size 0, so read until EOF).</summary>
    public static string ReadFile(string path)
    {
        var fd = Open(path, O_RDONLY | O_CLOEXEC, "open");
        try
        {
            return Encoding.UTF8.GetString(Sys.ReadToEnd(fd, int.MaxValue, path));
        }
        finally
        {
            _ = close(fd);
        }
    }

    /// <summary>
    /// Writes <paramref name="value"/> with one write(2): the kernel parses each write of a control
    /// file as one request, so a split write would apply two half values. No O_CREAT: a control file
    /// that does not exist means the controller is missing, which must not pass silently.
    /// </summary>
    public static void WriteFile(string path, string value)
    {
        var fd = Open(path, O_WRONLY | O_TRUNC | O_CLOEXEC, "open");
        try
        {
            WriteValue(fd, path, value);
        }
        finally
        {
            _ = close(fd);
        }
    }

    /// <summary>
    /// One request to an open control file, with one write(2) (see <see cref="WriteFile"/>): a list of requests
    /// to one file (the v1 device rules) then costs one path lookup, not one per request.
    /// </summary>
    public static void WriteValue(int fd, string path, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        while (true)
        {
            nint n;
            fixed (byte* p = bytes)
            {
                n = write(fd, p, bytes.Length);
            }

            if (n >= 0)
            {
                return;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                throw new SyscallException("write", errno, path);
            }
        }
    }

    /// <summary>mkdir(2); returns false when the directory already exists.</summary>
    public static bool MakeDirectory(string path, uint mode = 0x1ed)
    {
        if (mkdir(path, mode) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == Errno.EEXIST ? false : throw new SyscallException("mkdir", errno, path);
    }

    /// <summary>rmdir(2); returns the errno (0 on success) so callers can retry EBUSY.</summary>
    public static int TryRemoveDirectory(string path) =>
        rmdir(path) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>kill(2); returns false when the process is already gone (ESRCH).</summary>
    public static bool Kill(int pid, int signal)
    {
        if (kill(pid, signal) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == Errno.ESRCH ? false : throw new SyscallException("kill", errno, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public static int OpenReadOnly(string path) => Open(path, O_RDONLY | O_CLOEXEC, "open");

    public static int OpenWriteOnly(string path) => Open(path, O_WRONLY | O_CLOEXEC, "open");

    public static void Close(int fd) => _ = close(fd);

    /// <summary>eventfd(0, EFD_CLOEXEC|EFD_NONBLOCK).</summary>
    public static int EventFd()
    {
        var fd = eventfd(0, O_CLOEXEC | O_NONBLOCK);
        return fd >= 0 ? fd : throw SyscallException.FromLastError("eventfd");
    }

    /// <summary>An inotify fd (non-blocking, close-on-exec) watching <paramref name="path"/> for writes.</summary>
    public static int InotifyWatchModify(string path)
    {
        var fd = inotify_init1(O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
        {
            throw SyscallException.FromLastError("inotify_init1");
        }

        if (inotify_add_watch(fd, path, IN_MODIFY) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            _ = close(fd);
            throw new SyscallException("inotify_add_watch", errno, path);
        }

        return fd;
    }

    /// <summary>Reads and discards whatever is pending on a non-blocking fd; returns the bytes read.</summary>
    public static long Drain(int fd)
    {
        var buffer = stackalloc byte[4096];
        long total = 0;
        while (true)
        {
            var n = read(fd, buffer, 4096);
            if (n > 0)
            {
                total += n;
                continue;
            }

            if (n == 0)
            {
                return total;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.EINTR)
            {
                continue;
            }

            return errno == Errno.EAGAIN ? total : throw new SyscallException("read", errno);
        }
    }

    /// <summary>poll(2) for POLLIN on one fd; true when readable before the timeout.</summary>
    public static bool PollReadable(int fd, int timeoutMs)
    {
        var pfd = new CgroupPollFd { Fd = fd, Events = POLLIN };
        while (true)
        {
            var n = poll(&pfd, 1, timeoutMs);
            if (n >= 0)
            {
                return n > 0 && (pfd.Revents & POLLIN) != 0;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                throw new SyscallException("poll", errno);
            }
        }
    }

    private static int Open(string path, int flags, string call)
    {
        while (true)
        {
            var fd = open(path, flags, 0);
            if (fd >= 0)
            {
                return fd;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                throw new SyscallException(call, errno, path);
            }
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CgroupPollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] private static partial int open(string path, int flags, uint mode);
    [LibraryImport(Lib, SetLastError = true)] private static partial int close(int fd);
    [LibraryImport(Lib, SetLastError = true)] private static partial nint read(int fd, byte* buf, nint count);
    [LibraryImport(Lib, SetLastError = true)] private static partial nint write(int fd, byte* buf, nint count);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] private static partial int mkdir(string path, uint mode);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] private static partial int rmdir(string path);
    [LibraryImport(Lib, SetLastError = true)] private static partial int kill(int pid, int sig);
    [LibraryImport(Lib, SetLastError = true)] private static partial int eventfd(uint initval, int flags);
    [LibraryImport(Lib, SetLastError = true)] private static partial int inotify_init1(int flags);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] private static partial int inotify_add_watch(int fd, string path, uint mask);
    [LibraryImport(Lib, SetLastError = true)] private static partial int poll(CgroupPollFd* fds, nuint nfds, int timeout);
}
