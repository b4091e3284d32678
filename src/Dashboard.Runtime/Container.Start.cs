using Dashboard.Linux;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime;

public sealed partial class Container
{
    /// <summary>runtime.md "start": releases the init through the exec fifo, then runs poststart hooks.</summary>
    public void Start(Action<string>? warn = null)
    {
        Guard(s => s.CanStart(), "start");
        var pidfd = OpenInitPidfd();
        if (pidfd < 0)
        {
            throw RuntimeException.InvalidState($"cannot start container {Id}: its init process is gone");
        }

        try
        {
            Release(pidfd, warn);
        }
        finally
        {
            Sys.Close(pidfd);
        }
    }

    /// <summary>
    /// <see cref="Start"/> by the process that created the container and holds its init's pidfd
    /// (<c>run</c>): the status and the pid need no lookup in /proc, as nothing else can have started
    /// it; an init that died since is still seen through the pidfd. The caller keeps the pidfd.
    /// </summary>
    public void StartCreated(int initPidfd, Action<string>? warn = null) => Release(initPidfd, warn);

    private void Release(int pidfd, Action<string>? warn)
    {
        var spec = _config ??= Store.LoadConfig(Id);
        if (spec.Process is null)
        {
            // runtime-spec: start with no process configured MUST fail (runc would hang or run nothing).
            throw RuntimeException.InvalidSpec($"cannot start container {Id}: config.json has no process");
        }

        var fifoPath = Store.FifoPath(Id);
        // Opened non-blocking and polled, so a dead init cannot hang start forever.
        var fifo = Sys.Open(fifoPath, OpenFlags.O_RDONLY | OpenFlags.O_NONBLOCK);
        try
        {
            Span<byte> buffer = stackalloc byte[1];
            while (true)
            {
                Span<(int, short, short)> poll = [(fifo, Sys.POLLIN, (short)0), (pidfd, Sys.POLLIN, (short)0)];
                Sys.Poll(poll, 1000);
                if ((poll[0].Item3 & Sys.POLLIN) != 0 && Sys.Read(fifo, buffer) == 1)
                {
                    break;
                }

                if ((poll[1].Item3 & Sys.POLLIN) != 0)
                {
                    throw RuntimeException.InvalidState($"cannot start container {Id}: its init process exited");
                }
            }
        }
        finally
        {
            Sys.Close(fifo);
        }

        if (Sys.TryUnlinkAt(OpenFlags.AT_FDCWD, fifoPath, 0) is var errno and not (0 or Errno.ENOENT))
        {
            throw new SyscallException("unlink", errno, fifoPath);
        }

        // state.json is not written again: "created" is the exec fifo's existence (above), and replacing the
        // file would make ext4 allocate its blocks at once (auto_da_alloc), which its deletion then pays a
        // synchronous discard for on a discard-mounted state root.

        if (spec.Hooks?.Poststart is not { Count: > 0 } poststart)
        {
            return;
        }

        try
        {
            HookRunner.Run(poststart, ToState(), "poststart");
        }
        catch (RuntimeException e)
        {
            // runtime-spec: a failing poststart hook is logged, the container keeps running.
            warn?.Invoke(e.Message);
        }
    }
}
