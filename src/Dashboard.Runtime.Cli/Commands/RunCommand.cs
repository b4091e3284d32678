using Dashboard.Linux.Native;

namespace Dashboard.Runtime.Cli.Commands;

/// <summary><c>run</c> = create + start (+ wait for the exit status unless detached).</summary>
public static class RunCommand
{
    public static FlagSet Flags => CreateCommand.Flags.Bool("detach", "d").Bool("keep");

    public static int Run(Context context, CommandLine cmd)
    {
        var id = Context.RequireId(cmd, "run");
        var options = CreateCommand.Options(context, cmd, id);
        Sys.CloexecFrom(3 + options.PreserveFds);
        var (container, pidfd) = Container.Create(context.Store, options);
        try
        {
            try
            {
                container.StartCreated(pidfd, context.Log.Warn);
            }
            catch
            {
                container.Delete(force: true);
                throw;
            }

            if (cmd.Flag("detach"))
            {
                return 0;
            }

            PhaseTimer.Mark("run: started");
            var status = Sys.WaitPidfd(pidfd);
            PhaseTimer.Mark("run: container exited");
            if (!cmd.Flag("keep"))
            {
                container.DeleteAfterInitReaped(context.Log.Warn);
                PhaseTimer.Mark("run: deleted");
            }

            return status;
        }
        finally
        {
            Sys.Close(pidfd);
        }
    }
}
