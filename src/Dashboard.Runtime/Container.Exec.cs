using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Init;

namespace Dashboard.Runtime;

public sealed class ExecOptions
{
    public required Oci.Runtime.Process Process { get; init; }
    public string? ConsoleSocket { get; init; }
    public string? PidFile { get; init; }
    public int PreserveFds { get; init; }

    /// <summary>exec --cgroup: sub-cgroups to run in, by controller ("" = every hierarchy); see <see cref="Cgroups.ICgroupManager.JoinSubgroups"/>.</summary>
    public IReadOnlyDictionary<string, string>? Subgroups { get; init; }
}

public sealed partial class Container
{
    /// <summary>
    /// Starts a new process inside the running container: it joins every namespace of the init
    /// and its cgroup, and gets the container's seccomp filter. Returns its host pid and a pidfd.
    /// </summary>
    public (int Pid, int Pidfd) Exec(ExecOptions options)
    {
        Guard(s => s.CanExec(), "exec");
        SpecValidator.ValidateProcess(options.Process);
        foreach (var sub in options.Subgroups?.Values ?? [])
        {
            Cgroups.CgroupSubgroup.Validate(sub);
        }

        var spec = Store.LoadConfig(Id);
        var pidfd = OpenInitPidfd();
        if (pidfd < 0)
        {
            throw RuntimeException.InvalidState($"cannot exec in container {Id}: container not running");
        }

        ClonedChild? child = null;
        var sync = -1;
        try
        {
            var joins = new Dictionary<string, string>();
            foreach (var ns in spec.Linux?.Namespaces ?? [])
            {
                joins[ns.Type] = $"/proc/{Record.Pid}/ns/{s_procNsNames[ns.Type]}";
            }

            var launch = new Launch { JoinPaths = joins, ConsoleSocket = options.ConsoleSocket, Cgroup = Cgroup, Subgroups = options.Subgroups };
            var execSpec = new Spec { Process = options.Process, Linux = new Oci.Runtime.Linux { Seccomp = spec.Linux?.Seccomp } };
            (child, sync) = launch.Start(l => new InitConfig
            {
                Mode = "exec",
                Id = Id,
                Bundle = Record.Bundle,
                Rootfs = Record.Rootfs,
                Spec = execSpec,
                PreserveFds = options.PreserveFds,
                ConsoleSocketFd = l.ConsoleFd,
                UserNamespace = joins.ContainsKey("user"),
                JoinNamespaces = l.InitJoins,
            });

            // The sync socket is close-on-exec in the child: EOF means the exec happened.
            while (InitChannel.Receive(sync) is { } reply)
            {
                if (reply.Type == "error")
                {
                    throw new RuntimeException(ErrorKind.Internal, reply.Message ?? "exec failed");
                }

                if (reply.Type == "seccomp")
                {
                    var state = new State { Id = Id, Pid = child.Pid, Bundle = Record.Bundle, Status = ContainerStatus.Running.ToSpecString(), Annotations = spec.Annotations };
                    Seccomp.SeccompListener.Forward(sync, spec.Linux?.Seccomp, state);
                }
            }

            if (options.PidFile is { } pidFile)
            {
                WritePidFile(pidFile, child.Pid);
            }

            var result = (child.Pid, child.PidFd);
            child = null;
            return result;
        }
        catch (Exception e)
        {
            child?.Abort();
            throw e is RuntimeException ? e : RuntimeException.Wrap($"exec in container {Id}", e);
        }
        finally
        {
            child?.Dispose();
            Sys.Close(sync);
            Sys.Close(pidfd);
        }
    }
}
