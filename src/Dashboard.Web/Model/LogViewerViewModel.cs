using System.Threading.Channels;
using Dashboard.Web.Engines;
using Dashboard.Web.Logs;

namespace Dashboard.Web.Model;

public sealed class LogViewerOptions
{
    public int Tail { get; set; } = 1000;

    /// <summary>Entries kept per viewer (per circuit); older ones are evicted and counted.</summary>
    public int BufferCapacity { get; set; } = 10_000;

    /// <summary>Lines queued between the engine reader and the renderer; when full the oldest are dropped and counted.</summary>
    public int ChannelCapacity { get; set; } = 10_000;

    public TimeSpan BatchInterval { get; set; } = TimeSpan.FromMilliseconds(100);
}

/// <summary>
/// Tails a container's log, then follows it: engine batches go into a bounded channel (the engine reader never
/// waits for rendering), are drained at most every <see cref="LogViewerOptions.BatchInterval"/>, converted to
/// safe HTML and appended to a bounded <see cref="LogBuffer"/>; one <see cref="Changed"/> per drained batch.
/// </summary>
public sealed class LogViewerViewModel : IAsyncDisposable, ILogFollower
{
    private readonly IEngineClient _client;
    private readonly LogFollowService? _follows;
    private readonly string _containerId;
    private readonly LogViewerOptions _options;
    private readonly LogBuffer _buffer;
    private readonly AnsiHtmlConverter _stdout = new();
    private readonly AnsiHtmlConverter _stderr = new();
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _cts = new();
    private readonly Channel<LogLine> _channel;
    private long _dropped;
    private long _sequence;
    private long _pendingWhilePaused;
    private Task _readTask = Task.CompletedTask;
    private Task _drainTask = Task.CompletedTask;
    private IDisposable? _subscription;
    private List<LogEntry> _visible = [];
    private bool _showStdout = true;
    private bool _showStderr = true;
    private bool _paused;

    /// <param name="follows">When given, the engine follow is shared with every other view of the same container.</param>
    public LogViewerViewModel(IEngineClient client, string containerId, LogViewerOptions? options = null, LogFollowService? follows = null)
    {
        _client = client;
        _follows = follows;
        _containerId = containerId;
        _options = options ?? new LogViewerOptions();
        _buffer = new LogBuffer(_options.BufferCapacity);
        _channel = Channel.CreateBounded<LogLine>(
            new BoundedChannelOptions(_options.ChannelCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    /// <summary>Raised after new lines were added or the view settings changed (from a background thread).</summary>
    public event Func<Task>? Changed;

    public IReadOnlyList<LogEntry> Visible => Volatile.Read(ref _visible);

    /// <summary>The same list typed for <c>Virtualize.Items</c>.</summary>
    public ICollection<LogEntry> VisibleCollection => Volatile.Read(ref _visible);

    public bool ShowStdout
    {
        get => _showStdout;
        set
        {
            _showStdout = value;
            Rebuild(force: true);
        }
    }

    public bool ShowStderr
    {
        get => _showStderr;
        set
        {
            _showStderr = value;
            Rebuild(force: true);
        }
    }

    public bool Paused
    {
        get => _paused;
        set
        {
            _paused = value;
            if (!value)
            {
                Interlocked.Exchange(ref _pendingWhilePaused, 0);
                Rebuild(force: true);
            }
        }
    }

    /// <summary>Lines received since the view was paused (not shown until resumed).</summary>
    public long PendingWhilePaused => Interlocked.Read(ref _pendingWhilePaused);

    /// <summary>Earlier lines no longer held in memory.</summary>
    public long EvictedCount
    {
        get
        {
            lock (_lock)
            {
                return _buffer.Evicted;
            }
        }
    }

    public bool Ended { get; private set; }

    public string? Error { get; private set; }

    public void Start()
    {
        var token = _cts.Token;
        _drainTask = Task.Run(() => DrainAsync(token), token);
        if (_follows is not null)
        {
            _subscription = _follows.Follow(_client, _containerId, _options.Tail, this);
        }
        else
        {
            _readTask = Task.Run(() => ReadAsync(token), token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        await _cts.CancelAsync();
        try
        {
            await Task.WhenAll(_readTask, _drainTask);
        }
        catch (OperationCanceledException)
        {
        }

        _cts.Dispose();
    }

    private async Task ReadAsync(CancellationToken token)
    {
        try
        {
            await foreach (var batch in _client.GetLogsAsync(_containerId, _options.Tail, follow: true, token))
            {
                foreach (var line in batch)
                {
                    _channel.Writer.TryWrite(line);
                }
            }

            _channel.Writer.TryComplete();
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            _channel.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _channel.Writer.TryComplete(e);
        }
    }

    void ILogFollower.OnLines(IReadOnlyList<LogLine> lines)
    {
        foreach (var line in lines)
        {
            _channel.Writer.TryWrite(line);
        }
    }

    void ILogFollower.OnEnded(Exception? error)
    {
        if (error is null or OperationCanceledException)
        {
            _channel.Writer.TryComplete();
        }
        else
        {
            _channel.Writer.TryComplete(error);
        }
    }

    private async Task DrainAsync(CancellationToken token)
    {
        try
        {
            await foreach (var batch in _channel.Reader.ReadBatchesAsync(_options.BatchInterval, _options.ChannelCapacity, token))
            {
                Append(batch);
                await NotifyAsync();
            }

            Ended = true;
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return;
        }
        catch (EngineException e)
        {
            Error = e.Message;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Error = "log stream failed";
        }

        await NotifyAsync();
    }

    private void Append(IReadOnlyList<LogLine> batch)
    {
        lock (_lock)
        {
            var dropped = Interlocked.Exchange(ref _dropped, 0);
            if (dropped > 0)
            {
                _buffer.Add(LogEntry.Skipped(++_sequence, dropped));
            }

            foreach (var line in batch)
            {
                var converter = line.Stream == LogStream.Stderr ? _stderr : _stdout;
                _buffer.Add(new LogEntry(++_sequence, LogEntryKind.Line, line.Timestamp, line.Stream, converter.ConvertLine(line.Text), 0));
            }
        }

        if (_paused)
        {
            Interlocked.Add(ref _pendingWhilePaused, batch.Count);
        }
        else
        {
            Rebuild(force: false);
        }
    }

    private void Rebuild(bool force)
    {
        if (_paused && !force)
        {
            return;
        }

        List<LogEntry> snapshot;
        lock (_lock)
        {
            snapshot = _buffer.Snapshot(Include);
        }

        Volatile.Write(ref _visible, snapshot);
    }

    private bool Include(LogEntry e) =>
        e.Kind == LogEntryKind.Skipped || (e.Stream == LogStream.Stderr ? _showStderr : _showStdout);

    private async Task NotifyAsync()
    {
        if (Changed is { } handler)
        {
            await handler();
        }
    }
}
