using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime;

public sealed partial class Container
{
    /// <summary>
    /// runtime.md "delete": only a stopped container may be deleted; <paramref name="force"/> kills
    /// it first (every process of its cgroup, frozen ones too). Removes the cgroup and the state,
    /// then runs poststop hooks.
    /// </summary>
    public void Delete(bool force, Action<string>? warn = null)
    {
        var status = Status;
        if (status != ContainerStatus.Stopped)
        {
            if (!force)
            {
                throw RuntimeException.InvalidState($"cannot delete container {Id} that is not stopped: {status.ToSpecString()}");
            }

            KillAndWait();
        }

        RemoveStopped(warn);
    }

    /// <summary>
    /// <see cref="Delete"/> for a caller that has reaped the init itself (<c>run</c>): the container is
    /// stopped, so the status lookup in /proc is skipped; the cgroup is still emptied and removed as
    /// <see cref="Delete"/> does (processes outside the init's pid namespace can outlive it).
    /// </summary>
    public void DeleteAfterInitReaped(Action<string>? warn = null) => RemoveStopped(warn);

    private void RemoveStopped(Action<string>? warn)
    {
        var spec = TryLoadConfig();
        var state = new State { Id = Id, Status = ContainerStatus.Stopped.ToSpecString(), Pid = 0, Bundle = Record.Bundle, Annotations = spec?.Annotations };
        try
        {
            // An empty cgroup is removed by rmdir alone, which the kernel refuses while anything is left in it.
            if (!Cgroup.TryRemoveEmpty())
            {
                Cgroup.Kill();
                Cgroup.Destroy();
            }
        }
        catch (Exception e) when (e is IOException or RuntimeException or Linux.SyscallException)
        {
            throw RuntimeException.Wrap($"delete container {Id}: remove cgroup", e);
        }

        Store.Remove(Id);
        try
        {
            HookRunner.Run(spec?.Hooks?.Poststop, state, "poststop");
        }
        catch (RuntimeException e)
        {
            // runtime-spec: a failing poststop hook is logged and the delete still succeeds.
            warn?.Invoke(e.Message);
        }
    }

    private void KillAndWait()
    {
        var pidfd = OpenInitPidfd();
        try
        {
            if (Cgroup.Exists)
            {
                Cgroup.Kill();
            }

            if (pidfd >= 0)
            {
                _ = Sys.PidfdSendSignal(pidfd, Signals.SIGKILL);
                // A pidfd becomes readable when the process exits (reaped or not).
                if (Sys.PollOne(pidfd, Sys.POLLIN, 10_000) == 0)
                {
                    throw RuntimeException.InvalidState($"container {Id}: init did not exit after SIGKILL");
                }
            }
        }
        finally
        {
            Sys.Close(pidfd);
        }
    }
}
