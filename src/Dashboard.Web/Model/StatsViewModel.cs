using System.Globalization;
using System.Text;
using Dashboard.Web.Engines;

namespace Dashboard.Web.Model;

/// <summary>Live stats of one container with a bounded in-memory history (engine-side rollups are future work).</summary>
public sealed class StatsViewModel(IEngineClient client, string containerId, int capacity = StatsViewModel.DefaultCapacity) : IAsyncDisposable
{
    public const int DefaultCapacity = 300;

    private readonly Queue<ContainerStatsSample> _history = new();
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _cts = new();
    private Task _task = Task.CompletedTask;

    public event Func<Task>? Changed;

    public ContainerStatsSample? Latest { get; private set; }

    public string? Error { get; private set; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _history.Count;
            }
        }
    }

    public void Start() => _task = Task.Run(() => FollowAsync(_cts.Token));

    /// <summary>SVG polyline points for <paramref name="value"/> over the history, scaled to the given box.</summary>
    public string Points(Func<ContainerStatsSample, double?> value, double width, double height, double? max = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        List<double> values;
        lock (_lock)
        {
            values = _history.Select(s => value(s) ?? 0).ToList();
        }

        if (values.Count == 0)
        {
            return "";
        }

        var top = Math.Max(max ?? values.Max(), 1e-9);
        var step = capacity > 1 ? width / (capacity - 1) : width;
        var offset = width - ((values.Count - 1) * step);
        var sb = new StringBuilder();
        for (var i = 0; i < values.Count; i++)
        {
            var x = offset + (i * step);
            var y = height - (Math.Clamp(values[i] / top, 0, 1) * height);
            sb.Append(CultureInfo.InvariantCulture, $"{x:0.#},{y:0.#} ");
        }

        return sb.ToString().TrimEnd();
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        try
        {
            await _task;
        }
        catch (OperationCanceledException)
        {
        }

        _cts.Dispose();
    }

    private async Task FollowAsync(CancellationToken token)
    {
        try
        {
            await foreach (var batch in client.GetStatsAsync(containerId, token))
            {
                lock (_lock)
                {
                    foreach (var s in batch)
                    {
                        _history.Enqueue(s);
                        while (_history.Count > capacity)
                        {
                            _history.Dequeue();
                        }
                    }
                }

                if (batch.Count > 0)
                {
                    Latest = batch[^1];
                }

                await NotifyAsync();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (EngineException e)
        {
            Error = e.Message;
            await NotifyAsync();
        }
    }

    private async Task NotifyAsync()
    {
        if (Changed is { } handler)
        {
            await handler();
        }
    }
}
