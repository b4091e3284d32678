namespace Dashboard.Linux.Native;

/// <summary>Closing the fds a child must not keep, without listing them one by one.</summary>
public static class FdRange
{
    /// <summary>
    /// Closes every fd from <paramref name="first"/> up that is not in <paramref name="keep"/>: close_range(2)
    /// over the gaps between the kept fds (Linux 5.9), else one close per fd listed in /proc/self/fd.
    /// </summary>
    public static void CloseFromExcept(int first, IEnumerable<int> keep)
    {
        // No LINQ: this runs in a container's init, a fresh copy of the runtime where every first-touched code page faults.
        var kept = new List<int>();
        foreach (var fd in keep)
        {
            if (fd >= first && !kept.Contains(fd))
            {
                kept.Add(fd);
            }
        }

        kept.Sort();
        var from = first;
        foreach (var fd in kept)
        {
            if (fd > from && !TryCloseRange(from, fd - 1))
            {
                CloseListedExcept(first, kept);
                return;
            }

            from = fd + 1;
        }

        if (!TryCloseRange(from, int.MaxValue))
        {
            CloseListedExcept(first, kept);
        }
    }

    private static bool TryCloseRange(int from, int to) =>
        LibC.syscall(SyscallNumbers.SYS_close_range, from, to == int.MaxValue ? unchecked((nint)uint.MaxValue) : to, 0, 0, 0, 0) == 0;

    private static void CloseListedExcept(int first, List<int> kept)
    {
        foreach (var fd in Sys.ListOpenFds())
        {
            if (fd >= first && kept.BinarySearch(fd) < 0)
            {
                Sys.Close(fd);
            }
        }
    }
}
