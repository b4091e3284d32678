using System.Text;
using Dashboard.Linux.Native;

namespace Dashboard.Runtime.Cli.Commands;

public static class PsCommand
{
    public static int Run(Context context, CommandLine cmd)
    {
        var id = Context.RequireId(cmd, "ps");
        var pids = Container.Load(context.Store, id).Processes();
        var format = cmd.Value("format") ?? "table";
        if (format == "json")
        {
            Console.WriteLine("[" + string.Join(',', pids) + "]");
            return 0;
        }

        if (format != "table")
        {
            throw new RuntimeException(ErrorKind.InvalidArgument, $"invalid format option \"{format}\"");
        }

        var psArgs = cmd.Positionals.Count > 1 ? cmd.Positionals.Skip(1).ToList() : ["-ef"];
        var ps = FindPs();
        var (status, output) = Spawner.Capture(ps, [ps, .. psArgs], ["PATH=/usr/bin:/bin"]);
        if (status != 0)
        {
            throw new RuntimeException(ErrorKind.Internal, $"ps exited with status {status}");
        }

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0)
        {
            return 0;
        }

        var pidColumn = Array.IndexOf(lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries), "PID");
        if (pidColumn < 0)
        {
            throw new RuntimeException(ErrorKind.InvalidArgument, "couldn't find PID field in ps output");
        }

        var wanted = pids.ToHashSet();
        var result = new StringBuilder(lines[0]).Append('\n');
        foreach (var line in lines.Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > pidColumn && int.TryParse(fields[pidColumn], out var pid) && wanted.Contains(pid))
            {
                result.Append(line).Append('\n');
            }
        }

        Console.Write(result.ToString());
        return 0;
    }

    private static string FindPs() =>
        new[] { "/usr/bin/ps", "/bin/ps" }.FirstOrDefault(File.Exists)
        ?? throw new RuntimeException(ErrorKind.NotFound, "ps: executable not found (install procps)");
}
