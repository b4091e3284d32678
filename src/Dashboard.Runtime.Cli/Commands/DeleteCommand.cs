namespace Dashboard.Runtime.Cli.Commands;

public static class DeleteCommand
{
    public static int Run(Context context, CommandLine cmd)
    {
        var id = Context.RequireId(cmd, "delete");
        Container container;
        try
        {
            container = Container.Load(context.Store, id);
        }
        catch (RuntimeException e) when (e.Kind == ErrorKind.NotFound && cmd.Flag("force"))
        {
            // runc: delete --force of a container that does not exist is not an error.
            return 0;
        }

        container.Delete(cmd.Flag("force"), context.Log.Warn);
        return 0;
    }
}
