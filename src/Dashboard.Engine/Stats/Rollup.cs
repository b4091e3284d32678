using Dashboard.Engine.Store;

namespace Dashboard.Engine.Stats;

/// <summary>
/// Stats history tiers and their arithmetic. A rolled-up point covers
/// [<c>TimeSeconds</c>, <c>TimeSeconds + Resolution</c>): counters (CPU and throttled time, block and
/// network bytes) are what was consumed inside the bucket; gauges (memory, cache, pids) are the
/// average of the 1-second samples; the limit is the last one seen.
/// </summary>
public static class Rollup
{
    /// <summary>10 s kept 24 h, 1 min kept 7 d, 15 min kept 90 d.</summary>
    public static readonly IReadOnlyList<(int Resolution, TimeSpan Retention)> Tiers =
    [
        (10, TimeSpan.FromHours(24)),
        (60, TimeSpan.FromDays(7)),
        (900, TimeSpan.FromDays(90)),
    ];

    /// <summary>Counter growth between two readings; a counter that went back (cgroup recreated on restart) counts from zero.</summary>
    public static ulong Delta(ulong previous, ulong current) => current >= previous ? current - previous : current;

    /// <summary>Accumulates the 1-second samples of one container for one tier.</summary>
    public sealed class Bucket(int resolution)
    {
        private long _start = -1;
        private int _count;
        private ulong _cpu, _throttled, _blockRead, _blockWrite, _netRx, _netTx;
        private decimal _memory, _cache, _pids;
        private ulong _limit;

        public int Resolution { get; } = resolution;

        /// <summary>Adds a sample (with the one before it, for counter deltas); returns the finished bucket when this sample starts a new one.</summary>
        public StatsSample? Add(string containerId, RawSample? previous, RawSample current)
        {
            var t = current.Time.ToUnixTimeSeconds();
            var start = t - (t % Resolution);
            StatsSample? finished = null;
            if (_start >= 0 && start != _start && _count > 0)
            {
                finished = Emit(containerId);
            }

            if (start != _start)
            {
                _start = start;
                _count = 0;
                _cpu = _throttled = _blockRead = _blockWrite = _netRx = _netTx = 0;
                _memory = _cache = _pids = 0;
            }

            if (previous is not null)
            {
                _cpu += Delta(previous.CpuTotalNanos, current.CpuTotalNanos);
                _throttled += Delta(previous.ThrottledNanos, current.ThrottledNanos);
                _blockRead += Delta(previous.BlockRead, current.BlockRead);
                _blockWrite += Delta(previous.BlockWrite, current.BlockWrite);
                _netRx += Delta(previous.NetRx, current.NetRx);
                _netTx += Delta(previous.NetTx, current.NetTx);
            }

            _memory += current.MemoryUsage;
            _cache += current.MemoryCache;
            _pids += current.Pids;
            _limit = current.MemoryLimit;
            _count++;
            return finished;
        }

        /// <summary>The bucket so far (for shutdown), or null when empty.</summary>
        public StatsSample? Flush(string containerId) => _count > 0 ? Emit(containerId) : null;

        private StatsSample Emit(string containerId) => new(
            containerId,
            Resolution,
            _start,
            Clamp(_cpu),
            Clamp(_throttled),
            (long)(_memory / _count),
            Clamp(_limit),
            (long)(_cache / _count),
            (long)Math.Round(_pids / _count),
            Clamp(_blockRead),
            Clamp(_blockWrite),
            Clamp(_netRx),
            Clamp(_netTx));
    }

    private static long Clamp(ulong v) => v > long.MaxValue ? long.MaxValue : (long)v;

    /// <summary>Merges stored points into coarser ones of <paramref name="step"/> seconds (a multiple of their resolution): counters add up, gauges average.</summary>
    public static IReadOnlyList<StatsSample> Merge(IReadOnlyList<StatsSample> samples, int step)
    {
        if (samples.Count == 0 || step <= samples[0].Resolution)
        {
            return samples;
        }

        return samples
            .GroupBy(s => s.TimeSeconds - (s.TimeSeconds % step))
            .OrderBy(g => g.Key)
            .Select(g => new StatsSample(
                g.First().ContainerId,
                step,
                g.Key,
                g.Sum(s => s.CpuUsageNanos),
                g.Sum(s => s.CpuThrottledNanos),
                (long)g.Average(s => (decimal)s.MemoryUsage),
                g.OrderBy(s => s.TimeSeconds).Last().MemoryLimit,
                (long)g.Average(s => (decimal)s.MemoryCache),
                (long)Math.Round(g.Average(s => (decimal)s.Pids)),
                g.Sum(s => s.BlockRead),
                g.Sum(s => s.BlockWrite),
                g.Sum(s => s.NetRx),
                g.Sum(s => s.NetTx)))
            .ToList();
    }

    /// <summary>
    /// The tier to answer a range query from: the coarsest tier not coarser than <paramref name="step"/>
    /// whose retention still covers <paramref name="from"/>; when none does, the finest tier that covers it.
    /// </summary>
    public static int ChooseResolution(DateTimeOffset from, DateTimeOffset now, int step)
    {
        var covering = Tiers.Where(t => now - t.Retention <= from).Select(t => t.Resolution).ToList();
        if (covering.Count == 0)
        {
            return Tiers[^1].Resolution;
        }

        var fitting = covering.Where(r => r <= step).ToList();
        return fitting.Count > 0 ? fitting.Max() : covering.Min();
    }

    /// <summary>CPU use over a point as a percentage of one core (Docker's convention: 200 % = two busy cores).</summary>
    public static double CpuPercent(StatsSample s) => s.Resolution <= 0 ? 0 : s.CpuUsageNanos / (s.Resolution * 1e9) * 100;
}
