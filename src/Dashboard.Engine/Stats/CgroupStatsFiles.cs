using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Dashboard.Engine.Stats;

/// <summary>One reading of a container's cgroup and network counters.</summary>
public sealed record RawSample
{
    public DateTimeOffset Time { get; init; }
    public ulong CpuTotalNanos { get; init; }
    public ulong CpuUserNanos { get; init; }
    public ulong CpuKernelNanos { get; init; }
    public IReadOnlyList<ulong>? PerCpuNanos { get; init; }
    public ulong ThrottlePeriods { get; init; }
    public ulong ThrottledPeriods { get; init; }
    public ulong ThrottledNanos { get; init; }

    /// <summary>Host CPU time in nanoseconds (all CPUs, /proc/stat), Docker's system_cpu_usage.</summary>
    public ulong SystemNanos { get; init; }
    public int OnlineCpus { get; init; }
    public ulong MemoryUsage { get; init; }
    public ulong MemoryLimit { get; init; }
    public ulong MemoryMaxUsage { get; init; }
    public ulong MemoryFailcnt { get; init; }
    public ulong MemoryCache { get; init; }
    public ulong OomKills { get; init; }
    public IReadOnlyDictionary<string, ulong> MemoryStat { get; init; } = new Dictionary<string, ulong>();
    public ulong Pids { get; init; }
    public ulong PidsLimit { get; init; }
    public ulong BlockRead { get; init; }
    public ulong BlockWrite { get; init; }
    public IReadOnlyList<BlockEntry> Block { get; init; } = [];
    public IReadOnlyList<NetInterface> Networks { get; init; } = [];

    public ulong NetRx => Networks.Aggregate(0UL, (a, n) => a + n.RxBytes);
    public ulong NetTx => Networks.Aggregate(0UL, (a, n) => a + n.TxBytes);
}

public sealed record BlockEntry(ulong Major, ulong Minor, string Op, ulong Value);

public sealed record NetInterface(string Name, ulong RxBytes, ulong RxPackets, ulong RxErrors, ulong RxDropped, ulong TxBytes, ulong TxPackets, ulong TxErrors, ulong TxDropped);

/// <summary>
/// Reads the control files of one container cgroup, v1 (one hierarchy per controller) or v2
/// (unified), plus <c>/proc/PID/net/dev</c> from the container's network namespace. Dashboard.Runtime's
/// stats reader is internal to that assembly, so the engine reads the few files it needs itself.
/// Every root is injected so tests run against a fake tree.
/// </summary>
public sealed class CgroupStatsFiles(string cgroupRoot = "/sys/fs/cgroup", string procRoot = "/proc") : IDisposable
{
    /// <summary>USER_HZ: /proc/stat and cpuacct.stat count 1/100 s on every Linux ABI.</summary>
    private const ulong NanosPerTick = 10_000_000;

    private readonly Lock _lock = new();

    // The control files of each sampled container stay open and are re-read with pread at offset 0 (cgroup and
    // /proc/PID/net/dev are seq_files: a read at 0 regenerates them), so a round costs one syscall per file instead
    // of open/fstat/read/close. Keyed by cgroup path and pid: a restarted container (new pid) gets fresh handles.
    private readonly Dictionary<string, Dictionary<string, SafeFileHandle?>> _handles = new(StringComparer.Ordinal);
    private Dictionary<string, SafeFileHandle?>? _current;
    private SafeFileHandle? _procStatHandle;
    private byte[] _buffer = new byte[16 * 1024];
    private bool? _isV2;

    private DateTimeOffset _procStatTime = DateTimeOffset.MinValue;
    private (ulong SystemNanos, int Cpus) _procStat;

    public bool IsV2 => File.Exists(Path.Combine(cgroupRoot, "cgroup.controllers"));

    /// <summary>Reads the cgroup at <paramref name="cgroupPath"/> (the spec's cgroupsPath) and the netns of <paramref name="pid"/> (0: no network).</summary>
    public RawSample Read(string cgroupPath, int pid, DateTimeOffset now)
    {
        lock (_lock)
        {
            var rel = cgroupPath.TrimStart('/');
            var key = HandleKey(cgroupPath, pid);
            if (!_handles.TryGetValue(key, out _current))
            {
                _current = new Dictionary<string, SafeFileHandle?>(StringComparer.Ordinal);
                _handles[key] = _current;
            }

            // One /proc/stat read per sampling round, however many containers it covers.
            if (_procStatTime != now)
            {
                _procStat = ReadProcStat();
                _procStatTime = now;
            }

            var (system, cpus) = _procStat;
            _isV2 ??= IsV2;
            var sample = _isV2.Value ? ReadV2(Path.Combine(cgroupRoot, rel)) : ReadV1(rel);
            return sample with
            {
                Time = now,
                SystemNanos = system,
                OnlineCpus = sample.PerCpuNanos is { Count: > 0 } per ? per.Count : cpus,
                Networks = pid > 0 ? ReadNetDev(Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture), "net", "dev")) : [],
            };
        }
    }

    /// <summary>Closes the files of every container not in <paramref name="active"/> (cgroup path and pid, as passed to <see cref="Read"/>).</summary>
    public void Retain(IEnumerable<(string CgroupPath, int Pid)> active)
    {
        lock (_lock)
        {
            var keep = active.Select(a => HandleKey(a.CgroupPath, a.Pid)).ToHashSet(StringComparer.Ordinal);
            foreach (var key in _handles.Keys.Where(k => !keep.Contains(k)).ToList())
            {
                Close(_handles[key]);
                _handles.Remove(key);
            }
        }
    }

    public int OpenContainerCount
    {
        get
        {
            lock (_lock)
            {
                return _handles.Count;
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var files in _handles.Values)
            {
                Close(files);
            }

            _handles.Clear();
            _procStatHandle?.Dispose();
            _procStatHandle = null;
        }
    }

    private static string HandleKey(string cgroupPath, int pid) => cgroupPath + "\0" + pid.ToString(CultureInfo.InvariantCulture);

    private static void Close(Dictionary<string, SafeFileHandle?> files)
    {
        foreach (var handle in files.Values)
        {
            handle?.Dispose();
        }
    }

    private RawSample ReadV1(string rel)
    {
        string Dir(string controller) => Path.Combine(cgroupRoot, controller, rel);
        var cpuStat = KeyValues(Read(Path.Combine(Dir("cpu"), "cpu.stat")));
        var cpuacct = KeyValues(Read(Path.Combine(Dir("cpuacct"), "cpuacct.stat")));
        var memory = Dir("memory");
        var memoryStat = KeyValues(Read(Path.Combine(memory, "memory.stat")));
        var oom = KeyValues(Read(Path.Combine(memory, "memory.oom_control")));
        var (block, read, write) = ParseBlkioV1(Read(Path.Combine(Dir("blkio"), "blkio.throttle.io_service_bytes_recursive"))
            ?? Read(Path.Combine(Dir("blkio"), "blkio.throttle.io_service_bytes")));
        return new RawSample
        {
            CpuTotalNanos = Number(Read(Path.Combine(Dir("cpuacct"), "cpuacct.usage"))),
            CpuUserNanos = Get(cpuacct, "user") * NanosPerTick,
            CpuKernelNanos = Get(cpuacct, "system") * NanosPerTick,
            PerCpuNanos = Numbers(Read(Path.Combine(Dir("cpuacct"), "cpuacct.usage_percpu"))),
            ThrottlePeriods = Get(cpuStat, "nr_periods"),
            ThrottledPeriods = Get(cpuStat, "nr_throttled"),
            ThrottledNanos = Get(cpuStat, "throttled_time"),
            MemoryUsage = Number(Read(Path.Combine(memory, "memory.usage_in_bytes"))),
            MemoryLimit = Number(Read(Path.Combine(memory, "memory.limit_in_bytes"))),
            MemoryMaxUsage = Number(Read(Path.Combine(memory, "memory.max_usage_in_bytes"))),
            MemoryFailcnt = Number(Read(Path.Combine(memory, "memory.failcnt"))),
            MemoryCache = Get(memoryStat, "total_cache") is > 0 and var tc ? tc : Get(memoryStat, "cache"),
            MemoryStat = memoryStat,
            OomKills = Get(oom, "oom_kill"),
            Pids = Number(Read(Path.Combine(Dir("pids"), "pids.current"))),
            PidsLimit = Number(Read(Path.Combine(Dir("pids"), "pids.max"))),
            Block = block,
            BlockRead = read,
            BlockWrite = write,
        };
    }

    private RawSample ReadV2(string dir)
    {
        var cpuStat = KeyValues(Read(Path.Combine(dir, "cpu.stat")));
        var memoryStat = KeyValues(Read(Path.Combine(dir, "memory.stat")));
        var events = KeyValues(Read(Path.Combine(dir, "memory.events")));
        var (block, read, write) = ParseIoStat(Read(Path.Combine(dir, "io.stat")));
        return new RawSample
        {
            CpuTotalNanos = Get(cpuStat, "usage_usec") * 1000,
            CpuUserNanos = Get(cpuStat, "user_usec") * 1000,
            CpuKernelNanos = Get(cpuStat, "system_usec") * 1000,
            ThrottlePeriods = Get(cpuStat, "nr_periods"),
            ThrottledPeriods = Get(cpuStat, "nr_throttled"),
            ThrottledNanos = Get(cpuStat, "throttled_usec") * 1000,
            MemoryUsage = Number(Read(Path.Combine(dir, "memory.current"))),
            MemoryLimit = Number(Read(Path.Combine(dir, "memory.max"))),
            MemoryMaxUsage = Number(Read(Path.Combine(dir, "memory.peak"))),
            MemoryFailcnt = Get(events, "max"),
            MemoryCache = Get(memoryStat, "file"),
            MemoryStat = memoryStat,
            OomKills = Get(events, "oom_kill"),
            Pids = Number(Read(Path.Combine(dir, "pids.current"))),
            PidsLimit = Number(Read(Path.Combine(dir, "pids.max"))),
            Block = block,
            BlockRead = read,
            BlockWrite = write,
        };
    }

    /// <summary>Host CPU time from the first line of /proc/stat (user … steal, in ticks) and the number of CPUs.</summary>
    public (ulong SystemNanos, int Cpus) ReadProcStat()
    {
        string? text;
        lock (_lock)
        {
            text = ReadKept(ref _procStatHandle, Path.Combine(procRoot, "stat"));
        }

        if (text is null)
        {
            return (0, Environment.ProcessorCount);
        }

        ulong total = 0;
        var cpus = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("cpu ", StringComparison.Ordinal))
            {
                foreach (var field in line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8))
                {
                    total += ulong.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
                }
            }
            else if (line.StartsWith("cpu", StringComparison.Ordinal))
            {
                cpus++;
            }
        }

        return (total * NanosPerTick, cpus > 0 ? cpus : Environment.ProcessorCount);
    }

    /// <summary>/proc/PID/net/dev: two header lines, then "iface: rx_bytes rx_packets errs drop fifo frame compressed multicast tx_bytes tx_packets errs drop …". Loopback is left out, as Docker does.</summary>
    public static IReadOnlyList<NetInterface> ParseNetDev(string text)
    {
        var result = new List<NetInterface>();
        foreach (var line in text.Split('\n').Skip(2))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            var name = line[..colon].Trim();
            var f = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(x => ulong.TryParse(x, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0).ToArray();
            if (name == "lo" || f.Length < 12)
            {
                continue;
            }

            result.Add(new NetInterface(name, f[0], f[1], f[2], f[3], f[8], f[9], f[10], f[11]));
        }

        return result;
    }

    private IReadOnlyList<NetInterface> ReadNetDev(string path) => Read(path) is { } text ? ParseNetDev(text) : [];

    /// <summary>v1 blkio lines "MAJ:MIN Op value" (Read, Write, Sync, Async, Discard, Total) and a final "Total N".</summary>
    public static (IReadOnlyList<BlockEntry> Entries, ulong Read, ulong Write) ParseBlkioV1(string? text)
    {
        var entries = new List<BlockEntry>();
        ulong read = 0, write = 0;
        foreach (var line in (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 3 || parts[0].Split(':') is not [var maj, var min])
            {
                continue;
            }

            var value = ulong.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
            entries.Add(new BlockEntry(ParseU(maj), ParseU(min), parts[1].ToLowerInvariant(), value));
            if (parts[1] == "Read")
            {
                read += value;
            }
            else if (parts[1] == "Write")
            {
                write += value;
            }
        }

        return (entries, read, write);
    }

    /// <summary>v2 io.stat lines "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N".</summary>
    public static (IReadOnlyList<BlockEntry> Entries, ulong Read, ulong Write) ParseIoStat(string? text)
    {
        var entries = new List<BlockEntry>();
        ulong read = 0, write = 0;
        foreach (var line in (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2 || parts[0].Split(':') is not [var maj, var min])
            {
                continue;
            }

            foreach (var kv in parts.Skip(1))
            {
                var eq = kv.IndexOf('=', StringComparison.Ordinal);
                if (eq < 0)
                {
                    continue;
                }

                var value = ParseU(kv[(eq + 1)..]);
                switch (kv[..eq])
                {
                    case "rbytes":
                        entries.Add(new BlockEntry(ParseU(maj), ParseU(min), "read", value));
                        read += value;
                        break;
                    case "wbytes":
                        entries.Add(new BlockEntry(ParseU(maj), ParseU(min), "write", value));
                        write += value;
                        break;
                }
            }
        }

        return (entries, read, write);
    }

    private static ulong ParseU(string s) => ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;

    /// <summary>A control file of the container being read: through its kept handle; null when the file does not exist.</summary>
    private string? Read(string path)
    {
        if (_current is null)
        {
            return ReadOnce(path);
        }

        if (_current.TryGetValue(path, out var handle) && handle is null)
        {
            return null;
        }

        var text = ReadKept(ref handle, path);
        _current[path] = handle;
        return text;
    }

    /// <summary>pread at 0 on <paramref name="handle"/>, opening it first when null; a failed read closes it and tries one fresh open.</summary>
    private string? ReadKept(ref SafeFileHandle? handle, string path)
    {
        for (var attempt = 0; attempt < 2; attempt++)
        {
            if (handle is null)
            {
                try
                {
                    handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return null;
                }
            }

            try
            {
                var length = 0;
                while (true)
                {
                    var n = RandomAccess.Read(handle, _buffer.AsSpan(length), length);
                    if (n == 0)
                    {
                        break;
                    }

                    length += n;
                    if (length == _buffer.Length)
                    {
                        Array.Resize(ref _buffer, _buffer.Length * 2);
                    }
                }

                return System.Text.Encoding.ASCII.GetString(_buffer, 0, length);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The cgroup or process went away under the handle (ENODEV, ESRCH): reopen by path once.
                handle.Dispose();
                handle = null;
            }
        }

        return null;
    }

    private static string? ReadOnce(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>A control file's number; "max" (v2 unlimited) is <see cref="ulong.MaxValue"/>, absent is 0.</summary>
    private static ulong Number(string? text)
    {
        var t = text?.Trim();
        return t == "max" ? ulong.MaxValue : ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
    }

    private static List<ulong>? Numbers(string? text) =>
        text is null ? null : text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Number).ToList();

    public static Dictionary<string, ulong> KeyValues(string? text)
    {
        var result = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var line in (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var v))
            {
                result[parts[0]] = v;
            }
        }

        return result;
    }

    private static ulong Get(Dictionary<string, ulong> kv, string key) => kv.TryGetValue(key, out var v) ? v : 0;
}
