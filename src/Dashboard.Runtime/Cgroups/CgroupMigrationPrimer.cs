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
public sealed class CgroupMigrationPrimer
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
        if (OwnProcsPath(host) is not { } procs)
        {
            return null;
        }

        var target = Sys.TryOpen(procs, OpenFlags.O_WRONLY);
        if (target < 0)
        {
            return null; // e.g. not allowed to migrate: the join will say so with its own error
        }

        var tasksBefore = TaskCount();

        // A plain pthread: a runtime thread's start is waited for, which cost the create path ~0.3 ms.
        var thread = NativeWriteThread.TryStart(target, OwnPid());
        return thread is null ? null : new CgroupMigrationPrimer(thread, tasksBefore);
    }

    /// <summary>
    /// For a process that waits for its request before it creates a container (the engine's standby shim): until
    /// <paramref name="fd"/> is readable, or for at most <paramref name="budgetMs"/>, keeps the migration lock
    /// writer-favoured by re-entering it every <see cref="KeepWarmIntervalMs"/> (no more than a grace period apart, so
    /// the state never falls back), so the create that follows starts with no grace period to wait for. Returns as soon
    /// as <paramref name="fd"/> is readable (data or EOF); does nothing where <see cref="Start"/> would not prime.
    /// </summary>
    /// <remarks>
    /// Each write moves this process into the cgroup it is already in: it only takes and drops the lock. While the lock
    /// is writer-favoured, fork and exit on the host take their slower (still non-blocking) path, hence the budget.
    /// </remarks>
    public static void KeepWarmUntilReadable(CgroupHost host, int fd, int budgetMs)
    {
        if (OwnProcsPath(host) is not { } procs)
        {
            return;
        }

        var target = Sys.TryOpen(procs, OpenFlags.O_WRONLY);
        if (target < 0)
        {
            return;
        }

        try
        {
            var pid = OwnPid();
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            while (System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds < budgetMs)
            {
                if (Sys.PollOne(fd, Sys.POLLIN, KeepWarmIntervalMs) != 0 || ShimCalls.TryWrite(target, pid) < 0)
                {
                    return;
                }
            }
        }
        finally
        {
            Sys.Close(target);
        }
    }

    /// <summary>Well under the shortest grace period measured here (4 ms on a quiet 2-core host).</summary>
    public const int KeepWarmIntervalMs = 2;

    private static byte[] OwnPid() => Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));

    /// <summary>The <c>cgroup.procs</c> of our own cgroup in the first v1 hierarchy, when a v1 join would wait for a grace period.</summary>
    private static string? OwnProcsPath(CgroupHost host)
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

        return CgroupPath.Join(mount.MountPoint, own[root.Length..]) + "/cgroup.procs";
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

    private static int TaskCount() => ProcFs.OwnThreadCount() is var count and >= 0 ? count : int.MaxValue;
}
