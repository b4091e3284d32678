using System.Globalization;

namespace Dashboard.Web.Model;

public sealed record HostSnapshot(double? CpuPercent, long MemoryTotal, long MemoryAvailable, long DiskTotal, long DiskFree, string DiskPath)
{
    public long MemoryUsed => MemoryTotal - MemoryAvailable;

    public double? MemoryPercent => MemoryTotal > 0 ? 100.0 * MemoryUsed / MemoryTotal : null;

    public long DiskUsed => DiskTotal - DiskFree;

    public double? DiskPercent => DiskTotal > 0 ? 100.0 * DiskUsed / DiskTotal : null;
}

/// <summary>
/// CPU, memory and disk of the host the dashboard runs on, from /proc/stat, /proc/meminfo and statvfs of the data
/// directory. CPU % is over the interval between two reads (the first read has none).
/// </summary>
public sealed class HostMetrics(string procRoot = "/proc")
{
    private (ulong Busy, ulong Total)? _previous;

    public HostSnapshot Read(string diskPath)
    {
        double? cpu = null;
        if (ReadCpu() is { } now)
        {
            if (_previous is { } before && now.Total > before.Total)
            {
                cpu = 100.0 * (now.Busy - before.Busy) / (now.Total - before.Total);
            }

            _previous = now;
        }

        var (total, available) = ReadMemory();
        long diskTotal = 0, diskFree = 0;
        try
        {
            var drive = new DriveInfo(Path.GetFullPath(diskPath));
            diskTotal = drive.TotalSize;
            diskFree = drive.AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
        }

        return new HostSnapshot(cpu, total, available, diskTotal, diskFree, diskPath);
    }

    private (ulong Busy, ulong Total)? ReadCpu()
    {
        try
        {
            var line = File.ReadLines(Path.Combine(procRoot, "stat")).FirstOrDefault(l => l.StartsWith("cpu ", StringComparison.Ordinal));
            if (line is null)
            {
                return null;
            }

            // user nice system idle iowait irq softirq steal: idle and iowait are not busy (proc(5)).
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
                .Select(f => ulong.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            var total = fields.Aggregate(0UL, (a, b) => a + b);
            var idle = fields[3] + (fields.Length > 4 ? fields[4] : 0);
            return (total - idle, total);
        }
        catch (Exception e) when (e is IOException or FormatException or OverflowException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private (long Total, long Available) ReadMemory()
    {
        long total = 0, available = 0;
        try
        {
            foreach (var line in File.ReadLines(Path.Combine(procRoot, "meminfo")))
            {
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                {
                    total = Kib(line);
                }
                else if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                {
                    available = Kib(line);
                }
            }
        }
        catch (IOException)
        {
        }

        return (total, available);
    }

    private static long Kib(string line) =>
        long.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kib) ? kib * 1024 : 0;
}
