using System.Text.Json;
using System.Text.Json.Serialization;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Stats;

namespace Dashboard.Engine.Api;

/// <summary>
/// <c>GET /containers/{id}/stats</c> in Docker's StatsJSON shape (streaming, <c>stream=false</c>,
/// <c>one-shot=true</c>) from the sampler's readings, and the engine's history query
/// <c>GET /dashboard/stats/{id}?from=&amp;to=&amp;step=</c> for the web UI's charts.
/// </summary>
public static class StatsEndpoints
{
    private static readonly JsonSerializerOptions s_line = new(DockerJson.Options) { WriteIndented = false };

    public static void MapStatsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/containers/{id}/stats", StatsAsync);
        app.MapGet("/dashboard/stats/{id}", HistoryAsync);
    }

    private static async Task StatsAsync(string id, HttpContext context, ContainerManager manager, StatsSampler sampler)
    {
        var ct = context.RequestAborted;
        var container = await manager.GetAsync(id, ct);
        var stream = context.Request.QueryBool("stream", defaultValue: true);
        var oneShot = context.Request.QueryBool("one-shot");
        if (oneShot && stream)
        {
            throw new EngineException(ErrorKind.InvalidArgument, "cannot have stream=true and one-shot=true");
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync(ct);
        var body = context.Response.Body;
        if (!container.State.Status.IsActive())
        {
            await WriteAsync(body, View(container, null, null, sampler.HostMemory), ct);
            return;
        }

        // stream=false answers with two readings a second apart, so precpu_stats make a CPU % (docker stats --no-stream).
        var needed = oneShot ? 1 : 2;
        for (var i = 0; i < 3; i++)
        {
            var (previous, latest) = sampler.Get(container.Id);
            if ((needed == 1 && latest is not null) || previous is not null)
            {
                break;
            }

            await sampler.NextTickAsync(ct);
        }

        while (true)
        {
            var (previous, latest) = sampler.Get(container.Id);
            await WriteAsync(body, View(container, latest, oneShot ? null : previous, sampler.HostMemory), ct);
            if (!stream)
            {
                return;
            }

            await sampler.NextTickAsync(ct);
            container = await manager.Store.GetContainerAsync(container.Id, ct) ?? container;
            if (!container.State.Status.IsActive())
            {
                return;
            }
        }
    }

    private static async Task WriteAsync(Stream body, StatsView view, CancellationToken ct)
    {
        await JsonSerializer.SerializeAsync(body, view, DockerJson.Info<StatsView>(s_line), ct);
        await body.WriteAsync("\n"u8.ToArray(), ct);
        await body.FlushAsync(ct);
    }

    public static StatsView View(ContainerRecord c, RawSample? latest, RawSample? previous, ulong hostMemory) => new()
    {
        Name = "/" + c.Name,
        Id = c.Id,
        Read = ApiPipeline.FormatTime(latest?.Time),
        PreRead = ApiPipeline.FormatTime(previous?.Time),
        PidsStats = new PidsView { Current = latest?.Pids ?? 0, Limit = latest?.PidsLimit is > 0 and < ulong.MaxValue and var l ? l : null },
        BlkioStats = new BlkioView { IoServiceBytesRecursive = latest?.Block.Select(b => new BlkioEntryView { Major = b.Major, Minor = b.Minor, Op = b.Op, Value = b.Value }).ToList() },
        CpuStats = Cpu(latest),
        PreCpuStats = Cpu(previous),
        MemoryStats = latest is null ? new MemoryView() : new MemoryView
        {
            Usage = latest.MemoryUsage,
            MaxUsage = latest.MemoryMaxUsage,
            Failcnt = latest.MemoryFailcnt,

            // An unlimited cgroup reports a huge number (v1) or "max" (v2): show the host's memory, as Docker does.
            Limit = hostMemory > 0 && (latest.MemoryLimit == 0 || latest.MemoryLimit > hostMemory) ? hostMemory : latest.MemoryLimit,
            Stats = new Dictionary<string, ulong>(latest.MemoryStat) { ["oom_kill"] = latest.OomKills },
        },
        Networks = latest is null || latest.Networks.Count == 0 ? null : latest.Networks.ToDictionary(n => n.Name, n => new NetworkView
        {
            RxBytes = n.RxBytes,
            RxPackets = n.RxPackets,
            RxErrors = n.RxErrors,
            RxDropped = n.RxDropped,
            TxBytes = n.TxBytes,
            TxPackets = n.TxPackets,
            TxErrors = n.TxErrors,
            TxDropped = n.TxDropped,
        }),
    };

    private static CpuView Cpu(RawSample? s) => s is null ? new CpuView() : new CpuView
    {
        CpuUsage = new CpuUsageView { TotalUsage = s.CpuTotalNanos, PercpuUsage = s.PerCpuNanos?.ToList(), UsageInKernelmode = s.CpuKernelNanos, UsageInUsermode = s.CpuUserNanos },
        SystemCpuUsage = s.SystemNanos,
        OnlineCpus = (uint)s.OnlineCpus,
        ThrottlingData = new ThrottlingView { Periods = s.ThrottlePeriods, ThrottledPeriods = s.ThrottledPeriods, ThrottledTime = s.ThrottledNanos },
    };

    private static async Task<IResult> HistoryAsync(string id, HttpRequest request, ContainerManager manager, TimeProvider time, CancellationToken ct)
    {
        var container = await manager.GetAsync(id, ct);
        var now = time.GetUtcNow();
        var to = request.QueryUnixNano("to") is { } t ? DateTimeOffset.UnixEpoch.AddTicks(t / 100) : now;
        var from = request.QueryUnixNano("from") is { } f ? DateTimeOffset.UnixEpoch.AddTicks(f / 100) : to - TimeSpan.FromHours(1);
        if (from >= to)
        {
            throw new EngineException(ErrorKind.InvalidArgument, "from must be before to");
        }

        var step = request.QueryInt("step") ?? (int)Math.Max(10, (to - from).TotalSeconds / 300);
        if (step <= 0)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid step: {step}");
        }

        var resolution = Rollup.ChooseResolution(from, now, step);
        var stored = await manager.Store.QueryStatsAsync(container.Id, resolution, from.ToUnixTimeSeconds(), to.ToUnixTimeSeconds(), ct);
        var effective = step > resolution ? step - (step % resolution) : resolution;
        var points = Rollup.Merge(stored, effective);
        return DockerJson.Json(new HistoryView
        {
            Id = container.Id,
            Resolution = resolution,
            Step = points.Count > 0 ? points[0].Resolution : effective,
            Samples = points.Select(p => new HistoryPoint
            {
                Time = p.TimeSeconds,
                CpuPercent = Math.Round(Rollup.CpuPercent(p), 3),
                CpuNanos = p.CpuUsageNanos,
                CpuThrottledNanos = p.CpuThrottledNanos,
                MemoryUsage = p.MemoryUsage,
                MemoryLimit = p.MemoryLimit,
                MemoryCache = p.MemoryCache,
                Pids = p.Pids,
                BlockRead = p.BlockRead,
                BlockWrite = p.BlockWrite,
                NetRx = p.NetRx,
                NetTx = p.NetTx,
            }).ToList(),
        });
    }
}


public sealed class StatsView
{
    [JsonPropertyName("name")] public string Name { get; init; } = "";
    [JsonPropertyName("id")] public string Id { get; init; } = "";
    [JsonPropertyName("read")] public string Read { get; init; } = "";
    [JsonPropertyName("preread")] public string PreRead { get; init; } = "";
    [JsonPropertyName("pids_stats")] public PidsView PidsStats { get; init; } = new();
    [JsonPropertyName("blkio_stats")] public BlkioView BlkioStats { get; init; } = new();
    [JsonPropertyName("num_procs")] public uint NumProcs { get; init; }
    [JsonPropertyName("storage_stats")] public Dictionary<string, ulong> StorageStats { get; init; } = [];
    [JsonPropertyName("cpu_stats")] public CpuView CpuStats { get; init; } = new();
    [JsonPropertyName("precpu_stats")] public CpuView PreCpuStats { get; init; } = new();
    [JsonPropertyName("memory_stats")] public MemoryView MemoryStats { get; init; } = new();
    [JsonPropertyName("networks"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, NetworkView>? Networks { get; init; }
}

public sealed class PidsView
{
    [JsonPropertyName("current")] public ulong Current { get; init; }
    [JsonPropertyName("limit"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ulong? Limit { get; init; }
}

public sealed class BlkioView
{
    [JsonPropertyName("io_service_bytes_recursive")] public List<BlkioEntryView>? IoServiceBytesRecursive { get; init; }
}

public sealed class BlkioEntryView
{
    [JsonPropertyName("major")] public ulong Major { get; init; }
    [JsonPropertyName("minor")] public ulong Minor { get; init; }
    [JsonPropertyName("op")] public string Op { get; init; } = "";
    [JsonPropertyName("value")] public ulong Value { get; init; }
}

public sealed class CpuView
{
    [JsonPropertyName("cpu_usage")] public CpuUsageView CpuUsage { get; init; } = new();
    [JsonPropertyName("system_cpu_usage"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong SystemCpuUsage { get; init; }
    [JsonPropertyName("online_cpus"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public uint OnlineCpus { get; init; }
    [JsonPropertyName("throttling_data")] public ThrottlingView ThrottlingData { get; init; } = new();
}

public sealed class CpuUsageView
{
    [JsonPropertyName("total_usage")] public ulong TotalUsage { get; init; }
    [JsonPropertyName("percpu_usage"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<ulong>? PercpuUsage { get; init; }
    [JsonPropertyName("usage_in_kernelmode")] public ulong UsageInKernelmode { get; init; }
    [JsonPropertyName("usage_in_usermode")] public ulong UsageInUsermode { get; init; }
}

public sealed class ThrottlingView
{
    [JsonPropertyName("periods")] public ulong Periods { get; init; }
    [JsonPropertyName("throttled_periods")] public ulong ThrottledPeriods { get; init; }
    [JsonPropertyName("throttled_time")] public ulong ThrottledTime { get; init; }
}

public sealed class MemoryView
{
    [JsonPropertyName("usage"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Usage { get; init; }
    [JsonPropertyName("max_usage"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong MaxUsage { get; init; }
    [JsonPropertyName("stats"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, ulong>? Stats { get; init; }
    [JsonPropertyName("failcnt"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Failcnt { get; init; }
    [JsonPropertyName("limit"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Limit { get; init; }
}

public sealed class NetworkView
{
    [JsonPropertyName("rx_bytes")] public ulong RxBytes { get; init; }
    [JsonPropertyName("rx_packets")] public ulong RxPackets { get; init; }
    [JsonPropertyName("rx_errors")] public ulong RxErrors { get; init; }
    [JsonPropertyName("rx_dropped")] public ulong RxDropped { get; init; }
    [JsonPropertyName("tx_bytes")] public ulong TxBytes { get; init; }
    [JsonPropertyName("tx_packets")] public ulong TxPackets { get; init; }
    [JsonPropertyName("tx_errors")] public ulong TxErrors { get; init; }
    [JsonPropertyName("tx_dropped")] public ulong TxDropped { get; init; }
}

public sealed class HistoryView
{
    public string Id { get; init; } = "";
    public int Resolution { get; init; }
    public int Step { get; init; }
    public List<HistoryPoint> Samples { get; init; } = [];
}

public sealed class HistoryPoint
{
    public long Time { get; init; }
    public double CpuPercent { get; init; }
    public long CpuNanos { get; init; }
    public long CpuThrottledNanos { get; init; }
    public long MemoryUsage { get; init; }
    public long MemoryLimit { get; init; }
    public long MemoryCache { get; init; }
    public long Pids { get; init; }
    public long BlockRead { get; init; }
    public long BlockWrite { get; init; }
    public long NetRx { get; init; }
    public long NetTx { get; init; }
}
