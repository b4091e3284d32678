using System.Runtime.InteropServices;

namespace Dashboard.Linux.Native;

/// <summary>
/// One write(2) made on a plain pthread that never runs managed code: starting it costs a clone, not a
/// runtime thread (whose start the caller would wait for), and it leaves no runtime state behind. The
/// data sits in a stdio buffer of an fdopen'ed stream and the thread's start routine is libc's own
/// <c>fflush</c>, which takes the stream as its one argument and writes the buffer with a single write.
/// For a write that blocks in the kernel while the caller goes on (a cgroup migration waiting for an
/// RCU grace period).
/// </summary>
public sealed unsafe partial class NativeWriteThread
{
    private const string Lib = "libc";
    private const int CLOCK_REALTIME = 0;

    private readonly nint _thread;
    private readonly nint _stream;
    private bool _joined;

    private NativeWriteThread(nint thread, nint stream)
    {
        _thread = thread;
        _stream = stream;
    }

    /// <summary>
    /// Starts the thread that writes <paramref name="data"/> (at most 4 KiB) to <paramref name="fd"/>, which it
    /// then owns (closed by <see cref="TryJoin"/>, or on failure here). Null when any step fails.
    /// </summary>
    public static NativeWriteThread? TryStart(int fd, ReadOnlySpan<byte> data)
    {
        if (data.Length is 0 or > 4096)
        {
            _ = close(fd);
            return null;
        }

        var stream = fdopen(fd, "w\0"u8);
        if (stream == 0)
        {
            _ = close(fd);
            return null;
        }

        var start = dlsym(0 /* RTLD_DEFAULT */, "fflush\0"u8);
        nuint written;
        fixed (byte* p = data)
        {
            written = start == 0 ? 0 : fwrite(p, 1, (nuint)data.Length, stream);
        }

        nint thread;
        if (written != (nuint)data.Length || pthread_create(&thread, 0, start, stream) != 0)
        {
            __fpurge(stream);
            _ = fclose(stream);
            return null;
        }

        return new NativeWriteThread(thread, stream);
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> for the thread to finish, then closes the stream and its fd;
    /// false when it is still blocked (the stream is then left to it).
    /// </summary>
    public bool TryJoin(int timeoutMs)
    {
        if (_joined)
        {
            return true;
        }

        Timespec now;
        _ = clock_gettime(CLOCK_REALTIME, &now);
        var ns = now.Nanoseconds + (timeoutMs % 1000 * 1_000_000L);
        var deadline = new Timespec { Seconds = now.Seconds + (timeoutMs / 1000) + (ns / 1_000_000_000L), Nanoseconds = ns % 1_000_000_000L };
        if (pthread_timedjoin_np(_thread, 0, &deadline) != 0)
        {
            return false;
        }

        _joined = true;
        // A failed write leaves its bytes buffered: dropped, so fclose only closes.
        __fpurge(_stream);
        _ = fclose(_stream);
        return true;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport(Lib)] private static partial nint fdopen(int fd, ReadOnlySpan<byte> mode);
    [LibraryImport(Lib)] private static partial nuint fwrite(byte* data, nuint size, nuint count, nint stream);
    [LibraryImport(Lib)] private static partial int fclose(nint stream);
    [LibraryImport(Lib)] private static partial void __fpurge(nint stream);
    [LibraryImport(Lib)] private static partial int close(int fd);
    [LibraryImport(Lib)] private static partial nint dlsym(nint handle, ReadOnlySpan<byte> name);
    [LibraryImport(Lib)] private static partial int pthread_create(nint* thread, nint attr, nint start, nint arg);
    [LibraryImport(Lib)] private static partial int pthread_timedjoin_np(nint thread, nint result, Timespec* deadline);
    [LibraryImport(Lib)] private static partial int clock_gettime(int clock, Timespec* time);
}
