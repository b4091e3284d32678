using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Cli.Commands;

public static class StateCommand
{
    public static int Run(Context context, CommandLine cmd)
    {
        Console.WriteLine(RuntimeJson.Serialize(Container.Load(context.Store, Context.RequireId(cmd, "state")).ToState()));
        return 0;
    }
}
