using System.Runtime.InteropServices;

namespace Dashboard.Linux.Native;

/// <summary>One classic-BPF instruction, laid out as the kernel's <c>struct sock_filter</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct SockFilter : IEquatable<SockFilter>
{
    public SockFilter(ushort code, byte jt, byte jf, uint k)
    {
        Code = code;
        Jt = jt;
        Jf = jf;
        K = k;
    }

    public ushort Code { get; }

    public byte Jt { get; }

    public byte Jf { get; }

    public uint K { get; }

    public static bool operator ==(SockFilter left, SockFilter right) => left.Equals(right);

    public static bool operator !=(SockFilter left, SockFilter right) => !left.Equals(right);

    public bool Equals(SockFilter other) => Code == other.Code && Jt == other.Jt && Jf == other.Jf && K == other.K;

    public override bool Equals(object? obj) => obj is SockFilter other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Code, Jt, Jf, K);

    public override string ToString() => $"{{ 0x{Code:x2}, {Jt}, {Jf}, 0x{K:x8} }}";
}

/// <summary>seccomp(2) <c>SECCOMP_FILTER_FLAG_*</c> values.</summary>
[Flags]
public enum SeccompFilterFlags : uint
{
    None = 0,
    Tsync = 1u << 0,
    Log = 1u << 1,
    SpecAllow = 1u << 2,
    NewListener = 1u << 3,
    TsyncEsrch = 1u << 4,
    WaitKillableRecv = 1u << 5,
}

/// <summary>
/// Loads a seccomp BPF program with seccomp(2). Filters apply to the calling thread only unless
/// <see cref="SeccompFilterFlags.Tsync"/> is given; the caller must have set no_new_privs on that
/// thread or hold CAP_SYS_ADMIN (seccomp(2), "SECCOMP_SET_MODE_FILTER").
/// </summary>
public static unsafe partial class SeccompFilter
{
    /// <summary>The kernel's BPF_MAXINSNS: longer programs are refused with EINVAL.</summary>
    public const int MaxInstructions = 4096;

    private const uint SECCOMP_SET_MODE_FILTER = 1;
    private const uint SECCOMP_GET_ACTION_AVAIL = 2;
    private const int PR_SET_NO_NEW_PRIVS = 38;
    private const int PR_GET_SECCOMP = 21;

    /// <summary>
    /// Installs <paramref name="program"/> on the calling thread. Returns the user-notification
    /// listener fd when <see cref="SeccompFilterFlags.NewListener"/> is set (the caller owns it), else -1.
    /// </summary>
    public static int Install(ReadOnlySpan<SockFilter> program, SeccompFilterFlags flags)
    {
        if (program.IsEmpty || program.Length > MaxInstructions)
        {
            throw new SyscallException("seccomp", Errno.EINVAL);
        }

        fixed (SockFilter* filter = program)
        {
            var prog = new SockFprog { Len = (ushort)program.Length, Filter = filter };
            var rc = syscall(SeccompSyscallNumber, SECCOMP_SET_MODE_FILTER, (nuint)flags, (nint)(&prog));
            if (rc < 0)
            {
                throw SyscallException.FromLastError("seccomp");
            }

            if (rc > 0 && (flags & (SeccompFilterFlags.Tsync | SeccompFilterFlags.NewListener)) == SeccompFilterFlags.Tsync)
            {
                // With TSYNC a positive result is the id of a thread that could not be synchronised.
                throw new SyscallException("seccomp tsync", Errno.ESRCH, $"thread {rc}");
            }

            return (flags & SeccompFilterFlags.NewListener) != 0 ? (int)rc : -1;
        }
    }

    /// <summary>
    /// Whether the kernel knows <paramref name="flags"/>: with a NULL program it answers EFAULT
    /// for known flags and EINVAL for unknown ones, without installing anything (as runc probes).
    /// </summary>
    public static bool IsSupported(SeccompFilterFlags flags)
    {
        var rc = syscall(SeccompSyscallNumber, SECCOMP_SET_MODE_FILTER, (nuint)flags, 0);
        return rc < 0 && Marshal.GetLastPInvokeError() == Errno.EFAULT;
    }

    /// <summary>Whether the kernel supports the <c>SECCOMP_RET_*</c> action <paramref name="action"/>.</summary>
    public static bool IsActionAvailable(uint action)
    {
        var value = action;
        return syscall(SeccompSyscallNumber, SECCOMP_GET_ACTION_AVAIL, 0, (nint)(&value)) == 0;
    }

    /// <summary>Sets no_new_privs on the calling thread (prctl(2) PR_SET_NO_NEW_PRIVS).</summary>
    public static void SetNoNewPrivileges()
    {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        {
            throw SyscallException.FromLastError("prctl PR_SET_NO_NEW_PRIVS");
        }
    }

    /// <summary>The calling thread's seccomp mode: 0 none, 1 strict, 2 filter.</summary>
    public static int GetMode()
    {
        var mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
        return mode >= 0 ? mode : throw SyscallException.FromLastError("prctl PR_GET_SECCOMP");
    }

    private static long SeccompSyscallNumber => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 317,
        Architecture.Arm64 => 277,
        Architecture.X86 => 354,
        Architecture.Arm => 383,
        _ => throw new PlatformNotSupportedException($"seccomp: no syscall number for {RuntimeInformation.ProcessArchitecture}"),
    };

    [StructLayout(LayoutKind.Sequential)]
    private struct SockFprog
    {
        public ushort Len;
        public SockFilter* Filter;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, nuint a1, nuint a2, nint a3);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, nuint a2, nuint a3, nuint a4, nuint a5);
}
