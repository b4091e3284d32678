using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Cgroups;

public enum FreezerState
{
    /// <summary>No freezer on this host (v1 without the freezer hierarchy, v2 before Linux 5.2).</summary>
    Undefined,
    Thawed,
    Freezing,
    Frozen,
}

/// <summary>
/// One container's cgroup, on whatever layout the host has. Obtain one from
/// <see cref="CgroupManagerFactory.Create(string, string?)"/> when creating a container, and from
/// <see cref="CgroupManagerFactory.Open"/> with the saved <see cref="Paths"/> afterwards (a relative cgroupsPath
/// resolves against the calling process's own cgroup, which a later CLI process may not share). Nothing is
/// cached that the filesystem does not hold, so <c>delete</c> from a new process works.
/// </summary>
public interface ICgroupManager
{
    CgroupLayout Layout { get; }

    /// <summary>The normalised cgroupsPath (e.g. <c>/dashboard/&lt;id&gt;</c>).</summary>
    string CgroupPath { get; }

    /// <summary>
    /// Directory per controller (runc's <c>cgroup_paths</c>): v1 keys are controller names
    /// (<c>cpu</c>, <c>memory</c>, <c>name=systemd</c>, …); the cgroup2 directory has key "" (on hybrid hosts too).
    /// </summary>
    IReadOnlyDictionary<string, string> Paths { get; }

    bool Exists { get; }

    /// <summary>Creates the cgroup(s) and applies <paramref name="resources"/>. Returns what was accepted but is not enforced.</summary>
    IReadOnlyList<string> Create(Resources? resources);

    /// <summary>Applies <paramref name="resources"/> to the live cgroup (runc <c>update</c>). Returns what is not enforced.</summary>
    IReadOnlyList<string> Update(Resources resources);

    /// <summary>Moves <paramref name="pid"/> (0 = the caller) into the cgroup of every hierarchy.</summary>
    void Join(int pid);

    /// <summary>
    /// Like <see cref="Join(int)"/>; with <paramref name="unifiedJoined"/> the cgroup2 directory is left out
    /// because the process was cloned into it (CLONE_INTO_CGROUP, see <see cref="OpenCloneTarget"/>).
    /// </summary>
    void Join(int pid, bool unifiedJoined);

    /// <summary>
    /// A close-on-exec fd of the cgroup2 directory for clone3's CLONE_INTO_CGROUP, or -1 when the host
    /// has no cgroup2 mount: a child cloned into it is there from its first instruction, which saves
    /// the migration (and its RCU grace period) a <c>cgroup.procs</c> write costs. The caller closes it.
    /// </summary>
    int OpenCloneTarget();

    /// <summary>
    /// Moves <paramref name="pid"/> into existing sub-cgroups of the container's cgroup (runc
    /// <c>exec --cgroup</c>): key = controller (v1 only) or "" for every hierarchy, value = the path
    /// below the container's cgroup. Hierarchies not named get the container's cgroup itself.
    /// </summary>
    void JoinSubgroups(int pid, IReadOnlyDictionary<string, string> subgroups);

    /// <summary>Every process in the cgroup and its sub-cgroups.</summary>
    IReadOnlyList<int> GetPids();

    /// <summary>Freezes every process and waits until the kernel reports the cgroup frozen.</summary>
    void Freeze();

    void Thaw();

    FreezerState GetFreezerState();

    /// <summary>SIGKILLs everything in the cgroup subtree (frozen processes too) and waits until it is empty.</summary>
    void Kill();

    /// <summary>Sends <paramref name="signal"/> once to every process in the cgroup subtree (runc <c>kill --all</c>).</summary>
    void Signal(int signal);

    /// <summary>Removes the cgroup directories bottom-up, sub-cgroups made inside the container included.</summary>
    void Destroy();

    /// <summary>
    /// Removes the cgroup if the kernel finds it empty in every hierarchy; false (with the directories it
    /// could not remove left in place) otherwise, and then the caller must <see cref="Kill"/> and
    /// <see cref="Destroy"/>. rmdir of a cgroup directory fails with EBUSY while any task is attached to it
    /// or it has a child cgroup (cgroup_destroy_locked), in v1 and v2 alike, so success in every hierarchy
    /// proves what listing each <c>cgroup.procs</c> would, atomically with the removal: no process that
    /// stayed in any of the container's cgroups is left, whatever a privileged container did to one of them.
    /// A missing directory counts as removed.
    /// </summary>
    bool TryRemoveEmpty();

    /// <summary>Usage counters in the shape of runc's <c>events --stats</c> data.</summary>
    CgroupStats GetStats();

    /// <summary>How many processes the OOM killer has killed in this cgroup.</summary>
    ulong GetOomKillCount();

    /// <summary>A pollable OOM notification (v1 eventfd on memory.oom_control, v2 inotify on memory.events).</summary>
    IOomWatcher WatchOom();
}

/// <summary>
/// OOM notifications for one cgroup, poll-friendly: poll <see cref="Fd"/> for POLLIN, then call
/// <see cref="Acknowledge"/> and compare <see cref="ReadOomKillCount"/> with the last value seen.
/// </summary>
public interface IOomWatcher : IDisposable
{
    /// <summary>Becomes readable on an OOM event (v1) or any memory.events change (v2).</summary>
    int Fd { get; }

    /// <summary>Consumes pending notifications so the fd stops being readable.</summary>
    void Acknowledge();

    ulong ReadOomKillCount();

    /// <summary>Waits until the oom_kill counter exceeds <paramref name="seen"/>; false on timeout or when the cgroup is gone.</summary>
    bool WaitForOomKill(ulong seen, TimeSpan timeout);
}
