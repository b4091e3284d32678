using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Logs;

namespace Dashboard.Engine.Api;

/// <summary>The <c>/containers</c> part of the Docker Engine API (v1.43 shapes and status codes).</summary>
public static class ContainerEndpoints
{
    public static void MapContainerEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/containers/json", ListAsync);
        app.MapPost("/containers/create", CreateAsync);
        app.MapPost("/containers/prune", PruneAsync);
        app.MapGet("/containers/{id}/json", async (string id, ContainerManager manager, HealthMonitor health, CancellationToken ct) =>
        {
            var container = await manager.GetAsync(id, ct);
            return DockerJson.Json(Inspect(container, health.Get(container.Id)));
        });
        app.MapPost("/containers/{id}/start", async (string id, ContainerManager manager, CancellationToken ct) =>
        {
            await manager.StartAsync(id, ct);
            return Results.NoContent();
        });
        app.MapPost("/containers/{id}/stop", async (string id, HttpRequest request, ContainerManager manager, CancellationToken ct) =>
        {
            await manager.StopAsync(id, request.QueryInt("t"), NullIfEmpty(request.Query["signal"]), ct);
            return Results.NoContent();
        });
        app.MapPost("/containers/{id}/restart", async (string id, HttpRequest request, ContainerManager manager, CancellationToken ct) =>
        {
            await manager.RestartAsync(id, request.QueryInt("t"), NullIfEmpty(request.Query["signal"]), ct);
            return Results.NoContent();
        });
        app.MapPost("/containers/{id}/kill", async (string id, HttpRequest request, ContainerManager manager, CancellationToken ct) =>
        {
            await manager.KillAsync(id, NullIfEmpty(request.Query["signal"]), ct);
            return Results.NoContent();
        });
        app.MapPost("/containers/{id}/pause", async (string id, ContainerManager manager, CancellationToken ct) =>
        {
            await manager.PauseAsync(id, ct);
            return Results.NoContent();
        });
        app.MapPost("/containers/{id}/unpause", async (string id, ContainerManager manager, CancellationToken ct) =>
        {
            await manager.UnpauseAsync(id, ct);
            return Results.NoContent();
        });
        app.MapPost("/containers/{id}/rename", async (string id, HttpRequest request, ContainerManager manager, CancellationToken ct) =>
        {
            await manager.RenameAsync(id, request.Query["name"].ToString(), ct);
            return Results.NoContent();
        });
        app.MapDelete("/containers/{id}", async (string id, HttpRequest request, ContainerManager manager, CancellationToken ct) =>
        {
            if (request.QueryBool("link"))
            {
                throw new EngineException(ErrorKind.InvalidArgument, "links are not supported by this engine");
            }

            await manager.RemoveAsync(id, request.QueryBool("force"), request.QueryBool("v"), ct);
            return Results.NoContent();
        });
        app.MapGet("/containers/{id}/top", async (string id, HttpRequest request, ContainerManager manager, CancellationToken ct) =>
        {
            var psArgs = request.Query["ps_args"].ToString();
            if (psArgs is not ("" or "-ef" or "ef"))
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"ps_args '{psArgs}' is not supported by this engine; top always shows the columns of ps -ef");
            }

            return DockerJson.Json(await manager.TopAsync(id, ct));
        });
        app.MapPost("/containers/{id}/wait", WaitAsync);
        app.MapGet("/containers/{id}/logs", LogsAsync);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static async Task<IResult> CreateAsync(HttpRequest request, ContainerManager manager, CancellationToken ct)
    {
        var name = NullIfEmpty(request.Query["name"]);
        var platform = request.Query["platform"].ToString();
        if (platform is not ("" or "linux" or "linux/amd64" or "linux/x86_64"))
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"platform {platform} is not supported by this engine");
        }

        var body = await DockerJson.ReadBodyAsync<ContainerCreateBody>(request, ct)
            ?? throw new EngineException(ErrorKind.InvalidArgument, "config cannot be empty in order to create a container");
        return DockerJson.Json(await manager.CreateAsync(name, body, ct), StatusCodes.Status201Created);
    }

    private static async Task<IResult> ListAsync(HttpRequest request, ContainerManager manager, HealthMonitor health, Images.ImageService images, TimeProvider time, CancellationToken ct)
    {
        var all = request.QueryBool("all");
        var limit = request.QueryInt("limit") ?? -1;
        var filters = DockerFilters.Parse(request.Query["filters"], ContainerListFilters.Keys);
        var compiled = ContainerListFilters.Compile(filters);
        var ancestors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var a in filters.Get("ancestor"))
        {
            if (await images.FindAsync(a, ct) is { } image)
            {
                ancestors.Add(image.Id.ToString());
            }
        }
        var containers = await manager.Store.ListContainersAsync(ct);
        foreach (var status in filters.Get("status"))
        {
            _ = status switch
            {
                "created" or "restarting" or "running" or "removing" or "paused" or "exited" or "dead" => 0,
                _ => throw new EngineException(ErrorKind.InvalidArgument, $"invalid filter 'status={status}'"),
            };
        }

        foreach (var value in filters.Get("health"))
        {
            if (value is not (HealthMonitor.Starting or HealthMonitor.Healthy or HealthMonitor.Unhealthy or HealthMonitor.None))
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid filter 'health={value}'. Valid values are: starting, healthy, unhealthy, none");
            }
        }

        IEnumerable<ContainerRecord> query = containers;
        if (filters.Has("before") || filters.Has("since"))
        {
            var before = filters.Get("before").Select(r => containers.FirstOrDefault(c => Matches(c, r)) ?? throw EngineException.NoSuchContainer(r)).ToList();
            var since = filters.Get("since").Select(r => containers.FirstOrDefault(c => Matches(c, r)) ?? throw EngineException.NoSuchContainer(r)).ToList();
            query = query.Where(c => before.All(b => c.Created < b.Created) && since.All(s => c.Created > s.Created));
        }

        query = query.Where(c =>
            (all || filters.Has("status") || c.State.Status.IsActive())
            && (!filters.Has("status") || filters.Get("status").Contains(c.State.Status.ToApiString()))
            && (!filters.Has("name") || filters.Get("name").Any(n => c.Name.Contains(n.TrimStart('/'), StringComparison.Ordinal)))
            && (!filters.Has("id") || filters.Get("id").Any(i => c.Id.StartsWith(i, StringComparison.Ordinal)))
            && (!filters.Has("ancestor") || ancestors.Contains(c.ImageId) || filters.Get("ancestor").Any(a => a == c.Image || a == c.ImageId || c.ImageId == "sha256:" + a))
            && (!filters.Has("exited") || (c.State.Status == ContainerPhase.Exited && filters.Get("exited").Contains(c.State.ExitCode.ToString(CultureInfo.InvariantCulture))))
            && (!filters.Has("health") || filters.Get("health").Contains(health.FilterStatus(c)))
            && filters.MatchLabels(c.Config.Labels));
        var now = time.GetUtcNow();
        var views = query.Select(c => Summary(c, now, health.Get(c.Id))).Where(v => ContainerListFilters.Matches(v, filters, compiled));
        if (limit > 0)
        {
            views = views.Take(limit);
        }

        return DockerJson.Json(views.ToList());
    }

    private static bool Matches(ContainerRecord c, string reference) =>
        c.Id == reference || c.Name == reference.TrimStart('/') || (reference.Length >= 1 && c.Id.StartsWith(reference, StringComparison.Ordinal));

    private static async Task<IResult> PruneAsync(HttpRequest request, ContainerManager manager, TimeProvider time, CancellationToken ct)
    {
        var filters = DockerFilters.Parse(request.Query["filters"], "until", "label", "label!");
        DateTimeOffset? until = null;
        foreach (var value in filters.Get("until"))
        {
            until = ParseUntil(value, time.GetUtcNow());
        }

        var result = await manager.PruneAsync(
            c => (until is null || c.Created < until) && filters.MatchLabels(c.Config.Labels)
                && !filters.Get("label!").Any(l => MatchesLabel(c.Config.Labels, l)),
            ct);
        return DockerJson.Json(result);
    }

    private static bool MatchesLabel(Dictionary<string, string>? labels, string expr)
    {
        var eq = expr.IndexOf('=', StringComparison.Ordinal);
        var key = eq < 0 ? expr : expr[..eq];
        return labels is not null && labels.TryGetValue(key, out var v) && (eq < 0 || v == expr[(eq + 1)..]);
    }

    /// <summary>Prune's <c>until</c>: a Unix timestamp, an RFC 3339 time, or a Go duration like <c>24h</c> / <c>10m</c>.</summary>
    private static DateTimeOffset ParseUntil(string value, DateTimeOffset now)
    {
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return DateTimeOffset.UnixEpoch.AddSeconds(seconds);
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time;
        }

        if (value.Length > 1 && double.TryParse(value[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
        {
            var unit = value[^1] switch { 's' => TimeSpan.FromSeconds(n), 'm' => TimeSpan.FromMinutes(n), 'h' => TimeSpan.FromHours(n), _ => (TimeSpan?)null };
            if (unit is { } u)
            {
                return now - u;
            }
        }

        throw new EngineException(ErrorKind.InvalidArgument, $"invalid filter 'until={value}'");
    }

    private static async Task WaitAsync(string id, HttpContext context, ContainerManager manager, CancellationToken ct)
    {
        var condition = context.Request.Query["condition"].ToString();
        if (condition is not ("" or "not-running" or "next-exit" or "removed"))
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid condition: \"{condition}\"");
        }

        await manager.GetAsync(id, ct);

        // Docker sends the headers at once and the body when the condition is met, so clients know the wait is armed.
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync(ct);
        await context.Response.Body.FlushAsync(ct);
        ContainerWaitResponse result;
        try
        {
            result = await manager.WaitAsync(id, condition, ct);
        }
        catch (EngineException e) when (e.Kind == ErrorKind.NotFound)
        {
            result = new ContainerWaitResponse(-1, new ContainerWaitError(e.Message));
        }

        // The headers are sent already: write the body directly (WriteAsJsonAsync would try to set Content-Type).
        await System.Text.Json.JsonSerializer.SerializeAsync(context.Response.Body, result, DockerJson.Info<ContainerWaitResponse>(DockerJson.Options), ct);
    }

    private static async Task LogsAsync(string id, HttpContext context, ContainerManager manager, CancellationToken ct)
    {
        var request = context.Request;
        var container = await manager.GetAsync(id, ct);
        var stdout = request.QueryBool("stdout");
        var stderr = request.QueryBool("stderr");
        if (!stdout && !stderr)
        {
            throw new EngineException(ErrorKind.InvalidArgument, "Bad parameters: you must choose at least one stream");
        }

        var tailText = request.Query["tail"].ToString();
        int? tail = tailText is "" or "all" ? null
            : int.TryParse(tailText, NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t
            : tailText.StartsWith('-') ? null
            : throw new EngineException(ErrorKind.InvalidArgument, $"invalid value for tail: {tailText}");
        var since = request.QueryUnixNano("since");
        var until = request.QueryUnixNano("until");
        var follow = request.QueryBool("follow");
        var timestamps = request.QueryBool("timestamps");
        var tty = container.Config.Tty;
        var options = new LogReadOptions
        {
            Tail = tail,
            SinceNano = since is > 0 ? since : null,
            UntilNano = until is > 0 ? until : null,
            Stdout = stdout,
            Stderr = stderr,
            Follow = follow && container.State.Status.IsActive() && until is null or <= 0,
        };

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream";
        await context.Response.StartAsync(ct);
        var body = context.Response.Body;
        var header = new byte[8];
        var stopped = options.Follow ? manager.StoppedTask(container.Id) : null;
        await foreach (var line in CriLog.ReadAsync(container.LogPath, options, stopped, ct))
        {
            var payload = timestamps
                ? [.. Encoding.ASCII.GetBytes(CriLog.FormatTimestamp(line.TimeNano) + " "), .. line.Content]
                : line.Content;
            if (!tty)
            {
                header[0] = (byte)line.Stream;
                BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)payload.Length);
                await body.WriteAsync(header, ct);
            }

            await body.WriteAsync(payload, ct);
            if (options.Follow)
            {
                await body.FlushAsync(ct);
            }
        }
    }

    public static ContainerSummaryView Summary(ContainerRecord c, DateTimeOffset now, HealthView? health = null)
    {
        var state = c.State;
        var status = state.Status switch
        {
            ContainerPhase.Running => "Up " + ApiPipeline.HumanDuration(now - (state.StartedAt ?? now)) + HealthSuffix(health),
            ContainerPhase.Paused => "Up " + ApiPipeline.HumanDuration(now - (state.StartedAt ?? now)) + " (Paused)",
            ContainerPhase.Restarting => $"Restarting ({state.ExitCode}) {ApiPipeline.HumanDuration(now - (state.FinishedAt ?? now))} ago",
            ContainerPhase.Removing => "Removal In Progress",
            ContainerPhase.Dead => "Dead",
            ContainerPhase.Exited when state.FinishedAt is null => "Created",
            ContainerPhase.Exited => $"Exited ({state.ExitCode}) {ApiPipeline.HumanDuration(now - state.FinishedAt.Value)} ago",
            _ => "Created",
        };
        var summary = new ContainerSummaryView
        {
            Id = c.Id,
            Names = ["/" + c.Name],
            Image = c.Image,
            ImageID = c.ImageId,
            Command = string.Join(' ', new[] { c.Path }.Concat(c.Args).Select(Quote)),
            Created = c.Created.ToUnixTimeSeconds(),
            Labels = c.Config.Labels ?? [],
            State = state.Status.ToApiString(),
            Status = status,
            HostConfig = new Dictionary<string, string> { ["NetworkMode"] = string.IsNullOrEmpty(c.HostConfig.NetworkMode) ? "default" : c.HostConfig.NetworkMode },
            Mounts = VolumeEndpoints.Mounts(c) ?? MountPoints(c.HostConfig),
        };
        Networking.NetworkViews.Apply(summary, c);
        return summary;
    }

    private static string Quote(string arg) => arg.Length > 0 && arg.All(ch => !char.IsWhiteSpace(ch) && ch is not ('"' or '\'')) ? arg : "\"" + arg.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>Docker's status suffix: <c> (healthy)</c>, <c> (unhealthy)</c>, <c> (health: starting)</c>.</summary>
    private static string HealthSuffix(HealthView? health) => health?.Status switch
    {
        null => "",
        HealthMonitor.Starting => " (health: starting)",
        var s => $" ({s})",
    };

    public static ContainerInspectView Inspect(ContainerRecord c, HealthView? health = null)
    {
        var s = c.State;
        var view = new ContainerInspectView
        {
            Id = c.Id,
            Created = ApiPipeline.FormatTime(c.Created),
            Path = c.Path,
            Args = [.. c.Args],
            State = new ContainerStateView
            {
                Status = s.Status.ToApiString(),
                Running = s.Status is ContainerPhase.Running or ContainerPhase.Paused,
                Paused = s.Status == ContainerPhase.Paused,
                Restarting = s.Status == ContainerPhase.Restarting,
                OOMKilled = s.OomKilled,
                Dead = s.Status == ContainerPhase.Dead,
                Pid = s.Pid,
                ExitCode = s.ExitCode,
                Error = s.Error,
                StartedAt = ApiPipeline.FormatTime(s.StartedAt),
                FinishedAt = ApiPipeline.FormatTime(s.FinishedAt),
                Health = health,
            },
            Image = c.ImageId,
            LogPath = c.LogPath,
            Name = "/" + c.Name,
            RestartCount = s.RestartCount,
            HostConfig = c.HostConfig,
            Mounts = VolumeEndpoints.Mounts(c) ?? MountPoints(c.HostConfig),
            Config = c.Config,
        };
        Networking.NetworkViews.Apply(view, c);
        return view;
    }

    private static List<MountPointView> MountPoints(HostConfig host)
    {
        var result = new List<MountPointView>();
        foreach (var bind in host.Binds ?? [])
        {
            var parts = bind.Split(':');
            if (parts.Length >= 2)
            {
                var ro = parts.Length == 3 && parts[2].Split(',').Contains("ro");
                result.Add(new MountPointView { Type = "bind", Source = parts[0], Destination = parts[1], Mode = parts.Length == 3 ? parts[2] : "", RW = !ro, Propagation = "rprivate" });
            }
        }

        foreach (var m in host.Mounts ?? [])
        {
            result.Add(new MountPointView { Type = m.Type ?? "", Source = m.Source ?? "", Destination = m.Target ?? "", RW = !m.ReadOnly, Propagation = m.Type == "bind" ? "rprivate" : "" });
        }

        return result;
    }
}
