using System.Runtime.InteropServices;

namespace Dashboard.Linux.Native;

/// <summary>
/// bpf(2) for the cgroup v2 device controller, which has no control files: a BPF_PROG_TYPE_CGROUP_DEVICE
/// program attached to the cgroup decides every open/mknod of a device node (Documentation/admin-guide/cgroup-v2.rst "Device controller").
/// </summary>
public static unsafe partial class CgroupBpf
{
    private const int BPF_PROG_LOAD = 5;
    private const int BPF_PROG_ATTACH = 8;
    private const int BPF_PROG_DETACH = 9;
    private const int BPF_PROG_GET_FD_BY_ID = 13;
    private const int BPF_PROG_QUERY = 16;
    private const uint BPF_PROG_TYPE_CGROUP_DEVICE = 15;
    private const uint BPF_CGROUP_DEVICE = 6;
    private const uint BPF_F_ALLOW_MULTI = 2;
    private const int O_RDONLY = 0;
    private const int O_DIRECTORY = 0x10000;
    private const int O_CLOEXEC = 0x80000;

    /// <summary>bpf(2)'s number: it has no libc wrapper.</summary>
    private static long SysBpf => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 321,
        Architecture.Arm64 => 280,
        Architecture.Arm => 386,
        _ => throw new PlatformNotSupportedException($"bpf(2) number unknown for {RuntimeInformation.ProcessArchitecture}"),
    };

    /// <summary>Loads a device program (each element one struct bpf_insn) and returns its fd; the verifier log is in the message on failure.</summary>
    public static int LoadDeviceProgram(ReadOnlySpan<ulong> instructions)
    {
        var attr = stackalloc byte[128];
        new Span<byte>(attr, 128).Clear();
        var log = new byte[16384];
        var license = "Apache\0"u8;
        fixed (ulong* insns = instructions)
        fixed (byte* lic = license)
        fixed (byte* logBuf = log)
        {
            *(uint*)(attr + 0) = BPF_PROG_TYPE_CGROUP_DEVICE;
            *(uint*)(attr + 4) = (uint)instructions.Length;
            *(ulong*)(attr + 8) = (ulong)insns;
            *(ulong*)(attr + 16) = (ulong)lic;
            *(uint*)(attr + 24) = 1;
            *(uint*)(attr + 28) = (uint)log.Length;
            *(ulong*)(attr + 32) = (ulong)logBuf;
            *(uint*)(attr + 68) = BPF_CGROUP_DEVICE;
            var fd = syscall(SysBpf, BPF_PROG_LOAD, (nint)attr, 128);
            if (fd < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                var text = System.Text.Encoding.UTF8.GetString(log, 0, Math.Max(0, Array.IndexOf(log, (byte)0))).Trim();
                throw new SyscallException(text.Length == 0 ? "bpf prog load" : $"bpf prog load ({text.Replace('\n', ' ')})", errno);
            }

            return (int)fd;
        }
    }

    /// <summary>Attaches <paramref name="programFd"/> to the cgroup directory with BPF_F_ALLOW_MULTI (a parent's program keeps applying too).</summary>
    public static void AttachDeviceProgram(string cgroupDirectory, int programFd)
    {
        var dirFd = OpenDirectory(cgroupDirectory);
        try
        {
            var attr = stackalloc byte[32];
            new Span<byte>(attr, 32).Clear();
            *(uint*)(attr + 0) = (uint)dirFd;
            *(uint*)(attr + 4) = (uint)programFd;
            *(uint*)(attr + 8) = BPF_CGROUP_DEVICE;
            *(uint*)(attr + 12) = BPF_F_ALLOW_MULTI;
            if (syscall(SysBpf, BPF_PROG_ATTACH, (nint)attr, 32) < 0)
            {
                throw SyscallException.FromLastError("bpf prog attach", cgroupDirectory);
            }
        }
        finally
        {
            _ = close(dirFd);
        }
    }

    /// <summary>The ids of the device programs attached directly to the cgroup.</summary>
    public static IReadOnlyList<uint> QueryDevicePrograms(string cgroupDirectory)
    {
        var dirFd = OpenDirectory(cgroupDirectory);
        try
        {
            var ids = new uint[64];
            var attr = stackalloc byte[40];
            new Span<byte>(attr, 40).Clear();
            fixed (uint* idsPtr = ids)
            {
                *(uint*)(attr + 0) = (uint)dirFd;
                *(uint*)(attr + 4) = BPF_CGROUP_DEVICE;
                *(ulong*)(attr + 16) = (ulong)idsPtr;
                *(uint*)(attr + 24) = (uint)ids.Length;
                if (syscall(SysBpf, BPF_PROG_QUERY, (nint)attr, 40) < 0)
                {
                    throw SyscallException.FromLastError("bpf prog query", cgroupDirectory);
                }
            }

            return ids[..(int)*(uint*)(attr + 24)];
        }
        finally
        {
            _ = close(dirFd);
        }
    }

    /// <summary>Detaches the device program with id <paramref name="programId"/> from the cgroup.</summary>
    public static void DetachDeviceProgram(string cgroupDirectory, uint programId)
    {
        var attr = stackalloc byte[32];
        new Span<byte>(attr, 32).Clear();
        *(uint*)attr = programId;
        var progFd = syscall(SysBpf, BPF_PROG_GET_FD_BY_ID, (nint)attr, 32);
        if (progFd < 0)
        {
            throw SyscallException.FromLastError("bpf prog get fd by id", cgroupDirectory);
        }

        var dirFd = -1;
        try
        {
            dirFd = OpenDirectory(cgroupDirectory);
            new Span<byte>(attr, 32).Clear();
            *(uint*)(attr + 0) = (uint)dirFd;
            *(uint*)(attr + 4) = (uint)progFd;
            *(uint*)(attr + 8) = BPF_CGROUP_DEVICE;
            if (syscall(SysBpf, BPF_PROG_DETACH, (nint)attr, 32) < 0)
            {
                throw SyscallException.FromLastError("bpf prog detach", cgroupDirectory);
            }
        }
        finally
        {
            _ = close((int)progFd);
            if (dirFd >= 0)
            {
                _ = close(dirFd);
            }
        }
    }

    public static void Close(int fd) => _ = close(fd);

    private static int OpenDirectory(string path)
    {
        var fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        return fd >= 0 ? fd : throw SyscallException.FromLastError("open", path);
    }

    [LibraryImport("libc", SetLastError = true)] private static partial long syscall(long number, long cmd, nint attr, long size);
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] private static partial int open(string path, int flags, uint mode);
    [LibraryImport("libc", SetLastError = true)] private static partial int close(int fd);
}
