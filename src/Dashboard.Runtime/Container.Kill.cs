using Dashboard.Linux;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime;

public sealed partial class Container
{
    /// <summary>runtime.md "kill": signals the init through a pidfd (never a recycled pid); <paramref name="all"/> signals every process of the cgroup.</summary>
    public void Kill(int signal, bool all = false)
    {
        Guard(s => s.CanKill(), "kill");
        if (all)
        {
            Cgroup.Signal(signal);
            return;
        }

        var pidfd = OpenInitPidfd();
        if (pidfd < 0)
        {
            throw RuntimeException.InvalidState($"cannot kill container {Id}: container not running");
        }

        try
        {
            var errno = Sys.PidfdSendSignal(pidfd, signal);
            if (errno != 0 && errno != Errno.ESRCH)
            {
                throw RuntimeException.Wrap($"kill container {Id}", new SyscallException("pidfd_send_signal", errno));
            }
        }
        finally
        {
            Sys.Close(pidfd);
        }
    }
}
