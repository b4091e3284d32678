using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime;

public sealed partial class Container
{
    /// <summary>Freezes every process of the container (cgroup freezer).</summary>
    public void Pause()
    {
        Guard(s => s.CanPause(), "pause");
        Cgroup.Freeze();
    }

    public void Resume()
    {
        Guard(s => s.CanResume(), "resume");
        Cgroup.Thaw();
    }

    /// <summary>Applies new resource limits to the running container and records them in its config.</summary>
    public IReadOnlyList<string> Update(Resources resources)
    {
        Guard(s => s != ContainerStatus.Stopped, "update");
        var warnings = Cgroup.Update(resources);
        var spec = Store.LoadConfig(Id);
        spec.Linux ??= new Oci.Runtime.Linux();
        spec.Linux.Resources = Merge(spec.Linux.Resources, resources);
        Store.SaveConfig(Id, spec);
        return warnings;
    }

    private static Resources Merge(Resources? current, Resources update)
    {
        current ??= new Resources();
        current.Memory = update.Memory ?? current.Memory;
        current.Cpu = update.Cpu ?? current.Cpu;
        current.Pids = update.Pids ?? current.Pids;
        current.BlockIo = update.BlockIo ?? current.BlockIo;
        current.HugepageLimits = update.HugepageLimits ?? current.HugepageLimits;
        current.Unified = update.Unified ?? current.Unified;
        current.Devices = update.Devices ?? current.Devices;
        return current;
    }

    public IReadOnlyList<int> Processes()
    {
        Guard(s => s != ContainerStatus.Stopped || Cgroup.Exists, "ps");
        return Cgroup.GetPids();
    }
}
