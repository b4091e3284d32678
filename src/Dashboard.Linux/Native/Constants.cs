namespace Dashboard.Linux.Native;

/// <summary>clone(2)/unshare(2)/setns(2) flags (linux/sched.h).</summary>
public static class CloneFlags
{
    public const ulong CLONE_NEWTIME = 0x00000080;
    public const ulong CLONE_VM = 0x00000100;
    public const ulong CLONE_FS = 0x00000200;
    public const ulong CLONE_FILES = 0x00000400;
    public const ulong CLONE_PIDFD = 0x00001000;
    public const ulong CLONE_VFORK = 0x00004000;
    public const ulong CLONE_NEWNS = 0x00020000;
    public const ulong CLONE_NEWCGROUP = 0x02000000;
    public const ulong CLONE_NEWUTS = 0x04000000;
    public const ulong CLONE_NEWIPC = 0x08000000;
    public const ulong CLONE_NEWUSER = 0x10000000;
    public const ulong CLONE_NEWPID = 0x20000000;
    public const ulong CLONE_NEWNET = 0x40000000;
    public const ulong CLONE_INTO_CGROUP = 0x200000000;
}

/// <summary>mount(2) flags (linux/mount.h).</summary>
public static class MountFlags
{
    public const ulong MS_RDONLY = 1;
    public const ulong MS_NOSUID = 2;
    public const ulong MS_NODEV = 4;
    public const ulong MS_NOEXEC = 8;
    public const ulong MS_SYNCHRONOUS = 16;
    public const ulong MS_REMOUNT = 32;
    public const ulong MS_MANDLOCK = 64;
    public const ulong MS_DIRSYNC = 128;
    public const ulong MS_NOSYMFOLLOW = 256;
    public const ulong MS_NOATIME = 1024;
    public const ulong MS_NODIRATIME = 2048;
    public const ulong MS_BIND = 4096;
    public const ulong MS_MOVE = 8192;
    public const ulong MS_REC = 16384;
    public const ulong MS_SILENT = 32768;
    public const ulong MS_UNBINDABLE = 1 << 17;
    public const ulong MS_PRIVATE = 1 << 18;
    public const ulong MS_SLAVE = 1 << 19;
    public const ulong MS_SHARED = 1 << 20;
    public const ulong MS_RELATIME = 1 << 21;
    public const ulong MS_STRICTATIME = 1 << 24;
    public const ulong MS_LAZYTIME = 1 << 25;

    public const int MNT_FORCE = 1;
    public const int MNT_DETACH = 2;
    public const int MNT_EXPIRE = 4;
    public const int UMOUNT_NOFOLLOW = 8;
}

/// <summary>open(2) and *at(2) flags for x86_64 and aarch64.</summary>
public static class OpenFlags
{
    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_RDWR = 2;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_NOCTTY = 0x100;
    public const int O_TRUNC = 0x200;
    public const int O_APPEND = 0x400;
    public const int O_NONBLOCK = 0x800;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_CLOEXEC = 0x80000;
    public const int O_PATH = 0x200000;

    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_REMOVEDIR = 0x200;
    public const int AT_EMPTY_PATH = 0x1000;

    public const int F_DUPFD_CLOEXEC = 1030;
    public const int F_GETFD = 1;
    public const int F_SETFD = 2;
    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int FD_CLOEXEC = 1;
    public const int F_ADD_SEALS = 1033;
    public const int F_GET_SEALS = 1034;
    public const int F_SEAL_SEAL = 1;
    public const int F_SEAL_SHRINK = 2;
    public const int F_SEAL_GROW = 4;
    public const int F_SEAL_WRITE = 8;
    public const int F_SEAL_EXEC = 0x20;
    public const uint MFD_CLOEXEC = 1;
    public const uint MFD_ALLOW_SEALING = 2;
    public const uint MFD_EXEC = 0x10;
}

/// <summary>prctl(2) options.</summary>
public static class PrctlOptions
{
    public const int PR_SET_PDEATHSIG = 1;
    public const int PR_SET_DUMPABLE = 4;
    public const int PR_GET_DUMPABLE = 3;
    public const int PR_SET_KEEPCAPS = 8;
    public const int PR_SET_NAME = 15;
    public const int PR_CAPBSET_READ = 23;
    public const int PR_CAPBSET_DROP = 24;
    public const int PR_SET_SECUREBITS = 28;
    public const int PR_SET_CHILD_SUBREAPER = 36;
    public const int PR_SET_NO_NEW_PRIVS = 38;
    public const int PR_GET_NO_NEW_PRIVS = 39;
    public const int PR_CAP_AMBIENT = 47;
    public const int PR_CAP_AMBIENT_RAISE = 2;
    public const int PR_CAP_AMBIENT_CLEAR_ALL = 4;
}

/// <summary>Signal numbers (x86_64/aarch64) and names as runc accepts them.</summary>
public static class Signals
{
    public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGKILL = 9, SIGUSR1 = 10, SIGTERM = 15, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGWINCH = 28;

    private static readonly string[] s_names =
    [
        "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM",
        "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF",
        "WINCH", "IO", "PWR", "SYS",
    ];

    /// <summary>Parses "9", "KILL", "SIGKILL", "sigkill", "RTMIN+3".</summary>
    public static bool TryParse(string text, out int signal)
    {
        signal = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out signal))
        {
            return signal is > 0 and <= 64;
        }

        var name = text.ToUpperInvariant();
        if (name.StartsWith("SIG", StringComparison.Ordinal))
        {
            name = name[3..];
        }

        var index = Array.IndexOf(s_names, name);
        if (index > 0)
        {
            signal = index;
            return true;
        }

        if (name.StartsWith("RTMIN", StringComparison.Ordinal))
        {
            var offset = 0;
            if (name.Length > 5 && (name[5] != '+' || !int.TryParse(name[6..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out offset)))
            {
                return false;
            }

            signal = 34 + offset;
            return signal <= 64;
        }

        return false;
    }

    public static string Name(int signal) => signal > 0 && signal < s_names.Length ? "SIG" + s_names[signal] : $"SIG{signal}";
}

/// <summary>Filesystem magic numbers used to verify what an fd really is (security.md §0.4).</summary>
public static class FsMagic
{
    public const long PROC_SUPER_MAGIC = 0x9fa0;
    public const long SYSFS_MAGIC = 0x62656572;
    public const long TMPFS_MAGIC = 0x01021994;
    public const long CGROUP_SUPER_MAGIC = 0x27e0eb;
    public const long CGROUP2_SUPER_MAGIC = 0x63677270;
    public const long DEVPTS_SUPER_MAGIC = 0x1cd1;
    public const long OVERLAYFS_SUPER_MAGIC = 0x794c7630;
}

/// <summary>Syscall numbers used directly (x86_64).</summary>
public static class SyscallNumbers
{
    public const long SYS_read = 0;
    public const long SYS_write = 1;
    public const long SYS_close = 3;
    public const long SYS_fcntl = 72;
    public const long SYS_capget = 125;
    public const long SYS_capset = 126;
    public const long SYS_setns = 308;
    public const long SYS_execveat = 322;
    public const long SYS_exit_group = 231;
    public const long SYS_pidfd_send_signal = 424;
    public const long SYS_pidfd_open = 434;
    public const long SYS_clone3 = 435;
    public const long SYS_close_range = 436;
    public const long SYS_openat2 = 437;
    public const long SYS_pidfd_getfd = 438;
    public const long SYS_mount_setattr = 442;
    public const long SYS_open_tree = 428;
    public const long SYS_move_mount = 429;
    public const long SYS_pivot_root = 155;
    public const long SYS_keyctl = 250;
    public const long SYS_ioprio_set = 251;
    public const long SYS_sched_setattr = 314;
}
