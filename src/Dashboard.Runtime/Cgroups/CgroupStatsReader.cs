using System.Globalization;

namespace Dashboard.Runtime.Cgroups;

/// <summary>Reads usage counters from v1 and v2 control files into <see cref="CgroupStats"/>; absent files leave zeros.</summary>
internal static class CgroupStatsReader
{
    /// <summary>cpuacct.stat counts USER_HZ ticks; USER_HZ is 100 on every Linux ABI.</summary>
    private const ulong NanosecondsPerTick = 10_000_000;

    public static CgroupStats ReadV1(CgroupFs fs, IReadOnlyDictionary<string, string> paths)
    {
        var stats = new CgroupStats();
        if (paths.TryGetValue("cpuacct", out var cpuacct))
        {
            var usage = stats.Cpu.Usage;
            usage.Total = fs.TryReadUInt64(cpuacct + "/cpuacct.usage") ?? 0;
            var percpu = fs.TryRead(cpuacct + "/cpuacct.usage_percpu");
            usage.PerCpu = percpu is null ? null : NullIfEmpty(ParseNumberList(percpu));
            if (fs.TryRead(cpuacct + "/cpuacct.usage_all") is { } all)
            {
                var (user, kernel) = ParseCpuacctUsageAll(all);
                usage.PerCpuUser = NullIfEmpty(user);
                usage.PerCpuKernel = NullIfEmpty(kernel);
            }

            if (fs.TryRead(cpuacct + "/cpuacct.stat") is { } cpuacctStat)
            {
                var kv = ParseKeyValues(cpuacctStat);
                usage.User = Get(kv, "user") * NanosecondsPerTick;
                usage.Kernel = Get(kv, "system") * NanosecondsPerTick;
            }
        }

        if (paths.TryGetValue("cpu", out var cpu) && fs.TryRead(cpu + "/cpu.stat") is { } cpuStat)
        {
            var kv = ParseKeyValues(cpuStat);
            stats.Cpu.Throttling.Periods = Get(kv, "nr_periods");
            stats.Cpu.Throttling.ThrottledPeriods = Get(kv, "nr_throttled");
            stats.Cpu.Throttling.ThrottledTime = Get(kv, "throttled_time");
        }

        if (paths.TryGetValue("memory", out var memory))
        {
            if (fs.TryRead(memory + "/memory.stat") is { } memoryStat)
            {
                stats.Memory.Raw = ParseKeyValues(memoryStat);
                stats.Memory.Cache = Get(stats.Memory.Raw, "cache");
            }

            stats.Memory.Usage = ReadV1MemoryEntry(fs, memory + "/memory.");
            stats.Memory.Swap = ReadV1MemoryEntry(fs, memory + "/memory.memsw.");
            stats.Memory.Kernel = ReadV1MemoryEntry(fs, memory + "/memory.kmem.");
            stats.Memory.KernelTcp = ReadV1MemoryEntry(fs, memory + "/memory.kmem.tcp.");
        }

        if (paths.TryGetValue("pids", out var pids))
        {
            ReadPids(fs, pids, stats.Pids);
        }

        if (paths.TryGetValue("blkio", out var blkio))
        {
            ReadV1Blkio(fs, blkio, stats.Blkio);
        }

        if (paths.TryGetValue("hugetlb", out var hugetlb))
        {
            foreach (var size in PageSizes(fs, hugetlb, ".usage_in_bytes"))
            {
                var prefix = $"{hugetlb}/hugetlb.{size}.";
                stats.Hugetlb[size] = new HugetlbStats
                {
                    Usage = fs.TryReadUInt64(prefix + "usage_in_bytes") ?? 0,
                    Max = fs.TryReadUInt64(prefix + "max_usage_in_bytes") ?? 0,
                    Failcnt = fs.TryReadUInt64(prefix + "failcnt") ?? 0,
                };
            }
        }

        return stats;
    }

    public static CgroupStats ReadV2(CgroupFs fs, string dir)
    {
        var stats = new CgroupStats();
        if (fs.TryRead(dir + "/cpu.stat") is { } cpuStat)
        {
            var kv = ParseKeyValues(cpuStat);
            stats.Cpu.Usage.Total = Get(kv, "usage_usec") * 1000;
            stats.Cpu.Usage.User = Get(kv, "user_usec") * 1000;
            stats.Cpu.Usage.Kernel = Get(kv, "system_usec") * 1000;
            stats.Cpu.Throttling.Periods = Get(kv, "nr_periods");
            stats.Cpu.Throttling.ThrottledPeriods = Get(kv, "nr_throttled");
            stats.Cpu.Throttling.ThrottledTime = Get(kv, "throttled_usec") * 1000;
        }

        if (fs.TryRead(dir + "/memory.stat") is { } memoryStat)
        {
            stats.Memory.Raw = ParseKeyValues(memoryStat);
            stats.Memory.Cache = Get(stats.Memory.Raw, "file");
        }

        var usage = ReadV2MemoryEntry(fs, dir + "/memory.");
        stats.Memory.Usage = usage;

        // v1 reports swap as memory+swap; report the same sum so consumers need not know the layout (runc does so too).
        var swap = ReadV2MemoryEntry(fs, dir + "/memory.swap.");
        swap.Usage += usage.Usage;
        swap.Max = 0;
        if (swap.Limit != ulong.MaxValue)
        {
            swap.Limit = usage.Limit == ulong.MaxValue ? ulong.MaxValue : swap.Limit + usage.Limit;
        }

        stats.Memory.Swap = swap;
        ReadPids(fs, dir, stats.Pids);
        if (fs.TryRead(dir + "/io.stat") is { } ioStat)
        {
            var (bytes, ios) = ParseIoStat(ioStat);
            stats.Blkio.IoServiceBytesRecursive = NullIfEmpty(bytes);
            stats.Blkio.IoServicedRecursive = NullIfEmpty(ios);
        }

        foreach (var size in PageSizes(fs, dir, ".current"))
        {
            var prefix = $"{dir}/hugetlb.{size}.";
            stats.Hugetlb[size] = new HugetlbStats
            {
                Usage = fs.TryReadUInt64(prefix + "current") ?? 0,
                Failcnt = fs.TryRead(prefix + "events") is { } events ? Get(ParseKeyValues(events), "max") : 0,
            };
        }

        return stats;
    }

    /// <summary>"key value" lines (memory.stat, cpu.stat, memory.events, cpuacct.stat).</summary>
    public static Dictionary<string, ulong> ParseKeyValues(string text)
    {
        var result = new Dictionary<string, ulong>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                result[parts[0]] = value;
            }
        }

        return result;
    }

    public static List<ulong> ParseNumberList(string text) =>
        [.. text.Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(s => ulong.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture))];

    /// <summary>cpuacct.usage_all: a "cpu user system" header, then one "N user system" line per CPU (ns).</summary>
    public static (List<ulong> User, List<ulong> Kernel) ParseCpuacctUsageAll(string text)
    {
        var user = new List<ulong>();
        var kernel = new List<ulong>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 3)
            {
                user.Add(ulong.Parse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture));
                kernel.Add(ulong.Parse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture));
            }
        }

        return (user, kernel);
    }

    /// <summary>v1 blkio lines "8:0 Read 4096"; the trailing "Total N" line is dropped.</summary>
    public static List<BlkioEntry> ParseBlkioV1(string text)
    {
        var result = new List<BlkioEntry>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2 || !TryParseDevice(parts[0], out var major, out var minor))
            {
                continue;
            }

            var entry = parts.Length == 3
                ? new BlkioEntry { Major = major, Minor = minor, Op = parts[1], Value = ulong.Parse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture) }
                : new BlkioEntry { Major = major, Minor = minor, Value = ulong.Parse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture) };
            result.Add(entry);
        }

        return result;
    }

    /// <summary>v2 io.stat lines "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" → bytes and operations per op.</summary>
    public static (List<BlkioEntry> Bytes, List<BlkioEntry> Ios) ParseIoStat(string text)
    {
        var bytes = new List<BlkioEntry>();
        var ios = new List<BlkioEntry>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2 || !TryParseDevice(parts[0], out var major, out var minor))
            {
                continue;
            }

            foreach (var item in parts.Skip(1))
            {
                var eq = item.IndexOf('=', StringComparison.Ordinal);
                if (eq < 0 || !ulong.TryParse(item.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                {
                    continue;
                }

                var (list, op) = item[..eq] switch
                {
                    "rbytes" => (bytes, "Read"),
                    "wbytes" => (bytes, "Write"),
                    "dbytes" => (bytes, "Discard"),
                    "rios" => (ios, "Read"),
                    "wios" => (ios, "Write"),
                    "dios" => (ios, "Discard"),
                    _ => (null, ""),
                };
                list?.Add(new BlkioEntry { Major = major, Minor = minor, Op = op, Value = value });
            }
        }

        return (bytes, ios);
    }

    private static void ReadPids(CgroupFs fs, string dir, PidsStats pids)
    {
        pids.Current = fs.TryReadUInt64(dir + "/pids.current") ?? 0;
        var limit = fs.TryReadUInt64(dir + "/pids.max") ?? 0;
        pids.Limit = limit == ulong.MaxValue ? 0 : limit;
    }

    private static MemoryEntry ReadV1MemoryEntry(CgroupFs fs, string prefix) => new()
    {
        Usage = fs.TryReadUInt64(prefix + "usage_in_bytes") ?? 0,
        Max = fs.TryReadUInt64(prefix + "max_usage_in_bytes") ?? 0,
        Failcnt = fs.TryReadUInt64(prefix + "failcnt") ?? 0,
        Limit = fs.TryReadUInt64(prefix + "limit_in_bytes") ?? 0,
    };

    private static MemoryEntry ReadV2MemoryEntry(CgroupFs fs, string prefix) => new()
    {
        Usage = fs.TryReadUInt64(prefix + "current") ?? 0,
        Max = fs.TryReadUInt64(prefix + "peak") ?? 0,
        Limit = fs.TryReadUInt64(prefix + "max") ?? 0,
        Failcnt = fs.TryRead(prefix + "events") is { } events ? Get(ParseKeyValues(events), "max") : 0,
    };

    private static void ReadV1Blkio(CgroupFs fs, string dir, BlkioStats blkio)
    {
        // CFQ files when that scheduler is in use, else BFQ's, else the throttle layer's (always present).
        var cfq = fs.TryRead(dir + "/blkio.io_serviced_recursive");
        if (!string.IsNullOrWhiteSpace(cfq))
        {
            blkio.IoServiceBytesRecursive = Entries(fs, dir + "/blkio.io_service_bytes_recursive");
            blkio.IoServicedRecursive = Entries(fs, dir + "/blkio.io_serviced_recursive");
            blkio.IoQueuedRecursive = Entries(fs, dir + "/blkio.io_queued_recursive");
            blkio.IoServiceTimeRecursive = Entries(fs, dir + "/blkio.io_service_time_recursive");
            blkio.IoWaitTimeRecursive = Entries(fs, dir + "/blkio.io_wait_time_recursive");
            blkio.IoMergedRecursive = Entries(fs, dir + "/blkio.io_merged_recursive");
            blkio.IoTimeRecursive = Entries(fs, dir + "/blkio.time_recursive");
            blkio.SectorsRecursive = Entries(fs, dir + "/blkio.sectors_recursive");
            return;
        }

        var bfq = fs.TryRead(dir + "/blkio.bfq.io_serviced_recursive");
        var prefix = string.IsNullOrWhiteSpace(bfq) ? "/blkio.throttle." : "/blkio.bfq.";
        blkio.IoServiceBytesRecursive = Entries(fs, dir + prefix + "io_service_bytes_recursive");
        blkio.IoServicedRecursive = Entries(fs, dir + prefix + "io_serviced_recursive");
    }

    private static List<BlkioEntry>? Entries(CgroupFs fs, string path) =>
        fs.TryRead(path) is { } text ? NullIfEmpty(ParseBlkioV1(text)) : null;

    /// <summary>Page sizes with a hugetlb.&lt;size&gt;&lt;suffix&gt; file in <paramref name="dir"/> (e.g. "2MB", "1GB").</summary>
    private static IEnumerable<string> PageSizes(CgroupFs fs, string dir, string suffix) =>
        fs.FileNames(dir)
            .Where(n => n.StartsWith("hugetlb.", StringComparison.Ordinal) && n.EndsWith(suffix, StringComparison.Ordinal))
            .Select(n => n["hugetlb.".Length..^suffix.Length])
            .Where(s => !s.Contains('.', StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    private static bool TryParseDevice(string text, out ulong major, out ulong minor)
    {
        minor = 0;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        major = 0;
        return colon > 0
            && ulong.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out major)
            && ulong.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out minor);
    }

    private static ulong Get(Dictionary<string, ulong> kv, string key) => kv.TryGetValue(key, out var v) ? v : 0;

    private static List<T>? NullIfEmpty<T>(List<T> list) => list.Count == 0 ? null : list;
}
