using System.Text.Json;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Cgroups;

namespace Dashboard.Runtime.Cli.Commands;

/// <summary><c>events</c>: stats every interval and OOM notifications as JSON lines, until the container stops; <c>--stats</c> prints one sample.</summary>
public static class EventsCommand
{
    public static int Run(Context context, CommandLine cmd)
    {
        var id = Context.RequireId(cmd, "events");
        var container = Container.Load(context.Store, id);
        if (container.Status == ContainerStatus.Stopped)
        {
            throw RuntimeException.InvalidState($"container {id} is not running");
        }

        if (cmd.Flag("stats"))
        {
            Print(CgroupEvent.Stats(id, container.Cgroup.GetStats()));
            return 0;
        }

        var interval = ParseInterval(cmd.Value("interval") ?? "5s");
        using var oom = container.Cgroup.WatchOom();
        var seen = oom.ReadOomKillCount();
        var next = DateTime.UtcNow;
        while (container.Status != ContainerStatus.Stopped)
        {
            if (DateTime.UtcNow >= next)
            {
                Print(CgroupEvent.Stats(id, container.Cgroup.GetStats()));
                next = DateTime.UtcNow + interval;
            }

            var wait = (int)Math.Clamp((next - DateTime.UtcNow).TotalMilliseconds, 0, 1000);
            if ((Sys.PollOne(oom.Fd, Sys.POLLIN, wait) & Sys.POLLIN) != 0)
            {
                oom.Acknowledge();
                var count = oom.ReadOomKillCount();
                if (count > seen)
                {
                    seen = count;
                    Print(CgroupEvent.Oom(id));
                }
            }
        }

        // An OOM kill that ended the container can land between the last poll and the status check;
        // the cgroup's counter still has it (the cgroup lives until delete).
        if (oom.ReadOomKillCount() > seen)
        {
            Print(CgroupEvent.Oom(id));
        }

        return 0;
    }

    private static void Print(CgroupEvent e)
    {
        Console.WriteLine(JsonSerializer.Serialize(e, CgroupJsonContext.Default.CgroupEvent));
        Console.Out.Flush();
    }

    private static TimeSpan ParseInterval(string text)
    {
        var units = new (string Suffix, double Ms)[] { ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000) };
        foreach (var (suffix, ms) in units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal) && double.TryParse(text[..^suffix.Length], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0)
            {
                return TimeSpan.FromMilliseconds(value * ms);
            }
        }

        throw new RuntimeException(ErrorKind.InvalidArgument, $"invalid interval \"{text}\"");
    }
}
