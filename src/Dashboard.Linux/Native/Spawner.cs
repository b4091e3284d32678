using System.Runtime.InteropServices;

namespace Dashboard.Linux.Native;

/// <summary>
/// Runs a helper program (hooks, <c>ps</c>) with posix_spawn, which glibc implements with
/// clone(CLONE_VM|CLONE_VFORK) and no managed code in the child: safe from any .NET process.
/// </summary>
public static unsafe class Spawner
{
    /// <summary>Runs <paramref name="path"/> with stdin fed from <paramref name="stdin"/>; kills it after the timeout.</summary>
    /// <returns>The exit status (128+signal when killed by a signal), or -1 on timeout.</returns>
    public static int Run(string path, IReadOnlyList<string> args, IReadOnlyList<string> env, ReadOnlySpan<byte> stdin, TimeSpan? timeout, int stdoutFd = 1, int stderrFd = 2)
    {
        var (inRead, inWrite) = Sys.Pipe();
        int pid;
        try
        {
            pid = Spawn(path, args, env, inRead, stdoutFd, stderrFd);
        }
        finally
        {
            Sys.Close(inRead);
        }

        var pidfd = Sys.TryPidfdOpen(pid);
        try
        {
            try
            {
                Sys.WriteAll(inWrite, stdin);
            }
            catch (SyscallException e) when (e.Errno == Errno.EPIPE)
            {
                // A hook that does not read its stdin is fine.
            }
            finally
            {
                Sys.Close(inWrite);
            }

            if (timeout is { } t && pidfd >= 0)
            {
                var revents = Sys.PollOne(pidfd, Sys.POLLIN, (int)Math.Min(int.MaxValue, Math.Max(0, t.TotalMilliseconds)));
                if (revents == 0)
                {
                    _ = Sys.PidfdSendSignal(pidfd, Signals.SIGKILL);
                    Sys.WaitPidfd(pidfd);
                    return -1;
                }
            }

            return pidfd >= 0 ? Sys.WaitPidfd(pidfd) : Sys.WaitPid(pid);
        }
        finally
        {
            Sys.Close(pidfd);
        }
    }

    /// <summary>Runs a program and captures its stdout (bounded).</summary>
    public static (int Status, string Output) Capture(string path, IReadOnlyList<string> args, IReadOnlyList<string> env)
    {
        var (outRead, outWrite) = Sys.Pipe();
        var (inRead, inWrite) = Sys.Pipe();
        Sys.Close(inWrite);
        int pid;
        try
        {
            pid = Spawn(path, args, env, inRead, outWrite, 2);
        }
        finally
        {
            Sys.Close(outWrite);
            Sys.Close(inRead);
        }

        byte[] output;
        try
        {
            output = Sys.ReadToEnd(outRead, 64 << 20);
        }
        finally
        {
            Sys.Close(outRead);
        }

        return (Sys.WaitPid(pid), System.Text.Encoding.UTF8.GetString(output));
    }

    private static int Spawn(string path, IReadOnlyList<string> args, IReadOnlyList<string> env, int stdinFd, int stdoutFd, int stderrFd)
    {
        var argv = NativeStrings.Create(args.Count == 0 ? [path] : args);
        var envp = NativeStrings.Create(env);
        var pathBytes = Sys.Utf8(path);
        // posix_spawn_file_actions_t and posix_spawnattr_t are opaque; glibc's are 80 and 336 bytes.
        var actions = (nint)NativeMemory.AllocZeroed(256);
        var attr = (nint)NativeMemory.AllocZeroed(512);
        try
        {
            _ = LibC.posix_spawn_file_actions_init(actions);
            _ = LibC.posix_spawnattr_init(attr);
            _ = LibC.posix_spawn_file_actions_adddup2(actions, stdinFd, 0);
            _ = LibC.posix_spawn_file_actions_adddup2(actions, stdoutFd, 1);
            _ = LibC.posix_spawn_file_actions_adddup2(actions, stderrFd, 2);
            // Reset signal dispositions (the .NET runtime ignores SIGPIPE) and the mask.
            const short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;
            ulong all = ulong.MaxValue & ~((1UL << (Signals.SIGKILL - 1)) | (1UL << (Signals.SIGSTOP - 1)));
            ulong none = 0;
            _ = LibC.posix_spawnattr_setsigdefault(attr, &all);
            _ = LibC.posix_spawnattr_setsigmask(attr, &none);
            _ = LibC.posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
            int pid;
            int rc;
            fixed (byte* p = pathBytes)
            {
                rc = LibC.posix_spawn(&pid, p, actions, attr, argv.Pointer, envp.Pointer);
            }

            return rc != 0 ? throw new SyscallException("posix_spawn", rc, path) : pid;
        }
        finally
        {
            _ = LibC.posix_spawn_file_actions_destroy(actions);
            _ = LibC.posix_spawnattr_destroy(attr);
            NativeMemory.Free((void*)actions);
            NativeMemory.Free((void*)attr);
            argv.Dispose();
            envp.Dispose();
        }
    }
}
