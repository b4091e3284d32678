using Dashboard.Linux.Native;

namespace Dashboard.Runtime.Cli.Commands;

public static class KillCommand
{
    public static int Run(Context context, CommandLine cmd)
    {
        var id = Context.RequireId(cmd, "kill");
        var text = cmd.Positionals.Count > 1 ? cmd.Positionals[1] : "SIGTERM";
        if (!Signals.TryParse(text, out var signal))
        {
            throw new RuntimeException(ErrorKind.InvalidArgument, $"unknown signal \"{text}\"");
        }

        Container.Load(context.Store, id).Kill(signal, cmd.Flag("all"));
        return 0;
    }
}
