using System.Globalization;
using System.Text;

namespace Dashboard.Engine.Containers;

/// <summary>Reads host <c>/proc</c> entries into the rows of Docker's <c>top</c> (the columns of <c>ps -ef</c>).</summary>
public static class ProcessTable
{
    public static readonly IReadOnlyList<string> Titles = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];

    public static IReadOnlyList<IReadOnlyList<string>> Rows(IEnumerable<int> pids, string procRoot = "/proc")
    {
        var rows = new List<IReadOnlyList<string>>();
        var ticks = 100.0;
        var bootTime = BootTime(procRoot);
        foreach (var pid in pids.Order())
        {
            var dir = Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture));
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var close = stat.LastIndexOf(')');
                var comm = stat[(stat.IndexOf('(', StringComparison.Ordinal) + 1)..close];
                var fields = stat[(close + 2)..].Split(' ');
                var ppid = fields[1];
                var cpuTicks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                var startTicks = long.Parse(fields[19], CultureInfo.InvariantCulture);
                var uid = File.ReadLines(Path.Combine(dir, "status")).FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?
                    .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1] ?? "?";
                var cmdline = File.ReadAllBytes(Path.Combine(dir, "cmdline"));
                var cmd = cmdline.Length == 0 ? $"[{comm}]" : Encoding.UTF8.GetString(cmdline).TrimEnd('\0').Replace('\0', ' ');
                var started = bootTime.AddSeconds(startTicks / ticks).ToLocalTime();
                var cpu = TimeSpan.FromSeconds(cpuTicks / ticks);
                rows.Add([uid, pid.ToString(CultureInfo.InvariantCulture), ppid, "0", started.ToString("HH:mm", CultureInfo.InvariantCulture), "?",
                    $"{(int)cpu.TotalHours:00}:{cpu.Minutes:00}:{cpu.Seconds:00}", cmd]);
            }
            catch (IOException)
            {
                // The process exited between listing and reading: it is no longer part of the answer.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return rows;
    }

    private static DateTimeOffset BootTime(string procRoot)
    {
        try
        {
            var line = File.ReadLines(Path.Combine(procRoot, "stat")).FirstOrDefault(l => l.StartsWith("btime ", StringComparison.Ordinal));
            if (line is not null && long.TryParse(line[6..], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                return DateTimeOffset.FromUnixTimeSeconds(seconds);
            }
        }
        catch (IOException)
        {
        }

        return DateTimeOffset.UnixEpoch;
    }
}
