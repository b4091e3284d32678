using System.Runtime.InteropServices;

namespace Dashboard.Linux.Native;

/// <summary>
/// A minimal init for a container (Docker's <c>--init</c>, what tini does): the calling process
/// stays PID 1, starts the container's program as its only direct child, forwards every signal it
/// receives to that child, reaps every process re-parented to it, and exits with the child's
/// status (128 + signal number when the child was killed).
/// </summary>
/// <remarks>
/// Everything after the fork is raw syscalls on memory prepared before it: no allocation, no GC
/// transition, no lock, so the parent loop can run in the clone child of a managed process and
/// the child only execs (DESIGN.md §2). The caller has already dropped to the container's identity,
/// capabilities and seccomp filter, so this PID 1 holds nothing the program itself does not.
/// Plain <c>clone</c> with fork semantics is used instead of clone3, which seccomp profiles such as
/// Docker's answer with ENOSYS.
/// </remarks>
public static unsafe class InitReaper
{
    private const long SYS_rt_sigprocmask = 14;
    private const long SYS_clone = 56;
    private const long SYS_execve = 59;
    private const long SYS_wait4 = 61;
    private const long SYS_kill = 62;
    private const long SYS_rt_sigtimedwait = 128;
    private const int SIG_SETMASK = 2;
    private const int WNOHANG = 1;

    /// <summary>Starts <paramref name="path"/> as the child and supervises it; never returns.</summary>
    public static void Run(string path, IReadOnlyList<string> args, IReadOnlyList<string> env)
    {
        var argv = NativeStrings.Create(args);
        var envp = NativeStrings.Create(env);
        var file = NativeStrings.Create([path]);
        Supervise(file.Pointer[0], argv.Pointer, envp.Pointer);
    }

    private static void Supervise(byte* path, byte** argv, byte** envp)
    {
        // Every signal stays pending until the loop below takes it with sigtimedwait: blocked
        // signals reach a namespace's PID 1 even without a handler (the kernel drops unhandled
        // ones only when they are not blocked).
        ulong all = ~0UL;
        ulong none = 0;
        RawLibC.syscall(SYS_rt_sigprocmask, SIG_SETMASK, (nint)(&all), 0, 8, 0, 0);
        var child = RawLibC.syscall(SYS_clone, Signals.SIGCHLD, 0, 0, 0, 0, 0);
        if (child == 0)
        {
            RawLibC.syscall(SYS_rt_sigprocmask, SIG_SETMASK, (nint)(&none), 0, 8, 0, 0);
            RawLibC.syscall(SYS_execve, (nint)path, (nint)argv, (nint)envp, 0, 0, 0);
            RawLibC.syscall(SyscallNumbers.SYS_exit_group, 127, 0, 0, 0, 0, 0);
        }

        if (child < 0)
        {
            RawLibC.syscall(SyscallNumbers.SYS_exit_group, 127, 0, 0, 0, 0, 0);
        }

        var info = stackalloc byte[128];
        var status = 0;
        while (true)
        {
            var sig = RawLibC.syscall(SYS_rt_sigtimedwait, (nint)(&all), (nint)info, 0, 8, 0, 0);
            if (sig < 0)
            {
                continue;
            }

            if (sig != Signals.SIGCHLD)
            {
                RawLibC.syscall(SYS_kill, (nint)child, (nint)sig, 0, 0, 0, 0);
                continue;
            }

            long reaped;
            while ((reaped = RawLibC.syscall(SYS_wait4, -1, (nint)(&status), WNOHANG, 0, 0, 0)) > 0)
            {
                if (reaped == child)
                {
                    // The program is gone: what it left behind dies with this PID namespace.
                    var code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
                    RawLibC.syscall(SyscallNumbers.SYS_exit_group, code, 0, 0, 0, 0, 0);
                }
            }
        }
    }
}
