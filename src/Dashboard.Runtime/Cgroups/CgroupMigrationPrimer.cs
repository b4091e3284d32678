using System.Globalization;
using System.Text;
using Dashboard.Linux.Native;

namespace Dashboard.Runtime.Cgroups;

/// <summary>
/// Starts the RCU grace period that a cgroup v1 migration waits for while the runtime still reads the bundle,
/// so that moving init into its v1 hierarchies later costs about 0.1 ms each instead of a grace period first.
/// </summary>
/// <remarks>
/// Every <c>cgroup.procs</c> write takes <c>cgroup_threadgroup_rwsem</c> for writing. The first writer after a
/// quiet spell waits in <c>rcu_sync_enter</c> for a whole grace period (4–8 ms measured on a quiet 2-core host,
/// far more under load); writers that come while the lock is still in its writer-favoured state (until a grace
/// period after the last one left) do not wait. The kernel takes the lock before it looks at the task or the
/// target, so writing our own pid into the cgroup we are already in starts that period and moves nothing.
/// Not needed on a pure cgroup2 host, where init is cloned straight into its cgroup (<c>CLONE_INTO_CGROUP</c>).
/// </remarks>
internal sealed class CgroupMigrationPrimer
{
    private readonly NativeWriteThread _thread;
    private readonly int _tasksBefore;

    private CgroupMigrationPrimer(NativeWriteThread thread, int tasksBefore)
    {
        _thread = thread;
        _tasksBefore = tasksBefore;
    }

    /// <summary>Starts priming on a host whose container joins v1 hierarchies; null where there is nothing to gain.</summary>
    public static CgroupMigrationPrimer? Start(CgroupHost host)
    {
        if (host.Mounts.Layout == CgroupLayout.Unified || host.Fs.Root.Length != 0 || host.Mounts.V1.Count == 0)
        {
            return null;
        }

        var mount = host.Mounts.V1[0];
        if (mount.Controllers.Count == 0 || !host.OwnCgroups.TryGetValue(mount.Controllers[0], out var own))
        {
            return null;
        }

        var root = mount.Root.TrimEnd('/');
        if (own != mount.Root && !own.StartsWith(root + "/", StringComparison.Ordinal))
        {
            return null; // our cgroup is not visible through this mount
        }

        var procs = CgroupPath.Join(mount.MountPoint, own[root.Length..]) + "/cgroup.procs";
        var target = Sys.TryOpen(procs, OpenFlags.O_WRONLY);
        if (target < 0)
        {
            return null; // e.g. not allowed to migrate: the join will say so with its own error
        }

        var pid = Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var tasksBefore = TaskCount();

        // A plain pthread: a runtime thread's start is waited for, which cost the create path ~0.3 ms.
        var thread = NativeWriteThread.TryStart(target, pid);
        return thread is null ? null : new CgroupMigrationPrimer(thread, tasksBefore);
    }

    /// <summary>
    /// Waits (bounded) until the priming thread is gone from the kernel's task list. Called before init is
    /// cloned: init may run managed code in its copy of this process, which is safe only when no other thread
    /// could hold a lock at the clone (<see cref="CloneExec.IsQuiescent"/>), and it inherits no fd of ours.
    /// </summary>
    public void Wait()
    {
        if (!_thread.TryJoin(200))
        {
            return; // the write still hangs: init is then started the re-exec way, which does not need quiescence
        }

        // The join returns once the thread has cleared its tid; the kernel task leaves moments later.
        var deadline = Environment.TickCount64 + 50;
        while (TaskCount() > _tasksBefore && Environment.TickCount64 < deadline)
        {
            Thread.Yield();
        }
    }

    private static int TaskCount()
    {
        try
        {
            return Directory.GetDirectories("/proc/self/task").Length;
        }
        catch (IOException)
        {
            return int.MaxValue;
        }
    }
}
