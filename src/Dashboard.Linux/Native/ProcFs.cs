using System.Text;

namespace Dashboard.Linux.Native;

/// <summary>
/// Every write to procfs goes through here: the file is opened without following symlinks and
/// the fd is checked to be on procfs before one byte is written (security.md §0.4, CVE-2025-52881).
/// </summary>
public static class ProcFs
{
    public static void Write(string path, string value)
    {
        var fd = Sys.Open(path, OpenFlags.O_WRONLY | OpenFlags.O_NOFOLLOW);
        try
        {
            if (Sys.FsType(fd, path) != FsMagic.PROC_SUPER_MAGIC)
            {
                throw new SyscallException("write", Errno.EXDEV, path + " (not on procfs)");
            }

            Sys.WriteAll(fd, Encoding.UTF8.GetBytes(value), path);
        }
        finally
        {
            Sys.Close(fd);
        }
    }

    /// <summary>The start time of a process in clock ticks (field 22 of /proc/pid/stat), or 0 when it is gone.</summary>
    public static ulong StartTime(int pid) => ReadStat(pid) is { } stat ? stat.StartTime : 0;

    /// <summary>State letter and start time of a process from /proc/pid/stat.</summary>
    public static (char State, ulong StartTime, int Ppid)? ReadStat(int pid)
    {
        Span<byte> buffer = stackalloc byte[StatBufferSize];
        var fields = ReadStatFields($"/proc/{pid}/stat", buffer);
        if (fields.IsEmpty
            || !TryField(fields, 1, out var ppid) || !TryField(fields, 19, out var startTime)
            || !int.TryParse(ppid, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ppidValue)
            || !ulong.TryParse(startTime, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var startValue))
        {
            return null;
        }

        return ((char)fields[0], startValue, ppidValue);
    }

    /// <summary>The threads of this process (field 20 of /proc/self/stat), or -1 when it cannot be read.</summary>
    public static int OwnThreadCount()
    {
        Span<byte> buffer = stackalloc byte[StatBufferSize];
        var fields = ReadStatFields("/proc/self/stat", buffer);
        return !fields.IsEmpty && TryField(fields, 17, out var threads)
            && int.TryParse(threads, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count)
            ? count
            : -1;
    }

    // A stat line is about 300 bytes: comm is at most 16, and the 50 numeric fields at most 20 digits each.
    private const int StatBufferSize = 1536;

    /// <summary>The fields after "pid (comm) " of a stat file, space-separated; empty when it cannot be read.</summary>
    /// <remarks>Read straight into <paramref name="buffer"/>: called on the create path, where File's machinery costs page faults.</remarks>
    private static unsafe ReadOnlySpan<byte> ReadStatFields(string path, Span<byte> buffer)
    {
        var fd = LibC.open(path, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return [];
        }

        nint n;
        try
        {
            fixed (byte* p = buffer)
            {
                do
                {
                    n = LibC.read(fd, p, buffer.Length);
                }
                while (n < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR);
            }
        }
        finally
        {
            _ = LibC.close(fd);
        }

        // comm may contain spaces and parentheses: fields start after the last ')'.
        var text = buffer[..(int)Math.Max(n, 0)];
        var close = text.LastIndexOf((byte)')');
        return close < 0 || close + 2 >= text.Length ? [] : text[(close + 2)..];
    }

    /// <summary>Field <paramref name="index"/> (0 = the state letter) of <see cref="ReadStatFields"/>' result.</summary>
    private static bool TryField(ReadOnlySpan<byte> fields, int index, out ReadOnlySpan<byte> field)
    {
        for (var i = 0; i < index; i++)
        {
            var space = fields.IndexOf((byte)' ');
            if (space < 0)
            {
                field = default;
                return false;
            }

            fields = fields[(space + 1)..];
        }

        var end = fields.IndexOfAny((byte)' ', (byte)'\n');
        field = end < 0 ? fields : fields[..end];
        return field.Length > 0;
    }
}
