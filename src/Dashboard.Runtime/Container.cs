using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Cgroups;

namespace Dashboard.Runtime;

/// <summary>
/// One container under a state root. Each lifecycle verb lives in its own partial file
/// (Container.Create.cs, Container.Start.cs, …) and checks its transition guard first.
/// </summary>
public sealed partial class Container
{
    private ICgroupManager? _cgroup;
    private Spec? _config;

    private Container(StateStore store, ContainerRecord record, Spec? config = null)
    {
        Store = store;
        Record = record;
        _config = config;
    }

    public StateStore Store { get; }

    public ContainerRecord Record { get; }

    public string Id => Record.Id;

    public ICgroupManager Cgroup => _cgroup ??= CgroupManagerFactory.Open(Record.CgroupsPath ?? "/dashboard/" + Record.Id, Record.CgroupPaths);

    public static Container Load(StateStore store, string id)
    {
        ContainerId.Validate(id);
        return new Container(store, store.Load(id));
    }

    /// <summary>Whether the init process recorded for this container is still the same process.</summary>
    public bool InitAlive
    {
        get
        {
            if (Record.Pid <= 0 || ProcFs.ReadStat(Record.Pid) is not { } stat)
            {
                return false;
            }

            return stat.StartTime == Record.PidStartTime && stat.State is not ('Z' or 'X');
        }
    }

    /// <summary>The status, derived from the kernel each time (runc does the same): the state file only says what was set up.</summary>
    public ContainerStatus Status
    {
        get
        {
            if (!InitAlive)
            {
                return ContainerStatus.Stopped;
            }

            if (Sys.TryStat(Store.FifoPath(Id), follow: false, out _))
            {
                return ContainerStatus.Created;
            }

            return Cgroup.GetFreezerState() is FreezerState.Frozen or FreezerState.Freezing
                ? ContainerStatus.Paused
                : ContainerStatus.Running;
        }
    }

    public State ToState()
    {
        var status = Status;
        return new State
        {
            Id = Id,
            Status = status.ToSpecString(),
            Pid = status == ContainerStatus.Stopped ? 0 : Record.Pid,
            Bundle = Record.Bundle,
            Annotations = TryLoadConfig()?.Annotations,
        };
    }

    /// <summary>The container's copy of config.json, parsed once per process.</summary>
    public Spec? TryLoadConfig()
    {
        try
        {
            return _config ??= Store.LoadConfig(Id);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Opens a pidfd for the init process, verifying it is still ours (no pid-reuse signalling, security.md A13).</summary>
    internal int OpenInitPidfd()
    {
        var pidfd = Sys.TryPidfdOpen(Record.Pid);
        if (pidfd < 0)
        {
            return -1;
        }

        if (ProcFs.StartTime(Record.Pid) != Record.PidStartTime)
        {
            Sys.Close(pidfd);
            return -1;
        }

        return pidfd;
    }

    private void Guard(Func<ContainerStatus, bool> allowed, string verb)
    {
        var status = Status;
        if (!allowed(status))
        {
            throw RuntimeException.InvalidState($"cannot {verb} container {Id} in status {status.ToSpecString()}");
        }
    }
}
