namespace Dashboard.Runtime.Cli.Commands;

public static class PauseCommand
{
    public static int Run(Context context, CommandLine cmd)
    {
        Container.Load(context.Store, Context.RequireId(cmd, "pause")).Pause();
        return 0;
    }
}

public static class ResumeCommand
{
    public static int Run(Context context, CommandLine cmd)
    {
        Container.Load(context.Store, Context.RequireId(cmd, "resume")).Resume();
        return 0;
    }
}
