using System.Runtime.CompilerServices;

namespace Dashboard.Web.Engines;

/// <summary>
/// Reading an engine's events so that a list or inspect made once the stream is open misses no change: a view that
/// loads first and subscribes afterwards loses every event that falls between the two.
/// </summary>
public static class EngineEventSubscription
{
    /// <summary>
    /// The engine's event batches; <paramref name="opened"/> completes once the stream has been asked for its first
    /// batch (the request is open), or when opening it failed.
    /// </summary>
    public static async IAsyncEnumerable<IReadOnlyList<EngineEvent>> GetEventsAsync(this IEngineClient client, TaskCompletionSource opened, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(opened);
        var events = client.GetEventsAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (events)
        {
            ValueTask<bool> next;
            try
            {
                next = events.MoveNextAsync();
            }
            finally
            {
                opened.TrySetResult();
            }

            while (await next)
            {
                yield return events.Current;
                next = events.MoveNextAsync();
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="watch"/> on the thread pool and waits until it has opened the stream (or ended), so the
    /// caller's first load comes after the subscription.
    /// </summary>
    public static async Task<Task> StartWatchAsync(Func<TaskCompletionSource, Task> watch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(watch);
        var opened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var task = Task.Run(
            async () =>
            {
                try
                {
                    await watch(opened);
                }
                finally
                {
                    opened.TrySetResult();
                }
            },
            cancellationToken);
        await Task.WhenAny(opened.Task, task);
        return task;
    }
}
