namespace Dashboard.Runtime.Cli.Commands;

public static class StartCommand
{
    public static int Run(Context context, CommandLine cmd)
    {
        Container.Load(context.Store, Context.RequireId(cmd, "start")).Start(context.Log.Warn);
        return 0;
    }
}
