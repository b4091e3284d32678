namespace Dashboard.Linux;

/// <summary>errno values used by name in this codebase, and strerror-style descriptions.</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int ENXIO = 6;
    public const int E2BIG = 7;
    public const int ENOEXEC = 8;
    public const int EBADF = 9;
    public const int ECHILD = 10;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int EXDEV = 18;
    public const int ENODEV = 19;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int ENOTTY = 25;
    public const int ETXTBSY = 26;
    public const int EFBIG = 27;
    public const int ENOSPC = 28;
    public const int ESPIPE = 29;
    public const int EROFS = 30;
    public const int EMLINK = 31;
    public const int EPIPE = 32;
    public const int ERANGE = 34;
    public const int EDEADLK = 35;
    public const int ENAMETOOLONG = 36;
    public const int ENOSYS = 38;
    public const int ENOTEMPTY = 39;
    public const int ELOOP = 40;
    public const int ENODATA = 61;
    public const int EOVERFLOW = 75;
    public const int EOPNOTSUPP = 95;
    public const int EADDRINUSE = 98;
    public const int ECONNREFUSED = 111;
    public const int ETIMEDOUT = 110;
    public const int EALREADY = 114;
    public const int EDQUOT = 122;
    public const int ECANCELED = 125;
    public const int EOWNERDEAD = 130;

    /// <summary>glibc's strerror text in lower case (its messages start with a capital letter).</summary>
    public static string Describe(int errno)
    {
        var text = errno switch
        {
            EPERM => "operation not permitted",
            ENOENT => "no such file or directory",
            ESRCH => "no such process",
            EINTR => "interrupted system call",
            EIO => "input/output error",
            ENXIO => "no such device or address",
            E2BIG => "argument list too long",
            ENOEXEC => "exec format error",
            EBADF => "bad file descriptor",
            ECHILD => "no child processes",
            EAGAIN => "resource temporarily unavailable",
            ENOMEM => "cannot allocate memory",
            EACCES => "permission denied",
            EFAULT => "bad address",
            EBUSY => "device or resource busy",
            EEXIST => "file exists",
            EXDEV => "invalid cross-device link",
            ENODEV => "no such device",
            ENOTDIR => "not a directory",
            EISDIR => "is a directory",
            EINVAL => "invalid argument",
            ENFILE => "too many open files in system",
            EMFILE => "too many open files",
            ENOTTY => "inappropriate ioctl for device",
            ETXTBSY => "text file busy",
            EFBIG => "file too large",
            ENOSPC => "no space left on device",
            ESPIPE => "illegal seek",
            EROFS => "read-only file system",
            EMLINK => "too many links",
            EPIPE => "broken pipe",
            ERANGE => "numerical result out of range",
            EDEADLK => "resource deadlock avoided",
            ENAMETOOLONG => "file name too long",
            ENOSYS => "function not implemented",
            ENOTEMPTY => "directory not empty",
            ELOOP => "too many levels of symbolic links",
            ENODATA => "no data available",
            EOVERFLOW => "value too large for defined data type",
            EOPNOTSUPP => "operation not supported",
            EADDRINUSE => "address already in use",
            ETIMEDOUT => "connection timed out",
            ECONNREFUSED => "connection refused",
            EALREADY => "operation already in progress",
            EDQUOT => "disk quota exceeded",
            ECANCELED => "operation canceled",
            _ => null,
        };
        return text ?? $"errno {errno}";
    }
}
