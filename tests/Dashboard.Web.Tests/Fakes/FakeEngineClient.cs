using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Dashboard.Web.Engines;

namespace Dashboard.Web.Tests.Fakes;

/// <summary>An engine fed by the test through channels (events, logs), recording every lifecycle call.</summary>
public sealed partial class FakeEngineClient : IEngineClient
{
    private readonly ConcurrentDictionary<string, ContainerSummary> _containers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ContainerDetails> _details = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Channel<IReadOnlyList<LogLine>>> _logs = new(StringComparer.Ordinal);
    private readonly List<Channel<IReadOnlyList<EngineEvent>>> _subscribers = [];
    private readonly Lock _lock = new();

    public ConcurrentQueue<(string Action, string Id)> Calls { get; } = new();

    public ConcurrentQueue<int> LogTails { get; } = new();

    public Exception? FailActionsWith { get; set; }

    public int EventSubscribers
    {
        get
        {
            lock (_lock)
            {
                return _subscribers.Count;
            }
        }
    }

    public List<ImageSummary> Images { get; } = [];

    public void SetContainer(ContainerSummary container) => _containers[container.Id] = container;

    public void RemoveContainer(string id) => _containers.TryRemove(id, out _);

    public void SetDetails(ContainerDetails details) => _details[details.Id] = details;

    public static ContainerSummary Container(string id, string name, ContainerState state, string image = "busybox:latest") =>
        new(id, name, image, state, state.ToString(), DateTimeOffset.UnixEpoch, [], new Dictionary<string, string>());

    public static ContainerDetails Details(string id, string name, ContainerState state, IReadOnlyList<string>? env = null) =>
        new(id, name, "busybox:latest", state, state.ToString().ToLowerInvariant(), 0, false, null, 0, null, DateTimeOffset.UnixEpoch, null, null, false,
            ["sh", "-c", "echo hi"], [new PortMapping(80, 8080, "tcp", "127.0.0.1")], [new MountInfo("volume", "/var/lib/x", "/data", true)],
            env ?? [], new Dictionary<string, string>());

    public async Task PublishAsync(params EngineEvent[] events)
    {
        List<Channel<IReadOnlyList<EngineEvent>>> subscribers;
        lock (_lock)
        {
            subscribers = [.. _subscribers];
        }

        foreach (var s in subscribers)
        {
            await s.Writer.WriteAsync(events);
        }
    }

    public static EngineEvent ContainerEvent(string id, string action) =>
        new(EngineEventType.Container, action, id, new Dictionary<string, string>(), DateTimeOffset.UtcNow);

    public ChannelWriter<IReadOnlyList<LogLine>> LogWriter(string id) => LogChannel(id).Writer;

    /// <summary>When set, listing containers fails with it (an unreachable engine).</summary>
    public Exception? FailListWith { get; set; }

    public Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(IReadOnlyCollection<string>? ids, CancellationToken cancellationToken)
    {
        if (FailListWith is { } e)
        {
            return Task.FromException<IReadOnlyList<ContainerSummary>>(e);
        }

        IReadOnlyList<ContainerSummary> list = _containers.Values
            .Where(c => ids is null || ids.Contains(c.Id))
            .ToList();
        return Task.FromResult(list);
    }

    public Task<ContainerDetails> InspectContainerAsync(string id, CancellationToken cancellationToken) =>
        _details.TryGetValue(id, out var d)
            ? Task.FromResult(d)
            : Task.FromException<ContainerDetails>(new EngineException(EngineErrorKind.NotFound, $"inspect container {id}: no such container"));

    public Task StartContainerAsync(string id, CancellationToken cancellationToken) => Record("start", id);

    public Task StopContainerAsync(string id, CancellationToken cancellationToken) => Record("stop", id);

    public Task RestartContainerAsync(string id, CancellationToken cancellationToken) => Record("restart", id);

    public Task KillContainerAsync(string id, CancellationToken cancellationToken) => Record("kill", id);

    public Task PauseContainerAsync(string id, CancellationToken cancellationToken) => Record("pause", id);

    public Task UnpauseContainerAsync(string id, CancellationToken cancellationToken) => Record("unpause", id);

    public Task RemoveContainerAsync(string id, bool force, CancellationToken cancellationToken) => Record("remove", id);

    public async IAsyncEnumerable<IReadOnlyList<LogLine>> GetLogsAsync(string id, int tail, bool follow, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        LogTails.Enqueue(tail);
        var reader = LogChannel(id).Reader;
        if (!follow)
        {
            // Without follow: what was written so far, then the end (as the engine's non-follow logs call).
            while (reader.TryRead(out var written))
            {
                yield return written;
            }

            yield break;
        }

        while (await reader.WaitToReadAsync(cancellationToken))
        {
            while (reader.TryRead(out var batch))
            {
                yield return batch;
            }
        }
    }

    private readonly ConcurrentDictionary<string, Channel<IReadOnlyList<ContainerStatsSample>>> _stats = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, int> OpenStatsStreams { get; } = new(StringComparer.Ordinal);

    public ChannelWriter<IReadOnlyList<ContainerStatsSample>> StatsWriter(string id) =>
        _stats.GetOrAdd(id, _ => Channel.CreateUnbounded<IReadOnlyList<ContainerStatsSample>>()).Writer;

    public async IAsyncEnumerable<IReadOnlyList<ContainerStatsSample>> GetStatsAsync(string id, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        OpenStatsStreams.AddOrUpdate(id, 1, (_, n) => n + 1);
        try
        {
            var reader = _stats.GetOrAdd(id, _ => Channel.CreateUnbounded<IReadOnlyList<ContainerStatsSample>>()).Reader;
            await foreach (var batch in reader.ReadAllAsync(cancellationToken))
            {
                yield return batch;
            }
        }
        finally
        {
            OpenStatsStreams.AddOrUpdate(id, 0, (_, n) => n - 1);
        }
    }

    public async IAsyncEnumerable<IReadOnlyList<EngineEvent>> GetEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateUnbounded<IReadOnlyList<EngineEvent>>();
        lock (_lock)
        {
            _subscribers.Add(channel);
        }

        try
        {
            await foreach (var batch in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return batch;
            }
        }
        finally
        {
            lock (_lock)
            {
                _subscribers.Remove(channel);
            }
        }
    }

    public Task<IReadOnlyList<ImageSummary>> ListImagesAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<ImageSummary>>(Images);

    public List<IReadOnlyList<PullProgress>> PullBatches { get; } = [];

    public async IAsyncEnumerable<IReadOnlyList<PullProgress>> PullImageAsync(string reference, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Record("pull", reference);
        foreach (var batch in PullBatches)
        {
            await Task.Yield();
            yield return batch;
        }
    }

    public Task RemoveImageAsync(string id, bool force, CancellationToken cancellationToken) => Record("remove-image", id);

    public ConcurrentQueue<(string ContainerId, ExecRequest Request, FakeExecSession Session)> Execs { get; } = new();

    public ConcurrentQueue<ContainerCreateRequest> Created { get; } = new();

    public ConcurrentDictionary<string, ContainerCreateRequest> CreateRequests { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, creating a container fails with it (after the call is recorded).</summary>
    public Exception? FailCreateWith { get; set; }

    public Task<string> CreateContainerAsync(ContainerCreateRequest request, CancellationToken cancellationToken)
    {
        Created.Enqueue(request);
        if (FailCreateWith is { } e)
        {
            return Task.FromException<string>(e);
        }

        var id = $"new{Created.Count}";
        Calls.Enqueue(("create", request.Name ?? id));
        return Task.FromResult(id);
    }

    public Task<ContainerCreateRequest> GetCreateRequestAsync(string id, CancellationToken cancellationToken) =>
        CreateRequests.TryGetValue(id, out var r)
            ? Task.FromResult(r)
            : Task.FromException<ContainerCreateRequest>(new EngineException(EngineErrorKind.NotFound, $"inspect container {id}: no such container"));

    public Task RenameContainerAsync(string id, string newName, CancellationToken cancellationToken) => Record("rename:" + newName, id);

    public Task<IExecSession> StartExecAsync(string id, ExecRequest request, CancellationToken cancellationToken)
    {
        if (FailActionsWith is { } e)
        {
            return Task.FromException<IExecSession>(e);
        }

        var session = new FakeExecSession($"exec-{Execs.Count + 1}");
        Execs.Enqueue((id, request, session));
        return Task.FromResult<IExecSession>(session);
    }

    private Channel<IReadOnlyList<LogLine>> LogChannel(string id) =>
        _logs.GetOrAdd(id, _ => Channel.CreateUnbounded<IReadOnlyList<LogLine>>());

    private Task Record(string action, string id)
    {
        if (FailActionsWith is { } e)
        {
            return Task.FromException(e);
        }

        Calls.Enqueue((action, id));
        return Task.CompletedTask;
    }
}
