using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Dashboard.Web.Engines;

public static class ChannelBatching
{
    /// <summary>
    /// Drains everything queued at most once per <paramref name="minInterval"/>, so a chatty producer costs
    /// one render per interval instead of one per item (Aspire's console-log pipeline does the same).
    /// </summary>
    public static async IAsyncEnumerable<IReadOnlyList<T>> ReadBatchesAsync<T>(
        this ChannelReader<T> reader,
        TimeSpan minInterval,
        int maxBatch,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        long last = 0;
        while (await reader.WaitToReadAsync(cancellationToken))
        {
            if (last != 0)
            {
                var wait = minInterval - Stopwatch.GetElapsedTime(last);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, cancellationToken);
                }
            }

            var batch = new List<T>();
            while (batch.Count < maxBatch && reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            last = Stopwatch.GetTimestamp();
            if (batch.Count > 0)
            {
                yield return batch;
            }
        }
    }
}

/// <summary>An <see cref="IProgress{T}"/> that writes synchronously, keeping the engine's order (Progress&lt;T&gt; posts to the thread pool and may reorder).</summary>
internal sealed class ChannelProgress<T>(ChannelWriter<T> writer) : IProgress<T>
{
    public void Report(T value) => writer.TryWrite(value);
}
