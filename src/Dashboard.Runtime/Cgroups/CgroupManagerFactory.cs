namespace Dashboard.Runtime.Cgroups;

/// <summary>The host facts a driver needs: its cgroup mounts, this process's own cgroups, and the filesystem root.</summary>
public sealed class CgroupHost
{
    /// <param name="mounts">From <see cref="CgroupMounts.Parse"/>.</param>
    /// <param name="ownCgroups">From <see cref="ProcCgroup.Parse"/> of <c>/proc/self/cgroup</c> (relative cgroupsPath values hang below these).</param>
    /// <param name="cgroupRoot">The directory host paths are mapped under: "/" for the real host, a temp dir for a fake cgroupfs.</param>
    public CgroupHost(CgroupMounts mounts, IReadOnlyDictionary<string, string> ownCgroups, string cgroupRoot = "/")
        : this(mounts, ownCgroups, new CgroupFs(cgroupRoot))
    {
    }

    internal CgroupHost(CgroupMounts mounts, IReadOnlyDictionary<string, string> ownCgroups, CgroupFs fs)
    {
        Mounts = mounts;
        OwnCgroups = ownCgroups;
        Fs = fs;
    }

    public CgroupMounts Mounts { get; }

    public IReadOnlyDictionary<string, string> OwnCgroups { get; }

    internal CgroupFs Fs { get; }

    /// <summary>This host, from <c>/proc/self/mountinfo</c> and <c>/proc/self/cgroup</c>.</summary>
    public static CgroupHost Current() =>
        new(CgroupMounts.ReadCurrent(), ProcCgroup.Parse(Dashboard.Linux.Fs.SmallFiles.ReadAllText("/proc/self/cgroup")));
}

/// <summary>Picks the driver for the host's layout: v1 for legacy and hybrid hosts, v2 for unified ones.</summary>
public static class CgroupManagerFactory
{
    public static ICgroupManager Create(string containerId, string? cgroupsPath) =>
        Create(containerId, cgroupsPath, CgroupHost.Current());

    public static ICgroupManager Create(string containerId, string? cgroupsPath, CgroupHost host)
    {
        var path = Cgroups.CgroupPath.Normalize(cgroupsPath, containerId);
        return host.Mounts.Layout == CgroupLayout.Unified
            ? new CgroupV2Manager(host, path)
            : new CgroupV1Manager(host, path);
    }

    /// <summary>Reopens a container's cgroup from the <see cref="ICgroupManager.Paths"/> saved in its state.</summary>
    public static ICgroupManager Open(string cgroupPath, IReadOnlyDictionary<string, string> savedPaths) =>
        Open(cgroupPath, savedPaths, CgroupHost.Current());

    public static ICgroupManager Open(string cgroupPath, IReadOnlyDictionary<string, string> savedPaths, CgroupHost host)
    {
        var path = Cgroups.CgroupPath.Normalize(cgroupPath, "-");
        return host.Mounts.Layout == CgroupLayout.Unified
            ? new CgroupV2Manager(host, path, savedPaths)
            : new CgroupV1Manager(host, path, savedPaths);
    }
}
