namespace Dashboard.Shim;

/// <summary>
/// <c>dashboard-shim</c>: the lean resident half of the per-container supervisor. <c>dashboard-runtime shim</c>
/// creates and starts the container, reports the pid to the engine, then execs this program with the
/// container's fds, so the process (and its pid the engine re-attaches to) stays the same while the
/// resident image shrinks to what supervision needs: poll, log, exit file, control socket.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        ShimArgs parsed;
        try
        {
            parsed = ShimArgs.Parse(args);
        }
        catch (FormatException e)
        {
            _ = Dashboard.Linux.Native.ShimCalls.TryWrite(2, System.Text.Encoding.UTF8.GetBytes("dashboard-shim: " + e.Message + "\n"));
            return 2;
        }

        return new Supervisor(parsed).Run();
    }
}
