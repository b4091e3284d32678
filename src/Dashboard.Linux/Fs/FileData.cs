using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Dashboard.Linux.Fs;

/// <summary>
/// Data writes straight to pwrite(2). RandomAccess.Write checks every new handle first (an lseek
/// to learn whether it can seek), one syscall per file that an extractor writing thousands of
/// small files does not need: its fds are regular files it just created.
/// </summary>
public static unsafe partial class FileData
{
    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/>, retrying short writes and EINTR.</summary>
    public static void PWriteAll(SafeFileHandle file, ReadOnlySpan<byte> data, long offset)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            var fd = (int)file.DangerousGetHandle();
            fixed (byte* p = data)
            {
                var done = 0;
                while (done < data.Length)
                {
                    var n = pwrite(fd, p + done, (nuint)(data.Length - done), offset + done);
                    if (n < 0)
                    {
                        var errno = Marshal.GetLastPInvokeError();
                        if (errno == Errno.EINTR)
                        {
                            continue;
                        }

                        throw new SyscallException("pwrite", errno);
                    }

                    if (n == 0)
                    {
                        // A regular file never accepts nothing; looping on it would never end.
                        throw new SyscallException("pwrite", Errno.EIO);
                    }

                    done += (int)n;
                }
            }
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    // glibc's pwrite takes a 64-bit off_t on 64-bit targets (the only ones this project builds for).
    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    private static partial nint pwrite(int fd, byte* buffer, nuint count, long offset);
}
