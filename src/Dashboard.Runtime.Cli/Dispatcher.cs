using Dashboard.Runtime.Cli.Commands;

namespace Dashboard.Runtime.Cli;

/// <summary>Parses the global flags, picks the verb and maps every error once to a log line and exit code 1.</summary>
public static class Dispatcher
{
    private static readonly FlagSet s_global = new FlagSet()
        .Value("root").Value("log").Value("log-format").Bool("debug").Bool("systemd-cgroup").Value("criu").Value("rootless")
        .Bool("help", "h").Bool("version", "v");

    private static readonly Dictionary<string, (FlagSet Flags, Func<Context, CommandLine, int> Run)> s_verbs = new(StringComparer.Ordinal)
    {
        ["create"] = (CreateCommand.Flags, CreateCommand.Run),
        ["start"] = (new FlagSet(), StartCommand.Run),
        ["run"] = (RunCommand.Flags, RunCommand.Run),
        ["state"] = (new FlagSet(), StateCommand.Run),
        ["kill"] = (new FlagSet().Bool("all", "a"), KillCommand.Run),
        ["delete"] = (new FlagSet().Bool("force", "f"), DeleteCommand.Run),
        ["list"] = (new FlagSet().Value("format", "f").Bool("quiet", "q"), ListCommand.Run),
        ["exec"] = (ExecCommand.Flags, ExecCommand.Run),
        ["pause"] = (new FlagSet(), PauseCommand.Run),
        ["resume"] = (new FlagSet(), ResumeCommand.Run),
        ["ps"] = (new FlagSet { StopAfterPositionals = 1 }.Value("format", "f"), PsCommand.Run),
        ["update"] = (UpdateCommand.Flags, UpdateCommand.Run),
        ["events"] = (new FlagSet().Value("interval").Bool("stats"), EventsCommand.Run),
        ["features"] = (new FlagSet(), FeaturesCommand.Run),
        ["spec"] = (new FlagSet().Value("bundle", "b").Bool("rootless"), SpecCommand.Run),
        ["shim"] = (ShimCommand.Flags, ShimCommand.Run),
    };

    public static int Run(string[] args)
    {
        Log log = new(null, "text", false);
        try
        {
            var (global, next) = CommandLine.Parse(args, 0, s_global, stopAtPositional: true);
            log = new Log(global.Value("log"), global.Value("log-format") ?? "text", global.Flag("debug"));
            if (global.Flag("version"))
            {
                Console.WriteLine($"dashboard-runtime version 0.1.0\nspec: {Oci.Runtime.RuntimeJson.SpecVersion}");
                return 0;
            }

            if (next >= args.Length || global.Flag("help"))
            {
                Console.WriteLine("usage: dashboard-runtime [--root DIR] [--log FILE] [--log-format text|json] [--debug] <command> [flags] [args]\n\ncommands: " + string.Join(' ', s_verbs.Keys));
                return next >= args.Length && !global.Flag("help") ? 1 : 0;
            }

            var verb = args[next];
            if (!s_verbs.TryGetValue(verb, out var command))
            {
                throw new RuntimeException(ErrorKind.InvalidArgument, $"no such command: {verb}");
            }

            var (parsed, _) = CommandLine.Parse(args, next + 1, command.Flags, stopAtPositional: false);
            var context = new Context(new StateStore(global.Value("root") ?? StateStore.DefaultRoot), log);
            return command.Run(context, parsed);
        }
        catch (RuntimeException e)
        {
            log.Error(e.Message);
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or Linux.SyscallException)
        {
            log.Error(e.Message);
            return 1;
        }
    }
}

public sealed class Context(StateStore store, Log log)
{
    public StateStore Store { get; } = store;

    public Log Log { get; } = log;

    public static string RequireId(CommandLine cmd, string verb)
    {
        if (cmd.Positionals.Count < 1)
        {
            throw new RuntimeException(ErrorKind.InvalidArgument, $"\"{verb}\" requires a container id");
        }

        return cmd.Positionals[0];
    }
}
