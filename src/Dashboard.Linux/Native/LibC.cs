using System.Runtime.InteropServices;

namespace Dashboard.Linux.Native;

/// <summary>
/// Raw libc imports. Every import sets the last error, and the public wrappers in <see cref="Sys"/>
/// turn a failure into <see cref="SyscallException"/> at once, so no -1 leaves this project.
/// </summary>
internal static unsafe partial class LibC
{
    private const string Lib = "libc";

    [LibraryImport(Lib, SetLastError = true)] internal static partial long syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] internal static partial int mount(string? source, string target, string? fstype, ulong flags, string? data);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] internal static partial int umount2(string target, int flags);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int unshare(int flags);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int setns(int fd, int nstype);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] internal static partial int chdir(string path);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int fchdir(int fd);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] internal static partial int chroot(string path);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int sethostname(byte* name, nint len);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int setdomainname(byte* name, nint len);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int prctl(int option, nuint a2, nuint a3, nuint a4, nuint a5);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int setrlimit(int resource, RLimit* rlim);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int prlimit(int pid, int resource, RLimit* newLimit, RLimit* oldLimit);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int setresuid(uint r, uint e, uint s);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int setresgid(uint r, uint e, uint s);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int setgroups(nint size, uint* list);
    [LibraryImport(Lib, SetLastError = true)] internal static partial uint umask(uint mask);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] internal static partial int open(string path, int flags, uint mode);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] internal static partial int openat(int dirfd, string path, int flags, uint mode);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int close(int fd);
    [LibraryImport(Lib, SetLastError = true)] internal static partial nint read(int fd, byte* buf, nint count);
    [LibraryImport(Lib, SetLastError = true)] internal static partial nint write(int fd, byte* buf, nint count);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int pipe2(int* fds, int flags);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int dup3(int oldfd, int newfd, int flags);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int dup(int oldfd);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int fcntl(int fd, int cmd, nint arg);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int ioctl(int fd, nuint request, nint arg);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] internal static partial int mkfifo(string path, uint mode);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] internal static partial int mknodat(int dirfd, string path, uint mode, ulong dev);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] internal static partial int symlinkat(string target, int dirfd, string linkpath);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] internal static partial int mkdirat(int dirfd, string path, uint mode);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] internal static partial int unlinkat(int dirfd, string path, int flags);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] internal static partial int rename(string oldpath, string newpath);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] internal static partial int fchownat(int dirfd, string path, uint uid, uint gid, int flags);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int fchown(int fd, uint uid, uint gid);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int fchmod(int fd, uint mode);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int fstatfs(int fd, StatFs* buf);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] internal static partial int statx(int dirfd, string path, int flags, uint mask, Statx* buf);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int kill(int pid, int sig);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int setsid();
    [LibraryImport(Lib, SetLastError = true)] internal static partial int getpid();
    [LibraryImport(Lib, SetLastError = true)] internal static partial uint geteuid();
    [LibraryImport(Lib, SetLastError = true)] internal static partial int waitid(int idtype, int id, SigInfo* info, int options);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int waitpid(int pid, int* status, int options);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int poll(PollFd* fds, nuint nfds, int timeout);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int socketpair(int domain, int type, int protocol, int* sv);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int socket(int domain, int type, int protocol);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int connect(int fd, byte* addr, int len);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int bind(int fd, byte* addr, int len);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int listen(int fd, int backlog);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int accept4(int fd, byte* addr, int* len, int flags);
    [LibraryImport(Lib, SetLastError = true)] internal static partial nint sendmsg(int fd, MsgHdr* msg, int flags);
    [LibraryImport(Lib, SetLastError = true)] internal static partial nint recvmsg(int fd, MsgHdr* msg, int flags);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int personality(ulong persona);
    [LibraryImport(Lib, SetLastError = true)] internal static partial nint sendfile(int outFd, int inFd, long* offset, nint count);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] internal static partial int memfd_create(string name, uint flags);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int getrlimit(int resource, RLimit* rlim);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] internal static partial int execve(string path, byte** argv, byte** envp);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int posix_spawn(int* pid, byte* path, nint fileActions, nint attr, byte** argv, byte** envp);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int posix_spawn_file_actions_init(nint actions);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int posix_spawn_file_actions_destroy(nint actions);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int posix_spawn_file_actions_adddup2(nint actions, int fd, int newfd);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int posix_spawnattr_init(nint attr);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int posix_spawnattr_destroy(nint attr);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int posix_spawnattr_setflags(nint attr, short flags);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int posix_spawnattr_setsigdefault(nint attr, ulong* set);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int posix_spawnattr_setsigmask(nint attr, ulong* set);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int posix_spawnattr_setpgroup(nint attr, int pgroup);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int grantpt(int fd);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int unlockpt(int fd);
    [LibraryImport(Lib, SetLastError = true)] internal static partial nint readlink(byte* path, byte* buf, nint size);
    [LibraryImport(Lib, SetLastError = true)] internal static partial nint getcwd(byte* buf, nint size);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int eventfd(uint initval, int flags);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int sigprocmask(int how, ulong* set, ulong* oldset);
    [LibraryImport(Lib, SetLastError = true)] internal static partial int signalfd(int fd, ulong* mask, nint size);
}

/// <summary>
/// Imports used in a child of <c>clone3</c> before <c>execve</c>: no GC transition, no errno
/// marshalling, nothing that could allocate or wait on a lock held by a thread that does not exist
/// in the child (DESIGN.md §2: no managed runtime work between clone and exec).
/// </summary>
internal static unsafe partial class RawLibC
{
    [LibraryImport("libc"), SuppressGCTransition] internal static partial long syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);
    [LibraryImport("libc"), SuppressGCTransition] internal static partial int* __errno_location();
}

[StructLayout(LayoutKind.Sequential)]
public struct RLimit
{
    public ulong Cur;
    public ulong Max;
}

[StructLayout(LayoutKind.Sequential)]
internal struct PollFd
{
    public int Fd;
    public short Events;
    public short REvents;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MsgHdr
{
    public void* Name;
    public uint NameLen;
    public IoVec* Iov;
    public nuint IovLen;
    public void* Control;
    public nuint ControlLen;
    public int Flags;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVec
{
    public void* Base;
    public nuint Len;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct StatFs
{
    public long Type;
    public long BSize;
    public ulong Blocks;
    public ulong BFree;
    public ulong BAvail;
    public ulong Files;
    public ulong FFree;
    public fixed int Fsid[2];
    public long NameLen;
    public long FrSize;
    public long Flags;
    public fixed long Spare[4];
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct Statx
{
    public uint Mask;
    public uint BlkSize;
    public ulong Attributes;
    public uint Nlink;
    public uint Uid;
    public uint Gid;
    public ushort Mode;
    public ushort Spare0;
    public ulong Ino;
    public ulong Size;
    public ulong Blocks;
    public ulong AttributesMask;
    public StatxTimestamp Atime;
    public StatxTimestamp Btime;
    public StatxTimestamp Ctime;
    public StatxTimestamp Mtime;
    public uint RdevMajor;
    public uint RdevMinor;
    public uint DevMajor;
    public uint DevMinor;
    public ulong MntId;
    public uint DioMemAlign;
    public uint DioOffsetAlign;
    public fixed ulong Spare3[12];
}

[StructLayout(LayoutKind.Sequential)]
public struct StatxTimestamp
{
    public long Sec;
    public uint Nsec;
    public int Reserved;
}

/// <summary>siginfo_t as waitid fills it for SIGCHLD (128 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct SigInfo
{
    [FieldOffset(0)] public int Signo;
    [FieldOffset(4)] public int Errno;
    [FieldOffset(8)] public int Code;
    [FieldOffset(16)] public int Pid;
    [FieldOffset(20)] public uint Uid;
    [FieldOffset(24)] public int Status;
}
