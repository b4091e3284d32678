using System.Runtime.InteropServices;
using System.Text;
using Dashboard.Linux.Native;

namespace Dashboard.Linux.Fs;

/// <summary>
/// Whole-file reads and writes of small files (runtime state, config.json, procfs and cgroupfs entries)
/// straight over open/read/write/close.
/// </summary>
/// <remarks>
/// The runtime's create path used <see cref="File"/> for these, which runs FileStream, SafeFileHandle,
/// RandomAccess and (for text) StreamReader with encoding detection: code that a short-lived process
/// first touches page by page, and a first-touched page is a page fault (5–15 µs each on the hosts
/// measured). Errors are <see cref="SyscallException"/>s, which are <see cref="IOException"/>s.
/// </remarks>
public static class SmallFiles
{
    /// <summary>Reads the whole file; returns 0, or the errno of the failed open or read (then <paramref name="data"/> is empty).</summary>
    public static int TryReadAllBytes(string path, out byte[] data)
    {
        data = [];
        var fd = LibC.open(path, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return Marshal.GetLastPInvokeError();
        }

        try
        {
            data = Sys.ReadToEnd(fd, int.MaxValue, path);
            return 0;
        }
        catch (SyscallException e)
        {
            return e.Errno;
        }
        finally
        {
            _ = LibC.close(fd);
        }
    }

    /// <summary>Reads the whole file, or throws a <see cref="SyscallException"/> naming it.</summary>
    public static byte[] ReadAllBytes(string path)
    {
        var errno = TryReadAllBytes(path, out var data);
        return errno == 0 ? data : throw new SyscallException("read", errno, path);
    }

    /// <summary>Reads the whole file as UTF-8 text.</summary>
    public static string ReadAllText(string path) => Encoding.UTF8.GetString(ReadAllBytes(path));

    /// <summary>Creates or truncates the file (mode 0666 less the umask, as <see cref="File.WriteAllBytes(string, byte[])"/>) and writes all of <paramref name="data"/>.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> data)
    {
        var fd = LibC.open(path, OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_TRUNC | OpenFlags.O_CLOEXEC, 0x1B6 /* 0666 */);
        if (fd < 0)
        {
            throw SyscallException.FromLastError("open", path);
        }

        try
        {
            Sys.WriteAll(fd, data, path);
        }
        finally
        {
            _ = LibC.close(fd);
        }
    }

    /// <summary>rename(2): replaces <paramref name="to"/> atomically.</summary>
    public static void Rename(string from, string to)
    {
        if (LibC.rename(from, to) != 0)
        {
            throw SyscallException.FromLastError("rename", from);
        }
    }
}
