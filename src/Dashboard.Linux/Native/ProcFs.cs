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
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        // comm may contain spaces and parentheses: fields start after the last ')'.
        var close = text.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        var fields = text[(close + 2)..].Split(' ');
        if (fields.Length < 20)
        {
            return null;
        }

        return (fields[0][0], ulong.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture), int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture));
    }
}
