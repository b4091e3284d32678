using System.Collections.Concurrent;
using Dashboard.Web.Engines;

namespace Dashboard.Web.Model;

/// <summary>
/// Latest stats sample per running container, for the CPU and memory columns. The Docker API streams stats per
/// container, so at most <see cref="MaxStreams"/> are followed (Podman Desktop #17872: stats for every container
/// costs the daemon real CPU); the rest show no figures. Changes are announced at most once per interval.
/// </summary>
public sealed class StatsTracker : IAsyncDisposable
{
    public const int MaxStreams = 32;

    private readonly IEngineClient _client;
    private readonly TimeSpan _interval;
    private readonly ConcurrentDictionary<string, ContainerStatsSample> _latest = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (CancellationTokenSource Cts, Task Task)> _streams = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _cts = new();
    private readonly Task _notifier;
    private int _dirty;

    public StatsTracker(IEngineClient client, TimeSpan? interval = null)
    {
        _client = client;
        _interval = interval ?? TimeSpan.FromSeconds(1);
        _notifier = Task.Run(NotifyLoopAsync);
    }

    public event Func<Task>? Changed;

    public ContainerStatsSample? Latest(string id) => _latest.GetValueOrDefault(id);

    public int StreamCount
    {
        get
        {
            lock (_lock)
            {
                return _streams.Count;
            }
        }
    }

    /// <summary>Follows exactly the first <see cref="MaxStreams"/> of <paramref name="runningIds"/>; stops the others.</summary>
    public void Track(IEnumerable<string> runningIds)
    {
        var wanted = runningIds.Take(MaxStreams).ToHashSet(StringComparer.Ordinal);
        lock (_lock)
        {
            if (_cts.IsCancellationRequested)
            {
                return;
            }

            foreach (var id in _streams.Keys.Where(id => !wanted.Contains(id)).ToList())
            {
                _streams[id].Cts.Cancel();
                _streams[id].Cts.Dispose();
                _streams.Remove(id);
                _latest.TryRemove(id, out _);
            }

            foreach (var id in wanted.Where(id => !_streams.ContainsKey(id)))
            {
                var cts = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);

                // The token is taken here, not in the task: Dispose may cancel and dispose the source before the task runs.
                var token = cts.Token;
                _streams[id] = (cts, Task.Run(() => FollowAsync(id, token)));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<Task> tasks;
        lock (_lock)
        {
            _cts.Cancel();
            tasks = [.. _streams.Values.Select(s => s.Task), _notifier];
            foreach (var s in _streams.Values)
            {
                s.Cts.Dispose();
            }

            _streams.Clear();
        }

        try
        {
            await Task.WhenAll(tasks);
        }
        catch (OperationCanceledException)
        {
        }

        _cts.Dispose();
    }

    private async Task FollowAsync(string id, CancellationToken token)
    {
        try
        {
            await foreach (var batch in _client.GetStatsAsync(id, token))
            {
                if (batch.Count > 0)
                {
                    _latest[id] = batch[^1];
                    Interlocked.Exchange(ref _dirty, 1);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (EngineException)
        {
            // Stats are optional; the columns stay empty for this container.
        }
    }

    private async Task NotifyLoopAsync()
    {
        using var timer = new PeriodicTimer(_interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_cts.Token))
            {
                if (Interlocked.Exchange(ref _dirty, 0) == 1 && Changed is { } handler)
                {
                    await handler();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
