using System.Runtime.InteropServices;

namespace Dashboard.Linux.Native;

/// <summary>What the child of <see cref="CloneExec.Start"/> does between clone3 and execveat.</summary>
public sealed record CloneExecRequest
{
    /// <summary>CLONE_NEW* flags; CLONE_PIDFD is always added.</summary>
    public ulong Flags { get; init; }

    /// <summary>A cgroup v2 directory fd for CLONE_INTO_CGROUP, or -1.</summary>
    public int CgroupFd { get; init; } = -1;

    /// <summary>The executable to run, by fd (a sealed memfd copy of ourselves); unused with <see cref="InProcess"/>.</summary>
    public int ExecFd { get; init; } = -1;

    public IReadOnlyList<string> Argv { get; init; } = [];

    public IReadOnlyList<string> Envp { get; init; } = [];

    /// <summary>
    /// Instead of exec, the child runs this and exits with its result. Only for a quiescent caller
    /// (see <see cref="CloneExec.IsQuiescent"/>): the child is a copy of the parent's address space
    /// with one thread, which is safe for managed code only when no other thread could have been
    /// allocating, collecting or holding a lock at the clone.
    /// </summary>
    public Func<int>? InProcess { get; init; }

    /// <summary>Namespace fds the child joins with setns(fd, 0) before exec, in order (user first).</summary>
    public IReadOnlyList<int> JoinNamespaceFds { get; init; } = [];

    /// <summary>Become uid/gid 0 of the (new or joined) user namespace before exec, so exec keeps the capabilities there.</summary>
    public bool BecomeNamespaceRoot { get; init; }

    /// <summary>Close-on-exec fds of the parent that the child keeps across exec.</summary>
    public IReadOnlyList<int> InheritFds { get; init; } = [];
}

/// <summary>
/// Starts a child with clone3 and replaces it with execveat at once. Between the two the child runs
/// only raw syscalls on memory prepared before the clone: no allocation, no GC transition, no lock
/// (DESIGN.md §2: managed code must not run in a child of a multithreaded managed process). The
/// child waits for <see cref="ClonedChild.Release"/> before exec, so the parent can write uid/gid
/// maps and join cgroups first; errors of the child come back through a close-on-exec pipe.
/// </summary>
public static unsafe class CloneExec
{
    [StructLayout(LayoutKind.Sequential)]
    private struct CloneArgs
    {
        public ulong Flags;
        public ulong Pidfd;
        public ulong ChildTid;
        public ulong ParentTid;
        public ulong ExitSignal;
        public ulong Stack;
        public ulong StackSize;
        public ulong Tls;
        public ulong SetTid;
        public ulong SetTidSize;
        public ulong Cgroup;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct KernelSigaction
    {
        public nint Handler;
        public ulong Flags;
        public nint Restorer;
        public ulong Mask;
    }

    private const long SYS_rt_sigaction = 13;
    private const long SYS_rt_sigprocmask = 14;
    private const long SYS_setresuid = 117;
    private const long SYS_setresgid = 119;

    /// <summary>
    /// Whether this process has only the main thread and the runtime's finalizer thread (DESIGN.md
    /// §2: the measured-safe state for running managed code in a clone child).
    /// </summary>
    public static bool IsQuiescent() => ProcFs.OwnThreadCount() is > 0 and <= 2;

    public static ClonedChild Start(CloneExecRequest request)
    {
        // Everything the child touches lives in one unmanaged block prepared here.
        var argv = NativeStrings.Create(request.Argv);
        var envp = NativeStrings.Create(request.Envp);
        var joinCount = request.JoinNamespaceFds.Count;
        var inheritCount = request.InheritFds.Count;
        var ints = (int*)NativeMemory.Alloc((nuint)(joinCount + inheritCount + 1) * sizeof(int));
        for (var i = 0; i < joinCount; i++)
        {
            ints[i] = request.JoinNamespaceFds[i];
        }

        for (var i = 0; i < inheritCount; i++)
        {
            ints[joinCount + i] = request.InheritFds[i];
        }

        var empty = (byte*)NativeMemory.AllocZeroed(8);
        var (goRead, goWrite) = Sys.Pipe();
        var (errRead, errWrite) = Sys.Pipe();
        int pidfd = -1;
        var args = new CloneArgs
        {
            Flags = request.Flags | CloneFlags.CLONE_PIDFD | (request.CgroupFd >= 0 ? CloneFlags.CLONE_INTO_CGROUP : 0),
            Pidfd = (ulong)(nint)(&pidfd),
            ExitSignal = (ulong)Signals.SIGCHLD,
            Cgroup = request.CgroupFd >= 0 ? (ulong)request.CgroupFd : 0,
        };

        long pid;
        try
        {
            if (request.InProcess is not null)
            {
                // Leaves the finalizer thread parked: nothing between here and clone3 allocates, so no
                // collection can queue it new work while the address space is copied.
                GC.WaitForPendingFinalizers();
            }

            pid = RawLibC.syscall(SyscallNumbers.SYS_clone3, (nint)(&args), sizeof(CloneArgs), 0, 0, 0, 0);
            if (pid == 0 && request.InProcess is { } inProcess)
            {
                ChildRunInProcess(goRead, goWrite, errWrite, ints, joinCount, request.BecomeNamespaceRoot, inProcess);
            }

            if (pid == 0)
            {
                ChildMain(goRead, goWrite, errWrite, ints, joinCount, inheritCount, request.ExecFd, empty, argv.Pointer, envp.Pointer, request.BecomeNamespaceRoot);
            }

            if (pid < 0)
            {
                throw new SyscallException("clone3", *RawLibC.__errno_location());
            }
        }
        catch
        {
            Sys.Close(goWrite);
            Sys.Close(errRead);
            throw;
        }
        finally
        {
            Sys.Close(goRead);
            Sys.Close(errWrite);
            NativeMemory.Free(ints);
            NativeMemory.Free(empty);
            argv.Dispose();
            envp.Dispose();
        }

        return new ClonedChild((int)pid, pidfd, goWrite, errRead);
    }

    // Runs in the child of an in-process clone: the same preparation as ChildMain, then the managed
    // entry point instead of exec. The error pipe is closed first, which tells Release that the
    // child is running; from then on it reports through its own channel. Never returns.
    private static void ChildRunInProcess(int goRead, int goWrite, int errWrite, int* ints, int joinCount, bool becomeRoot, Func<int> entry)
    {
        Prepare(goRead, goWrite, errWrite, ints, joinCount, becomeRoot);
        RawLibC.syscall(SyscallNumbers.SYS_close, errWrite, 0, 0, 0, 0, 0);
        var code = 1;
        try
        {
            code = entry();
        }
        finally
        {
            RawLibC.syscall(SyscallNumbers.SYS_exit_group, code, 0, 0, 0, 0, 0);
        }
    }

    // Runs in the child. Raw syscalls only; never returns.
    private static void ChildMain(int goRead, int goWrite, int errWrite, int* ints, int joinCount, int inheritCount, int execFd, byte* empty, byte** argv, byte** envp, bool becomeRoot)
    {
        Prepare(goRead, goWrite, errWrite, ints, joinCount, becomeRoot);
        for (var i = 0; i < inheritCount; i++)
        {
            if (RawLibC.syscall(SyscallNumbers.SYS_fcntl, ints[joinCount + i], OpenFlags.F_SETFD, 0, 0, 0, 0) < 0)
            {
                Fail(errWrite, 2, i);
            }
        }

        // The .NET runtime ignores SIGPIPE and may block signals; a new program must start with defaults.
        var dfl = default(KernelSigaction);
        for (var sig = 1; sig <= 64; sig++)
        {
            if (sig is Signals.SIGKILL or Signals.SIGSTOP)
            {
                continue;
            }

            RawLibC.syscall(SYS_rt_sigaction, sig, (nint)(&dfl), 0, 8, 0, 0);
        }

        ulong emptyMask = 0;
        RawLibC.syscall(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, (nint)(&emptyMask), 0, 8, 0, 0);

        RawLibC.syscall(SyscallNumbers.SYS_execveat, execFd, (nint)empty, (nint)argv, (nint)envp, OpenFlags.AT_EMPTY_PATH, 0);
        Fail(errWrite, 3, 0);
    }

    // Waits for Release, then joins the namespaces given by fd and becomes root of the user namespace.
    private static void Prepare(int goRead, int goWrite, int errWrite, int* ints, int joinCount, bool becomeRoot)
    {
        RawLibC.syscall(SyscallNumbers.SYS_close, goWrite, 0, 0, 0, 0, 0);
        byte go = 0;
        long n;
        do
        {
            n = RawLibC.syscall(SyscallNumbers.SYS_read, goRead, (nint)(&go), 1, 0, 0, 0);
        }
        while (n < 0 && *RawLibC.__errno_location() == Errno.EINTR);
        if (n != 1)
        {
            RawLibC.syscall(SyscallNumbers.SYS_exit_group, 1, 0, 0, 0, 0, 0);
        }

        for (var i = 0; i < joinCount; i++)
        {
            if (RawLibC.syscall(SyscallNumbers.SYS_setns, ints[i], 0, 0, 0, 0, 0) < 0)
            {
                Fail(errWrite, 1, i);
            }
        }

        if (becomeRoot
            && (RawLibC.syscall(SYS_setresgid, 0, 0, 0, 0, 0, 0) < 0 || RawLibC.syscall(SYS_setresuid, 0, 0, 0, 0, 0, 0) < 0))
        {
            Fail(errWrite, 4, 0);
        }
    }

    private static void Fail(int errWrite, int stage, int index)
    {
        var record = stackalloc int[3];
        record[0] = stage;
        record[1] = index;
        record[2] = *RawLibC.__errno_location();
        RawLibC.syscall(SyscallNumbers.SYS_write, errWrite, (nint)record, 12, 0, 0, 0);
        RawLibC.syscall(SyscallNumbers.SYS_exit_group, 127, 0, 0, 0, 0, 0);
    }
}

/// <summary>A child started by <see cref="CloneExec"/>: its pid and pidfd.</summary>
public sealed class ClonedChild : IDisposable
{
    private int _goWrite;
    private int _errRead;

    internal ClonedChild(int pid, int pidfd, int goWrite, int errRead)
    {
        Pid = pid;
        PidFd = pidfd;
        _goWrite = goWrite;
        _errRead = errRead;
    }

    public int Pid { get; }

    public int PidFd { get; private set; }

    /// <summary>Lets the child exec (or start its in-process entry), and waits until that happened or failed.</summary>
    public unsafe void Release()
    {
        ReadOnlySpan<byte> one = [1];
        Sys.WriteAll(_goWrite, one);
        Sys.Close(_goWrite);
        _goWrite = -1;
        Span<byte> record = stackalloc byte[12];
        var total = 0;
        while (total < record.Length)
        {
            var n = Sys.Read(_errRead, record[total..]);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        Sys.Close(_errRead);
        _errRead = -1;
        if (total == 0)
        {
            return;
        }

        var ints = MemoryMarshal.Cast<byte, int>(record);
        var call = ints[0] switch { 1 => "setns", 2 => "fcntl", 4 => "setresuid", _ => "execveat" };
        throw new SyscallException(call, ints[2]);
    }

    /// <summary>Kills the child (if still there) and reaps it.</summary>
    public void Abort()
    {
        if (PidFd >= 0)
        {
            _ = Sys.PidfdSendSignal(PidFd, Signals.SIGKILL);
            try
            {
                Sys.WaitPidfd(PidFd);
            }
            catch (SyscallException)
            {
                // Already reaped.
            }
        }
    }

    public void Dispose()
    {
        Sys.Close(_goWrite);
        Sys.Close(_errRead);
        Sys.Close(PidFd);
        _goWrite = _errRead = -1;
        PidFd = -1;
    }
}

/// <summary>A NULL-terminated array of NUL-terminated UTF-8 strings in unmanaged memory.</summary>
internal readonly unsafe struct NativeStrings : IDisposable
{
    private NativeStrings(byte** pointer) => Pointer = pointer;

    public byte** Pointer { get; }

    public static NativeStrings Create(IReadOnlyList<string> values)
    {
        var table = (byte**)NativeMemory.AllocZeroed((nuint)(values.Count + 1) * (nuint)sizeof(nint));
        for (var i = 0; i < values.Count; i++)
        {
            var count = System.Text.Encoding.UTF8.GetByteCount(values[i]);
            var p = (byte*)NativeMemory.Alloc((nuint)count + 1);
            System.Text.Encoding.UTF8.GetBytes(values[i], new Span<byte>(p, count));
            p[count] = 0;
            table[i] = p;
        }

        return new NativeStrings(table);
    }

    public void Dispose()
    {
        if (Pointer == null)
        {
            return;
        }

        for (var i = 0; Pointer[i] != null; i++)
        {
            NativeMemory.Free(Pointer[i]);
        }

        NativeMemory.Free(Pointer);
    }
}
