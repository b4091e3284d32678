namespace Dashboard.Linux.Native;

/// <summary>
/// A sealed in-memory copy of our own executable. The in-container stage runs from it, so
/// <c>/proc/&lt;pid&gt;/exe</c> of any process of ours that a container can see is a memfd that
/// cannot be written (F_SEAL_WRITE…), never the host binary (CVE-2019-5736, security.md A1).
/// </summary>
public static class ExeSeal
{
    public const int AllBaseSeals = OpenFlags.F_SEAL_SEAL | OpenFlags.F_SEAL_SHRINK | OpenFlags.F_SEAL_GROW | OpenFlags.F_SEAL_WRITE;

    public static int CreateSealedCopy(string exePath = "/proc/self/exe")
    {
        var source = Sys.Open(exePath, OpenFlags.O_RDONLY);
        try
        {
            var size = (long)Sys.StatFd(source, exePath).Size;
            int memfd;
            try
            {
                memfd = Sys.MemfdCreate("dashboard-runtime", OpenFlags.MFD_CLOEXEC | OpenFlags.MFD_ALLOW_SEALING | OpenFlags.MFD_EXEC);
            }
            catch (SyscallException e) when (e.Errno == Errno.EINVAL)
            {
                // Kernels before 6.3 do not know MFD_EXEC; their memfds are executable anyway.
                memfd = Sys.MemfdCreate("dashboard-runtime", OpenFlags.MFD_CLOEXEC | OpenFlags.MFD_ALLOW_SEALING);
            }

            try
            {
                if (Sys.SendFile(memfd, source, size) != size)
                {
                    throw new SyscallException("sendfile", Errno.EIO, exePath);
                }

                if (LibC.fcntl(memfd, OpenFlags.F_ADD_SEALS, AllBaseSeals | OpenFlags.F_SEAL_EXEC) != 0)
                {
                    Sys.Fcntl(memfd, OpenFlags.F_ADD_SEALS, AllBaseSeals);
                }

                return memfd;
            }
            catch
            {
                Sys.Close(memfd);
                throw;
            }
        }
        finally
        {
            Sys.Close(source);
        }
    }

    public static int GetSeals(int fd) => Sys.Fcntl(fd, OpenFlags.F_GET_SEALS, 0);

    private const nuint FS_IOC_GETFLAGS = 0x80086601;
    private const int FS_IMMUTABLE_FL = 0x10;
    private const long ST_RDONLY = 1;

    /// <summary>
    /// Whether our own executable cannot be written through <c>/proc/&lt;pid&gt;/exe</c> even by root
    /// of a container: a memfd sealed against writes, a file on a read-only mount, or an immutable
    /// file (<c>chattr +i</c>; clearing it needs CAP_LINUX_IMMUTABLE in the host's user namespace).
    /// Then the in-container stage may run in the clone child itself instead of re-executing a
    /// sealed copy (CVE-2019-5736 needs a writable host binary behind that link).
    /// </summary>
    public static unsafe bool SelfIsProtected(string exePath = "/proc/self/exe")
    {
        var fd = Sys.TryOpen(exePath, OpenFlags.O_RDONLY);
        if (fd < 0)
        {
            return false;
        }

        try
        {
            if (LibC.fcntl(fd, OpenFlags.F_GET_SEALS, 0) is var seals and >= 0)
            {
                return (seals & OpenFlags.F_SEAL_WRITE) != 0;
            }

            if ((Sys.MountFlagsOf(fd, exePath) & ST_RDONLY) != 0)
            {
                return true;
            }

            int flags = 0;
            return LibC.ioctl(fd, FS_IOC_GETFLAGS, (nint)(&flags)) == 0 && (flags & FS_IMMUTABLE_FL) != 0;
        }
        finally
        {
            Sys.Close(fd);
        }
    }
}
