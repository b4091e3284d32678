using System.Runtime.InteropServices;

namespace Dashboard.Linux.Native;

/// <summary>
/// The few calls the resident container supervisor (<c>dashboard-shim</c>) needs beyond <see cref="Sys"/>:
/// it stays alive for the container's whole life, so it avoids FileStream and friends and works on raw fds.
/// </summary>
public static unsafe partial class ShimCalls
{
    private const string Lib = "libc";
    private const int SIGPIPE = 13;
    private const int F_SETPIPE_SZ = 1031;
    private const int SOL_SOCKET = 1;
    private const int SO_SNDBUF = 7;
    private const int SO_SNDBUFFORCE = 32;

    /// <summary>A client or container that closes its end must surface as EPIPE, never kill the supervisor.</summary>
    public static void IgnoreSigpipe() => _ = signal(SIGPIPE, 1);

    /// <summary>fsync; returns 0 or the errno.</summary>
    public static int Fsync(int fd) => fsync(fd) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>rename(2); returns 0 or the errno.</summary>
    public static int Rename(string from, string to) => rename(from, to) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>unlink(2); returns 0 or the errno.</summary>
    public static int Unlink(string path) => unlink(path) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>write(2) once; returns the count written or -errno (EINTR retried).</summary>
    public static long TryWrite(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            while (true)
            {
                var n = write(fd, p, (nint)data.Length);
                if (n >= 0)
                {
                    return n;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR)
                {
                    return -errno;
                }
            }
        }
    }

    /// <summary>pread(2) from offset 0 (cgroup counters are re-read through one fd); returns the count or -errno.</summary>
    public static long TryPreadStart(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            var n = pread(fd, p, (nint)buffer.Length, 0);
            return n >= 0 ? n : -Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>Grows a pipe's kernel buffer (fewer wake-ups for a chatty container); best effort, returns the new size or -errno.</summary>
    public static int TrySetPipeSize(int fd, int size)
    {
        var n = fcntl(fd, F_SETPIPE_SZ, size);
        return n >= 0 ? n : -Marshal.GetLastPInvokeError();
    }

    /// <summary>
    /// Grows a socket's send buffer past net.core.wmem_max when root (SO_SNDBUFFORCE), else up to it; best effort,
    /// returns 0 or the errno. An AF_UNIX socket polls writable only while a quarter of it is free, and each small
    /// write takes a whole buffer's overhead, so the default lets an attach client fall behind by only ~50 frames.
    /// </summary>
    public static int TrySetSendBuffer(int fd, int size)
    {
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(int)) == 0)
        {
            return 0;
        }

        return setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(int)) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    [LibraryImport(Lib)] private static partial nint signal(int signum, nint handler);
    [LibraryImport(Lib, SetLastError = true)] private static partial int setsockopt(int fd, int level, int name, int* value, int length);
    [LibraryImport(Lib, SetLastError = true)] private static partial int fsync(int fd);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] private static partial int rename(string from, string to);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] private static partial int unlink(string path);
    [LibraryImport(Lib, SetLastError = true)] private static partial nint write(int fd, byte* buffer, nint count);
    [LibraryImport(Lib, SetLastError = true)] private static partial nint pread(int fd, byte* buffer, nint count, long offset);
    [LibraryImport(Lib, SetLastError = true)] private static partial int fcntl(int fd, int cmd, int arg);
}
