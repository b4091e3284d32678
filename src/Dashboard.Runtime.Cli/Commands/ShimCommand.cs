using Dashboard.Linux.Native;
using Dashboard.Runtime.Shim;

namespace Dashboard.Runtime.Cli.Commands;

/// <summary>Hidden verb: the per-container supervisor the engine starts (see <see cref="ContainerShim"/>).</summary>
public static class ShimCommand
{
    public static FlagSet Flags => new FlagSet()
        .Value("bundle", "b").Value("log-path").Value("exit-file").Value("control-socket").Value("log-max-size")
        .Value("log-max-files").Value("pid-file").Bool("stdin");

    public static int Run(Context context, CommandLine cmd)
    {
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
        };

        // The ready line goes to the engine on our original stdout; fds 0-2 become the container's.
        var ready = Sys.DupCloexec(1, 3);
        Sys.CloexecFrom(3);
        return new ContainerShim(context.Store, options).Run(ready);
    }
}
