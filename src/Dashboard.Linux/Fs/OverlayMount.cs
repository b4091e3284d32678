namespace Dashboard.Linux.Fs;

/// <summary>overlayfs and bind mounts for root filesystems and layer snapshots.</summary>
public static class OverlayMount
{
    private const ulong MS_RDONLY = 1;
    private const int MNT_DETACH = 2;

    /// <summary>Whether the kernel lists overlay in /proc/filesystems.</summary>
    public static bool IsSupported()
    {
        try
        {
            return File.ReadLines("/proc/filesystems").Any(line => line.EndsWith("\toverlay", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// Mounts an overlay at <paramref name="target"/>. <paramref name="lowerDirs"/> is top-most
    /// first, as overlayfs orders lowerdir. Without an upper dir the mount is read-only.
    /// </summary>
    public static void Mount(string target, IReadOnlyList<string> lowerDirs, string? upperDir, string? workDir, bool readOnly = false)
    {
        if (lowerDirs.Count == 0)
        {
            throw new ArgumentException("overlay needs at least one lower directory", nameof(lowerDirs));
        }

        foreach (var dir in lowerDirs.Append(upperDir ?? string.Empty).Append(workDir ?? string.Empty))
        {
            // The option string is split on ',' and lowerdir on ':'; such paths would change the mount's meaning.
            if (dir.Contains(',', StringComparison.Ordinal) || dir.Contains(':', StringComparison.Ordinal) || dir.Contains('\0', StringComparison.Ordinal))
            {
                throw new SyscallException("mount", Errno.EINVAL, dir);
            }
        }

        var data = "lowerdir=" + string.Join(':', lowerDirs);
        if (upperDir is not null)
        {
            // Without redirects and metacopy every change is whole in the upper directory, which is
            // what layer unpacking and commit read; a host whose overlay module enables them by
            // default must not change that.
            data += ",upperdir=" + upperDir + ",workdir=" + (workDir ?? throw new ArgumentNullException(nameof(workDir))) + ",redirect_dir=off,metacopy=off";
        }

        // Options must fit one page (overlayfs reads them with a page-sized buffer).
        if (data.Length >= 4000)
        {
            throw new SyscallException("mount", Errno.E2BIG, target);
        }

        var flags = readOnly || upperDir is null ? MS_RDONLY : 0;
        if (FsNative.mount("overlay", target, "overlay", flags, data) != 0)
        {
            throw SyscallException.FromLastError("mount", target);
        }
    }

    /// <summary>
    /// Unmounts; with detach the mount is removed lazily once unused (MNT_DETACH). Without detach, EBUSY is retried
    /// (<see cref="BusyRetry"/>).
    /// </summary>
    public static void Unmount(string target, bool detach = false)
    {
        if (Umount(target, detach) is var errno and not 0)
        {
            throw new SyscallException("umount2", errno, target);
        }
    }

    /// <summary>Unmount that treats "not mounted" (EINVAL) and a missing target as done; EBUSY is retried as by <see cref="Unmount"/>.</summary>
    public static bool TryUnmount(string target, bool detach = false)
    {
        var errno = Umount(target, detach);
        if (errno == 0)
        {
            return true;
        }

        if (errno is Errno.EINVAL or Errno.ENOENT)
        {
            return false;
        }

        throw new SyscallException("umount2", errno, target);
    }

    /// <summary>
    /// How long a non-lazy unmount retries EBUSY: a child that another thread of this process is forking holds
    /// copies of every fd (close-on-exec ones too) until it execs, which keeps a mount this thread has just stopped
    /// using busy; on a loaded machine the child may wait well over a second for a CPU before its exec.
    /// </summary>
    public static readonly TimeSpan BusyRetry = TimeSpan.FromSeconds(5);

    /// <summary>umount2; 0 or the errno of the last attempt.</summary>
    private static int Umount(string target, bool detach)
    {
        var deadline = Environment.TickCount64 + (long)BusyRetry.TotalMilliseconds;
        while (true)
        {
            if (FsNative.umount2(target, detach ? MNT_DETACH : 0) == 0)
            {
                return 0;
            }

            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (detach || errno != Errno.EBUSY || Environment.TickCount64 > deadline)
            {
                return errno;
            }

            Thread.Sleep(10);
        }
    }

    /// <summary>Whether a path is a mount point according to /proc/self/mountinfo.</summary>
    public static bool IsMountPoint(string path)
    {
        var full = Path.GetFullPath(path).TrimEnd('/');
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ');
            if (fields.Length > 4 && Unescape(fields[4]) == full)
            {
                return true;
            }
        }

        return false;
    }

    private static string Unescape(string field) =>
        field.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal)
            .Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);
}
