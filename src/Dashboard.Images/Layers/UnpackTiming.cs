using System.Diagnostics;
using System.Globalization;

namespace Dashboard.Images.Layers;

/// <summary>
/// Phase timers for layer unpacking, on only when <c>DASHBOARD_IMAGES_TIMING=1</c>: each finished
/// layer writes one line to stderr (<c>unpack-timing layer=… setup=… inflate=… …</c>, milliseconds),
/// so a benchmark run shows where the time goes without a profiler.
/// </summary>
internal sealed class UnpackTiming
{
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("DASHBOARD_IMAGES_TIMING") == "1";

    private readonly long[] _ticks = new long[(int)UnpackPhase.Count];

    /// <summary>A timer, or null when timing is off (callers use <c>?.</c>).</summary>
    public static UnpackTiming? Create() => Enabled ? new UnpackTiming() : null;

    public static long Now() => Stopwatch.GetTimestamp();

    public void Add(UnpackPhase phase, long since) => Interlocked.Add(ref _ticks[(int)phase], Stopwatch.GetTimestamp() - since);

    public void Report(string layer)
    {
        var parts = new List<string> { "unpack-timing", "layer=" + layer };
        for (var i = 0; i < _ticks.Length; i++)
        {
            var ms = Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks[i])).TotalMilliseconds;
            parts.Add(((UnpackPhase)i).ToString().ToLowerInvariant() + "=" + ms.ToString("0.0", CultureInfo.InvariantCulture));
        }

        Console.Error.WriteLine(string.Join(' ', parts));
    }
}

internal enum UnpackPhase
{
    /// <summary>Temp directories, overlay mount of the parents (or the copy driver's tree copy).</summary>
    Setup,

    /// <summary>Producer thread: decompressing (includes reading the blob).</summary>
    Inflate,

    /// <summary>Producer thread: hashing for the diff_id.</summary>
    Hash,

    /// <summary>Producer thread: waiting for the extractor to take a chunk.</summary>
    ProducerWait,

    /// <summary>Extractor thread: waiting for decompressed data.</summary>
    ConsumerWait,

    /// <summary>Extractor thread: the whole tar apply (includes ConsumerWait).</summary>
    Apply,

    /// <summary>Unmount, cleanup and rename into place.</summary>
    Finish,

    Count,
}
