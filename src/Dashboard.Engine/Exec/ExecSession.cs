using Dashboard.Linux.Native;

namespace Dashboard.Engine.Exec;

/// <summary>
/// A started exec process: the <c>dashboard-runtime exec</c> child that waits for it, and its stdio —
/// three pipes, or both directions of the pty master received over the console socket.
/// </summary>
public sealed class ExecSession : IDisposable
{
    private readonly TaskCompletionSource<int> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _ptyLock = new();
    private int _ptyFd;

    internal ExecSession(string id, string containerId, bool tty, bool attachStdin, System.Diagnostics.Process process, int ptyFd)
    {
        Id = id;
        ContainerId = containerId;
        Tty = tty;
        AttachStdin = attachStdin;
        Process = process;
        _ptyFd = ptyFd;
        if (ptyFd >= 0)
        {
            Output = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(Sys.DupCloexec(ptyFd), ownsHandle: true), FileAccess.Read, 0);
            Input = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(Sys.DupCloexec(ptyFd), ownsHandle: true), FileAccess.Write, 0);
        }
        else
        {
            Output = process.StandardOutput.BaseStream;
            Error = process.StandardError.BaseStream;
            Input = attachStdin ? process.StandardInput.BaseStream : null;
        }
    }

    public string Id { get; }

    public string ContainerId { get; }

    public bool Tty { get; }

    public bool AttachStdin { get; }

    public int Pid { get; internal set; }

    internal System.Diagnostics.Process Process { get; }

    /// <summary>stdout, or the pty's output for a tty.</summary>
    public Stream Output { get; }

    /// <summary>stderr; null for a tty (one stream).</summary>
    public Stream? Error { get; }

    /// <summary>stdin (or the pty's input); null when stdin is not attached.</summary>
    public Stream? Input { get; }

    /// <summary>Completes with the exit code once it is recorded (what <c>GET /exec/{id}/json</c> then reports).</summary>
    public Task<int> Exited => _exit.Task;

    internal void SetExited(int code) => _exit.TrySetResult(code);

    /// <summary>Closes stdin so the process reads EOF (pipes only: a pty has no half-close).</summary>
    public void CloseInput()
    {
        if (!Tty)
        {
            Input?.Dispose();
        }
    }

    public void Resize(ushort height, ushort width)
    {
        lock (_ptyLock)
        {
            if (_ptyFd < 0)
            {
                throw new EngineException(ErrorKind.InvalidState, $"exec {Id} has no tty to resize");
            }

            Terminal.SetWindowSize(_ptyFd, height, width);
        }
    }

    public void Dispose()
    {
        lock (_ptyLock)
        {
            if (_ptyFd >= 0)
            {
                Sys.Close(_ptyFd);
                _ptyFd = -1;
            }
        }

        Output.Dispose();
        Error?.Dispose();
        Input?.Dispose();
        Process.Dispose();
    }
}
