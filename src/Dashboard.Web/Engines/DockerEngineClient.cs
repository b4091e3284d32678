using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Dashboard.Web.Engines;

/// <summary><see cref="IEngineClient"/> over the Docker Engine API (Docker.DotNet.Enhanced): our engine, Docker or Podman.</summary>
public sealed partial class DockerEngineClient : IEngineClient, IDisposable
{
    private static readonly TimeSpan s_batchInterval = TimeSpan.FromMilliseconds(100);

    private readonly IDockerClient _client;
    private readonly string _name;

    public DockerEngineClient(EngineEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _name = endpoint.Name;
        _endpointUri = endpoint.Uri;
        _client = new DockerClientBuilder().WithEndpoint(endpoint.Uri).Build();
    }

    public DockerEngineClient(string name, IDockerClient client)
    {
        _name = name;
        _client = client;
    }

    public async Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(IReadOnlyCollection<string>? ids, CancellationToken cancellationToken)
    {
        var parameters = new ContainersListParameters { All = true };
        if (ids is { Count: > 0 })
        {
            parameters.Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["id"] = ids.ToDictionary(id => id, _ => true, StringComparer.Ordinal),
            };
        }

        var list = await CallAsync("list containers", () => _client.Containers.ListContainersAsync(parameters, cancellationToken));
        return list.Select(ToSummary).ToList();
    }

    public async Task<ContainerDetails> InspectContainerAsync(string id, CancellationToken cancellationToken)
    {
        var c = await CallAsync($"inspect container {id}", () => _client.Containers.InspectContainerAsync(id, cancellationToken));
        var state = c.State ?? new State();
        return new ContainerDetails(
            c.ID,
            TrimName(c.Name),
            c.Config?.Image ?? c.Image ?? "",
            ParseState(state.Status),
            state.Status ?? "",
            state.ExitCode,
            state.OOMKilled,
            state.Health?.Status,
            c.RestartCount,
            string.IsNullOrEmpty(state.Error) ? null : state.Error,
            new DateTimeOffset(DateTime.SpecifyKind(c.Created, DateTimeKind.Utc)),
            ParseTime(state.StartedAt),
            ParseTime(state.FinishedAt),
            c.Config?.Tty ?? false,
            [.. c.Config?.Entrypoint ?? [], .. c.Config?.Cmd ?? []],
            (c.NetworkSettings?.Ports ?? new Dictionary<string, IList<PortBinding>>())
                .SelectMany(p => ToPorts(p.Key, p.Value))
                .ToList(),
            (c.Mounts ?? []).Select(m => new MountInfo(m.Type ?? "", m.Source, m.Destination ?? "", m.RW)).ToList(),
            c.Config?.Env?.ToList() ?? [],
            new Dictionary<string, string>(c.Config?.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal));
    }

    public Task StartContainerAsync(string id, CancellationToken cancellationToken) =>
        CallAsync($"start container {id}", () => _client.Containers.StartContainerAsync(id, new ContainerStartParameters(), cancellationToken));

    public Task StopContainerAsync(string id, CancellationToken cancellationToken) =>
        CallAsync($"stop container {id}", () => _client.Containers.StopContainerAsync(id, new ContainerStopParameters(), cancellationToken));

    public Task RestartContainerAsync(string id, CancellationToken cancellationToken) =>
        CallAsync($"restart container {id}", async () =>
        {
            await _client.Containers.RestartContainerAsync(id, new ContainerRestartParameters(), cancellationToken);
            return true;
        });

    public Task KillContainerAsync(string id, CancellationToken cancellationToken) =>
        CallAsync($"kill container {id}", async () =>
        {
            await _client.Containers.KillContainerAsync(id, new ContainerKillParameters(), cancellationToken);
            return true;
        });

    public Task PauseContainerAsync(string id, CancellationToken cancellationToken) =>
        CallAsync($"pause container {id}", async () =>
        {
            await _client.Containers.PauseContainerAsync(id, cancellationToken);
            return true;
        });

    public Task UnpauseContainerAsync(string id, CancellationToken cancellationToken) =>
        CallAsync($"unpause container {id}", async () =>
        {
            await _client.Containers.UnpauseContainerAsync(id, cancellationToken);
            return true;
        });

    public Task RemoveContainerAsync(string id, bool force, CancellationToken cancellationToken) =>
        CallAsync($"remove container {id}", async () =>
        {
            await _client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = force }, cancellationToken);
            return true;
        });

    public async IAsyncEnumerable<IReadOnlyList<LogLine>> GetLogsAsync(string id, int tail, bool follow, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var parameters = new ContainerLogsParameters
        {
            ShowStdout = true,
            ShowStderr = true,
            Timestamps = true,
            Follow = follow,
            Tail = tail.ToString(CultureInfo.InvariantCulture),
        };
        using var stream = await CallAsync($"logs of container {id}", () => _client.Containers.GetContainerLogsAsync(id, parameters, cancellationToken));
        var stdout = new LogLineAssembler(LogStream.Stdout, timestamps: true);
        var stderr = new LogLineAssembler(LogStream.Stderr, timestamps: true);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var read = await CallAsync($"logs of container {id}", () => stream.ReadOutputAsync(buffer, 0, buffer.Length, cancellationToken));
            var lines = new List<LogLine>();
            if (read.EOF)
            {
                stdout.Flush(lines);
                stderr.Flush(lines);
                if (lines.Count > 0)
                {
                    yield return lines;
                }

                yield break;
            }

            var target = read.Target == MultiplexedStream.TargetStream.StandardError ? stderr : stdout;
            target.Append(buffer.AsSpan(0, read.Count), lines);
            if (lines.Count > 0)
            {
                yield return lines;
            }
        }
    }

    public async IAsyncEnumerable<IReadOnlyList<ContainerStatsSample>> GetStatsAsync(string id, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<ContainerStatsResponse>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pump = PumpAsync(
            channel.Writer,
            $"stats of container {id}",
            () => _client.Containers.GetContainerStatsAsync(id, new ContainerStatsParameters { Stream = true }, new ChannelProgress<ContainerStatsResponse>(channel.Writer), cts.Token));
        try
        {
            await foreach (var batch in channel.Reader.ReadBatchesAsync(s_batchInterval, 64, cancellationToken))
            {
                yield return batch.Select(s => ToStats(id, s)).ToList();
            }
        }
        finally
        {
            await cts.CancelAsync();
            await pump;
        }
    }

    public async IAsyncEnumerable<IReadOnlyList<EngineEvent>> GetEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var dropped = 0;
        var channel = Channel.CreateBounded<Message>(
            new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref dropped));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pump = PumpAsync(
            channel.Writer,
            "events",
            () => _client.System.MonitorEventsAsync(new ContainerEventsParameters(), new ChannelProgress<Message>(channel.Writer), cts.Token));
        try
        {
            await foreach (var batch in channel.Reader.ReadBatchesAsync(s_batchInterval, 1000, cancellationToken))
            {
                var events = new List<EngineEvent>(batch.Count + 1);
                if (Interlocked.Exchange(ref dropped, 0) > 0)
                {
                    events.Add(EngineEvent.Resync(DateTimeOffset.UtcNow));
                }

                events.AddRange(batch.Select(ToEvent));
                yield return events;
            }
        }
        finally
        {
            await cts.CancelAsync();
            await pump;
        }
    }

    public async Task<IReadOnlyList<ImageSummary>> ListImagesAsync(CancellationToken cancellationToken)
    {
        var images = await CallAsync("list images", () => _client.Images.ListImagesAsync(new ImagesListParameters { All = false }, cancellationToken));
        return images
            .Select(i => new ImageSummary(i.ID, i.RepoTags?.ToList() ?? [], i.Size, new DateTimeOffset(DateTime.SpecifyKind(i.Created, DateTimeKind.Utc)), i.Containers))
            .ToList();
    }

    public async IAsyncEnumerable<IReadOnlyList<PullProgress>> PullImageAsync(string reference, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<JSONMessage>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var parameters = new ImagesCreateParameters { FromImage = WithDefaultTag(reference) };
        var pump = PumpAsync(
            channel.Writer,
            $"pull {reference}",
            () => _client.Images.CreateImageAsync(parameters, null, new ChannelProgress<JSONMessage>(channel.Writer), cts.Token));
        try
        {
            await foreach (var batch in channel.Reader.ReadBatchesAsync(s_batchInterval, 1000, cancellationToken))
            {
                yield return batch
                    .Select(m => new PullProgress(m.ID, m.Status ?? "", m.Progress?.Current, m.Progress?.Total, m.Error?.Message))
                    .ToList();
            }
        }
        finally
        {
            await cts.CancelAsync();
            await pump;
        }
    }

    public Task RemoveImageAsync(string id, bool force, CancellationToken cancellationToken) =>
        CallAsync($"remove image {id}", async () =>
        {
            await _client.Images.DeleteImageAsync(id, new ImageDeleteParameters { Force = force }, cancellationToken);
            return true;
        });

    public void Dispose()
    {
        _client.Dispose();
        _clientCertificate?.Dispose();
    }

    /// <summary>Without a tag the Docker API pulls every tag of the repository.</summary>
    public static string WithDefaultTag(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var lastSlash = reference.LastIndexOf('/');
        return reference.Contains('@', StringComparison.Ordinal) || reference.IndexOf(':', lastSlash + 1) > lastSlash
            ? reference
            : reference + ":latest";
    }

    public static ContainerState ParseState(string? state) => state?.ToUpperInvariant() switch
    {
        "CREATED" => ContainerState.Created,
        "RUNNING" => ContainerState.Running,
        "PAUSED" => ContainerState.Paused,
        "RESTARTING" => ContainerState.Restarting,
        "REMOVING" => ContainerState.Removing,
        "EXITED" or "STOPPED" => ContainerState.Exited,
        "DEAD" => ContainerState.Dead,
        _ => ContainerState.Unknown,
    };

    private static ContainerSummary ToSummary(ContainerListResponse c) => new(
        c.ID,
        TrimName(c.Names?.FirstOrDefault() ?? c.ID),
        c.Image ?? "",
        ParseState(c.State),
        c.Status ?? "",
        new DateTimeOffset(DateTime.SpecifyKind(c.Created, DateTimeKind.Utc)),
        (c.Ports ?? []).Select(p => new PortMapping(p.PrivatePort, p.PublicPort, p.Type ?? "tcp", p.IP)).ToList(),
        new Dictionary<string, string>(c.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal));

    private static IEnumerable<PortMapping> ToPorts(string key, IList<PortBinding>? bindings)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var proto = slash < 0 ? "tcp" : key[(slash + 1)..];
        if (!int.TryParse(slash < 0 ? key : key[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            yield break;
        }

        if (bindings is null || bindings.Count == 0)
        {
            yield return new PortMapping(port, null, proto, null);
            yield break;
        }

        foreach (var b in bindings)
        {
            int? published = int.TryParse(b.HostPort, NumberStyles.None, CultureInfo.InvariantCulture, out var hp) ? hp : null;
            yield return new PortMapping(port, published, proto, string.IsNullOrEmpty(b.HostIP) ? null : b.HostIP);
        }
    }

    private static string TrimName(string? name) => name is null ? "" : name.TrimStart('/');

    private static DateTimeOffset? ParseTime(string? value) =>
        !string.IsNullOrEmpty(value) && LogLineAssembler.TryParseTimestamp(value, out var t) && t.Year > 1 ? t : null;

    private static ContainerStatsSample ToStats(string id, ContainerStatsResponse s)
    {
        double? cpu = null;
        if (s.CPUStats?.CPUUsage is { } now && s.PreCPUStats?.CPUUsage is { } before && s.CPUStats.SystemUsage is { } sys && s.PreCPUStats.SystemUsage is { } preSys)
        {
            var cpuDelta = (double)now.TotalUsage - before.TotalUsage;
            var sysDelta = (double)sys - preSys;
            var online = s.CPUStats.OnlineCPUs ?? (uint)(now.PercpuUsage?.Count ?? 1);
            if (sysDelta > 0 && cpuDelta >= 0)
            {
                cpu = cpuDelta / sysDelta * online * 100.0;
            }
        }

        ulong? rx = null, tx = null;
        if (s.Networks is { Count: > 0 } nets)
        {
            rx = nets.Values.Aggregate(0UL, (a, n) => a + n.RxBytes);
            tx = nets.Values.Aggregate(0UL, (a, n) => a + n.TxBytes);
        }

        return new ContainerStatsSample(
            id,
            new DateTimeOffset(DateTime.SpecifyKind(s.Read, DateTimeKind.Utc)),
            cpu,
            s.MemoryStats?.Usage,
            s.MemoryStats?.Limit,
            rx,
            tx,
            s.PidsStats?.Current);
    }

    private static EngineEvent ToEvent(Message m)
    {
        var type = m.Type?.ToUpperInvariant() switch
        {
            "CONTAINER" => EngineEventType.Container,
            "IMAGE" => EngineEventType.Image,
            "VOLUME" => EngineEventType.Volume,
            "NETWORK" => EngineEventType.Network,
            _ => EngineEventType.Other,
        };
        var time = m.TimeNano is { } ns
            ? DateTimeOffset.FromUnixTimeMilliseconds(ns / 1_000_000)
            : m.Time is { } s ? DateTimeOffset.FromUnixTimeSeconds(s) : DateTimeOffset.UtcNow;
        return new EngineEvent(
            type,
            m.Action ?? "",
            m.Actor?.ID ?? "",
            new Dictionary<string, string>(m.Actor?.Attributes ?? new Dictionary<string, string>(), StringComparer.Ordinal),
            time);
    }

    private async Task PumpAsync<TItem, TResult>(ChannelWriter<TItem> writer, string what, Func<Task<TResult>> call)
    {
        try
        {
            await CallAsync(what, call);
            writer.TryComplete();
        }
        catch (OperationCanceledException)
        {
            writer.TryComplete();
        }
        catch (Exception e)
        {
            writer.TryComplete(e);
        }
    }

    private async Task PumpAsync<TItem>(ChannelWriter<TItem> writer, string what, Func<Task> call) =>
        await PumpAsync<TItem, bool>(writer, what, async () =>
        {
            await call();
            return true;
        });

    private async Task<T> CallAsync<T>(string what, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (DockerApiException e)
        {
            throw new EngineException(KindOf(e.StatusCode), $"{what}: {MessageOf(e)}", e);
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or IOException or TimeoutException)
        {
            throw new EngineException(EngineErrorKind.Unavailable, $"{what}: engine {_name} unreachable", e);
        }
    }

    private static EngineErrorKind KindOf(HttpStatusCode status) => status switch
    {
        HttpStatusCode.NotFound => EngineErrorKind.NotFound,
        HttpStatusCode.Conflict or HttpStatusCode.NotModified => EngineErrorKind.Conflict,
        HttpStatusCode.BadRequest => EngineErrorKind.InvalidRequest,
        HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized => EngineErrorKind.PermissionDenied,
        _ => EngineErrorKind.Internal,
    };

    /// <summary>The engine answers errors as <c>{"message": …}</c>; fall back to the status text.</summary>
    private static string MessageOf(DockerApiException e)
    {
        if (!string.IsNullOrWhiteSpace(e.ResponseBody))
        {
            try
            {
                using var doc = JsonDocument.Parse(e.ResponseBody);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("message", out var msg) && msg.ValueKind == JsonValueKind.String)
                {
                    return msg.GetString()!;
                }
            }
            catch (JsonException)
            {
                return e.ResponseBody.Trim();
            }
        }

        return e.StatusCode.ToString().ToLowerInvariant();
    }
}
