using System.Text;
using Dashboard.Linux.Native;
using Dashboard.Runtime.Shim;

namespace Dashboard.Runtime.Cli.Commands;

/// <summary>Hidden verb: the per-container supervisor the engine starts (see <see cref="ContainerShim"/>).</summary>
public static class ShimCommand
{
    /// <summary>
    /// How long a standby keeps the cgroup migration lock warm for the create its request will run: the engine spawns it
    /// at a container's create, and a start normally follows within milliseconds (docker run).
    /// </summary>
    private const int StandbyKeepWarmMs = 250;

    /// <summary>Bound on a standby request (its flags and the id, NUL-separated): paths, not data.</summary>
    private const int MaxStandbyRequest = 64 * 1024;

    public static FlagSet Flags => new FlagSet()
        .Value("bundle", "b").Value("log-path").Value("exit-file").Value("control-socket").Value("log-max-size")
        .Value("log-max-files").Value("pid-file").Bool("stdin").Bool("standby");

    public static int Run(Context context, CommandLine cmd)
    {
        Cgroups.CgroupHost? cgroupHost = null;
        if (cmd.Flag("standby"))
        {
            // Started by the engine ahead of need, so a container start does not wait for a process to be spawned and
            // initialised: the flags and the id this verb would take arrive on stdin, NUL-separated, and the engine
            // closes it; an EOF with nothing (the engine no longer needs us, or died) is a quiet exit. While it waits,
            // it reads the cgroup layout and keeps the first v1 join of the create free of a grace period.
            cgroupHost = Cgroups.CgroupHost.Current();
            Cgroups.CgroupMigrationPrimer.KeepWarmUntilReadable(cgroupHost, 0, StandbyKeepWarmMs);
            if (ReadStandbyRequest() is not { } request)
            {
                return 0;
            }

            cmd = CommandLine.Parse(request, 0, Flags, stopAtPositional: false).Parsed;
            if (cmd.Flag("standby"))
            {
                throw new RuntimeException(ErrorKind.InvalidArgument, "shim: a standby request cannot ask for --standby");
            }
        }

        var id = Context.RequireId(cmd, "shim");
        string Required(string name) => cmd.Value(name) ?? throw new RuntimeException(ErrorKind.InvalidArgument, $"shim: --{name} is required");
        var options = new ShimOptions
        {
            Id = id,
            Bundle = Path.GetFullPath(Required("bundle")),
            LogPath = Path.GetFullPath(Required("log-path")),
            ExitFile = Path.GetFullPath(Required("exit-file")),
            ControlSocket = Path.GetFullPath(Required("control-socket")),
            LogMaxSize = cmd.Value("log-max-size") is { } size ? long.Parse(size, System.Globalization.CultureInfo.InvariantCulture) : 10 << 20,
            LogMaxFiles = cmd.Int("log-max-files", 3),
            PidFile = cmd.Value("pid-file"),
            Stdin = cmd.Flag("stdin"),
            CgroupHost = cgroupHost,
        };

        // The ready line goes to the engine on our original stdout; fds 0-2 become the container's.
        var ready = Sys.DupCloexec(1, 3);
        Sys.CloexecFrom(3);
        return new ContainerShim(context.Store, options).Run(ready);
    }

    /// <summary>The standby request on stdin, read to EOF; null when stdin closed without one.</summary>
    private static List<string>? ReadStandbyRequest()
    {
        var buffer = new byte[MaxStandbyRequest + 1];
        var length = 0;
        int n;
        while ((n = Sys.Read(0, buffer.AsSpan(length))) > 0)
        {
            length += n;
            if (length > MaxStandbyRequest)
            {
                throw new RuntimeException(ErrorKind.InvalidArgument, $"shim: standby request over {MaxStandbyRequest} bytes");
            }
        }

        if (length == 0)
        {
            return null;
        }

        var text = Encoding.UTF8.GetString(buffer, 0, length);
        return [.. text.TrimEnd('\0').Split('\0')];
    }
}
