namespace Dashboard.Engine.Hosting;

/// <summary>
/// Hands the GC heap's free space back to the system once the engine goes quiet (issue 4 bench d): start-up
/// (EF Core's model, migrations, the first requests) and bursts of API calls leave a heap sized for their peak,
/// and an idle daemon allocates too slowly for ordinary gen0 collections to shrink it. One aggressive collection
/// (which decommits what it frees) runs per quiet period that follows real allocation, never while the engine is busy.
/// glibc's malloc keeps what native code freed (SQLite, OpenSSL, the runtime's own tables, the image load's buffers)
/// in its arenas, so the same quiet period also hands those free pages back (malloc_trim: about 4.5 MB after an
/// image load); memory in use, mapped files and code are left alone.
/// </summary>
public sealed class MemoryTrimmer(TimeProvider time, ILogger<MemoryTrimmer> log) : BackgroundService
{
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    /// <summary>Allocation in one interval under which the engine counts as quiet.</summary>
    internal const long QuietBytes = 1L << 20;

    /// <summary>Allocation since the last trim under which another full collection is not worth it.</summary>
    internal const long MinGrowthBytes = 4L << 20;

    internal static bool ShouldTrim(long allocatedLastInterval, long allocatedSinceTrim) =>
        allocatedLastInterval < QuietBytes && allocatedSinceTrim >= MinGrowthBytes;

    /// <summary>Returns the free pages of every malloc arena to the system; false where the C library has no malloc_trim (musl).</summary>
    internal static bool TrimNativeHeap() => Dashboard.Linux.Native.NativeHeap.TryTrim();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        var lastTrim = 0L;
        var previous = GC.GetTotalAllocatedBytes();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var now = GC.GetTotalAllocatedBytes();
                if (ShouldTrim(now - previous, now - lastTrim))
                {
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                    TrimNativeHeap();
                    now = GC.GetTotalAllocatedBytes();
                    lastTrim = now;
                    log.LogDebug("trimmed the GC heap to {Bytes} bytes", GC.GetGCMemoryInfo().HeapSizeBytes);
                }

                previous = now;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
