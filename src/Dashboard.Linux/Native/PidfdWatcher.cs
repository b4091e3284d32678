namespace Dashboard.Linux.Native;

/// <summary>
/// Waits for the exits of processes this process did not spawn (no SIGCHLD reaches it, e.g. the shims an engine
/// adopts after a restart) on one thread: each pidfd handed to <see cref="WaitAsync"/> completes its task when the
/// kernel makes it readable, which it does when the process exits. An eventfd wakes the thread for new pidfds.
/// </summary>
public sealed class PidfdWatcher : IDisposable
{
    private const int EFD_NONBLOCK = 0x800;
    private const int EFD_CLOEXEC = 0x80000;

    private readonly Lock _lock = new();
    private readonly Dictionary<int, TaskCompletionSource> _pending = [];
    private readonly int _wake = Sys.Eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    private Thread? _thread;
    private bool _disposed;

    /// <summary>Pidfds being watched (tests).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>
    /// Completes when the process of <paramref name="pidfd"/> has exited; takes ownership of the fd (closed once it
    /// fires). Canceled when the watcher is disposed first.
    /// </summary>
    public Task WaitAsync(int pidfd)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pidfd);
        var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_disposed)
            {
                Sys.Close(pidfd);
                throw new ObjectDisposedException(nameof(PidfdWatcher));
            }

            _pending.Add(pidfd, exited);
            if (_thread is null)
            {
                _thread = new Thread(Watch) { IsBackground = true, Name = "pidfd watcher" };
                _thread.Start();
            }
        }

        Wake();
        return exited.Task;
    }

    public void Dispose()
    {
        Thread? thread;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            thread = _thread;
        }

        Wake();
        thread?.Join();
        foreach (var (fd, exited) in _pending)
        {
            Sys.Close(fd);
            exited.TrySetCanceled();
        }

        _pending.Clear();
        Sys.Close(_wake);
    }

    private void Watch()
    {
        var counter = new byte[8];
        while (true)
        {
            int[] fds;
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }

                fds = [.. _pending.Keys];
            }

            var poll = new (int Fd, short Events, short REvents)[fds.Length + 1];
            poll[0] = (_wake, Sys.POLLIN, 0);
            for (var i = 0; i < fds.Length; i++)
            {
                poll[i + 1] = (fds[i], Sys.POLLIN, 0);
            }

            Sys.Poll(poll, -1);
            if (poll[0].REvents != 0)
            {
                try
                {
                    _ = Sys.Read(_wake, counter);
                }
                catch (SyscallException e) when (e.Errno == Errno.EAGAIN)
                {
                }
            }

            for (var i = 1; i < poll.Length; i++)
            {
                // POLLIN on exit; POLLHUP/POLLERR/POLLNVAL also end the wait rather than spin on the fd.
                if (poll[i].REvents == 0)
                {
                    continue;
                }

                TaskCompletionSource exited;
                lock (_lock)
                {
                    if (!_pending.Remove(poll[i].Fd, out exited!))
                    {
                        continue;
                    }
                }

                Sys.Close(poll[i].Fd);
                exited.TrySetResult();
            }
        }
    }

    private void Wake()
    {
        Span<byte> one = stackalloc byte[8];
        one[0] = 1;
        try
        {
            Sys.WriteAll(_wake, one, "eventfd");
        }
        catch (SyscallException e) when (e.Errno == Errno.EAGAIN)
        {
            // The counter is saturated: the thread has a wake-up pending anyway.
        }
    }
}
