namespace Dashboard.Runtime.Cli.Commands;

public static class CreateCommand
{
    public static FlagSet Flags => new FlagSet()
        .Value("bundle", "b").Value("console-socket").Value("pid-file").Value("pidfd-socket").Value("preserve-fds")
        .Bool("no-pivot").Bool("no-new-keyring");

    public static CreateOptions Options(Context context, CommandLine cmd, string id) => new()
    {
        Id = id,
        Bundle = cmd.Value("bundle") ?? Directory.GetCurrentDirectory(),
        PidFile = cmd.Value("pid-file"),
        ConsoleSocket = cmd.Value("console-socket"),
        PreserveFds = cmd.Int("preserve-fds", 0),
        NoPivot = cmd.Flag("no-pivot"),
        NoNewKeyring = cmd.Flag("no-new-keyring"),
        Warn = context.Log.Warn,
    };

    public static int Run(Context context, CommandLine cmd)
    {
        var id = Context.RequireId(cmd, "create");
        var options = Options(context, cmd, id);
        // Fds the caller leaked to us beyond the preserved ones must not reach the container (CVE-2024-21626).
        Linux.Native.Sys.CloexecFrom(3 + options.PreserveFds);
        var (_, pidfd) = Container.Create(context.Store, options);
        Linux.Native.Sys.Close(pidfd);
        return 0;
    }
}
