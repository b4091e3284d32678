namespace Dashboard.Linux.Native;

/// <summary>execve of the container process.</summary>
public static unsafe class Exec
{
    /// <summary>Replaces this process; only returns by throwing.</summary>
    public static void Execve(string path, IReadOnlyList<string> args, IReadOnlyList<string> env)
    {
        var argv = NativeStrings.Create(args);
        var envp = NativeStrings.Create(env);
        try
        {
            LibC.execve(path, argv.Pointer, envp.Pointer);
            throw SyscallException.FromLastError("exec", path);
        }
        finally
        {
            argv.Dispose();
            envp.Dispose();
        }
    }

    /// <summary>Restores default handlers and an empty mask, as a freshly exec'd program expects.</summary>
    public static void ResetSignals()
    {
        var none = 0UL;
        for (var sig = 1; sig <= 64; sig++)
        {
            if (sig is Signals.SIGKILL or Signals.SIGSTOP or 32 or 33)
            {
                continue;
            }

            _ = signal(sig, 0);
        }

        _ = LibC.sigprocmask(2, &none, null);
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern nint signal(int sig, nint handler);
}
