using System.Globalization;
using System.Runtime.InteropServices;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Events;
using Dashboard.Engine.Hosting;
using Dashboard.Engine.Images;
using Dashboard.Engine.Store;

namespace Dashboard.Engine.Api;

/// <summary><c>/_ping</c>, <c>/version</c>, <c>/info</c>, <c>/events</c> and <c>/auth</c>.</summary>
public static class SystemEndpoints
{
    public static void MapSystemEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/_ping", ["GET", "HEAD"], (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-cache, no-store, must-revalidate";
            context.Response.Headers.Pragma = "no-cache";
            context.Response.Headers["Builder-Version"] = "";
            return Results.Text("OK", "text/plain; charset=utf-8");
        });
        app.MapGet("/version", () => DockerJson.Json(Version()));
        app.MapGet("/info", InfoAsync);
        app.MapGet("/events", EventsAsync);
        app.MapPost("/auth", AuthAsync);
    }

    /// <summary>
    /// <c>docker login</c>: checks the AuthConfig body's credentials against its registry. Nothing is stored; the
    /// client keeps the credentials and sends them with each push or pull as <c>X-Registry-Auth</c>.
    /// </summary>
    private static async Task<IResult> AuthAsync(HttpRequest request, ImageService images, CancellationToken ct)
    {
        var (credentials, server) = RegistryAuthHeader.FromJson((await DockerJson.ReadBodyBytesAsync(request, ct)).Span);
        if (credentials is null)
        {
            throw new EngineException(ErrorKind.InvalidArgument, "login: a username is required");
        }

        await images.LoginAsync(server, credentials, ct);
        return DockerJson.Json(new Dictionary<string, string> { ["Status"] = "Login Succeeded", ["IdentityToken"] = "" });
    }

    public static Dictionary<string, object?> Version()
    {
        var kernel = ReadFirstLine("/proc/sys/kernel/osrelease");
        var arch = GoArch();
        return new Dictionary<string, object?>
        {
            ["Platform"] = new Dictionary<string, string> { ["Name"] = "Dashboard Engine" },
            ["Components"] = new[]
            {
                new Dictionary<string, object>
                {
                    ["Name"] = "Engine",
                    ["Version"] = ApiPipeline.EngineVersion,
                    ["Details"] = new Dictionary<string, string>
                    {
                        ["ApiVersion"] = ApiPipeline.ApiVersion,
                        ["MinAPIVersion"] = ApiPipeline.MinApiVersion,
                        ["Os"] = "linux",
                        ["Arch"] = arch,
                        ["KernelVersion"] = kernel,
                    },
                },
            },
            ["Version"] = ApiPipeline.EngineVersion,
            ["ApiVersion"] = ApiPipeline.ApiVersion,
            ["MinAPIVersion"] = ApiPipeline.MinApiVersion,
            ["GitCommit"] = "",
            ["GoVersion"] = RuntimeInformation.FrameworkDescription,
            ["Os"] = "linux",
            ["Arch"] = arch,
            ["KernelVersion"] = kernel,
            ["BuildTime"] = "",
        };
    }

    private static async Task<IResult> InfoAsync(EngineOptions options, IContainerStore store, IImageSource images, EventBus events, TimeProvider time, CancellationToken ct)
    {
        var containers = await store.ListContainersAsync(ct);
        var imageCount = (await images.ListAsync(ct)).Count;
        var cgroupV2 = File.Exists("/sys/fs/cgroup/cgroup.controllers");
        return DockerJson.Json(new Dictionary<string, object?>
        {
            ["ID"] = MachineId(),
            ["Containers"] = containers.Count,
            ["ContainersRunning"] = containers.Count(c => c.State.Status is ContainerPhase.Running or ContainerPhase.Restarting),
            ["ContainersPaused"] = containers.Count(c => c.State.Status == ContainerPhase.Paused),
            ["ContainersStopped"] = containers.Count(c => !c.State.Status.IsActive()),
            ["Images"] = imageCount,
            ["Driver"] = "dashboard",
            ["DriverStatus"] = Array.Empty<string[]>(),
            ["DockerRootDir"] = options.DataRoot,
            ["Plugins"] = new Dictionary<string, string[]> { ["Volume"] = [], ["Network"] = [], ["Authorization"] = [], ["Log"] = [] },
            ["MemoryLimit"] = true,
            ["SwapLimit"] = File.Exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes") || cgroupV2,
            ["CpuCfsPeriod"] = true,
            ["CpuCfsQuota"] = true,
            ["CPUShares"] = true,
            ["CPUSet"] = true,
            ["PidsLimit"] = true,
            ["OomKillDisable"] = false,
            ["IPv4Forwarding"] = ReadFirstLine("/proc/sys/net/ipv4/ip_forward") == "1",
            ["Debug"] = false,
            ["NFd"] = Directory.Exists("/proc/self/fd") ? Directory.GetFileSystemEntries("/proc/self/fd").Length : 0,
            ["NGoroutines"] = System.Diagnostics.Process.GetCurrentProcess().Threads.Count,
            ["SystemTime"] = ApiPipeline.FormatTime(time.GetUtcNow()),
            ["LoggingDriver"] = "local",
            ["CgroupDriver"] = "cgroupfs",
            ["CgroupVersion"] = cgroupV2 ? "2" : "1",
            ["NEventsListener"] = events.SubscriberCount,
            ["KernelVersion"] = ReadFirstLine("/proc/sys/kernel/osrelease"),
            ["OperatingSystem"] = OsRelease("PRETTY_NAME") ?? "Linux",
            ["OSVersion"] = OsRelease("VERSION_ID") ?? "",
            ["OSType"] = "linux",
            ["Architecture"] = RuntimeInformation.OSArchitecture == Architecture.X64 ? "x86_64" : RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(),
            ["NCPU"] = Environment.ProcessorCount,
            ["MemTotal"] = MemTotal(),
            ["IndexServerAddress"] = "",
            ["RegistryConfig"] = new Dictionary<string, object>
            {
                ["InsecureRegistryCIDRs"] = Array.Empty<string>(),
                ["IndexConfigs"] = new Dictionary<string, object>(),
                ["Mirrors"] = Array.Empty<string>(),
            },
            ["HttpProxy"] = "",
            ["HttpsProxy"] = "",
            ["NoProxy"] = "",
            ["Name"] = Environment.MachineName,
            ["Labels"] = Array.Empty<string>(),
            ["ExperimentalBuild"] = false,
            ["ServerVersion"] = ApiPipeline.EngineVersion,
            ["Runtimes"] = new Dictionary<string, object> { ["dashboard-runtime"] = new Dictionary<string, string> { ["path"] = options.ResolveRuntimePath() } },
            ["DefaultRuntime"] = "dashboard-runtime",
            ["Swarm"] = new Dictionary<string, object> { ["LocalNodeState"] = "inactive", ["NodeID"] = "", ["NodeAddr"] = "", ["ControlAvailable"] = false, ["Error"] = "", ["RemoteManagers"] = Array.Empty<object>() },
            ["LiveRestoreEnabled"] = true,
            ["Isolation"] = "",
            ["InitBinary"] = "",
            ["SecurityOptions"] = new[] { "name=seccomp,profile=default" },
            ["Warnings"] = Array.Empty<string>(),
        });
    }

    private static async Task EventsAsync(HttpContext context, IContainerStore store, EventBus bus, TimeProvider time, CancellationToken ct)
    {
        var request = context.Request;
        var since = request.QueryUnixNano("since");
        var until = request.QueryUnixNano("until");
        var filters = DockerFilters.Parse(request.Query["filters"], "type", "event", "container", "image", "label", "scope", "volume", "network", "daemon", "node", "service", "secret", "config", "plugin");
        var containers = filters.Has("container") ? await store.ListContainersAsync(ct) : [];

        bool Wanted(EngineEvent e)
        {
            if (filters.Has("type") && !filters.Get("type").Contains(e.Type))
            {
                return false;
            }

            if (filters.Has("event") && !filters.Get("event").Any(a => a == e.Action || e.Action.StartsWith(a + ":", StringComparison.Ordinal)))
            {
                return false;
            }

            if (filters.Has("container"))
            {
                var name = e.Attributes.TryGetValue("name", out var n) ? n : "";
                if (e.Type != "container" || !filters.Get("container").Any(c => c == e.ActorId || c.TrimStart('/') == name
                    || (c.Length >= 1 && e.ActorId.StartsWith(c, StringComparison.Ordinal)) || containers.Any(x => x.Id == e.ActorId && x.Name == c.TrimStart('/'))))
                {
                    return false;
                }
            }

            if (filters.Has("image") && !filters.Get("image").Any(i => e.Attributes.TryGetValue("image", out var img) && img == i))
            {
                return false;
            }

            return filters.Has("scope") ? filters.Get("scope").Contains("local") && filters.MatchLabels(e.Attributes) : filters.MatchLabels(e.Attributes);
        }

        var nowNano = (time.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
        using var live = until is null || until > nowNano ? bus.Subscribe() : null;
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync(ct);
        var body = context.Response.Body;
        long lastSeq = 0;
        if (since is not null || until is not null)
        {
            foreach (var e in await store.ListEventsAsync(since, until, ct))
            {
                lastSeq = e.Seq;
                if (Wanted(e))
                {
                    await WriteEventAsync(body, e, ct);
                }
            }

            await body.FlushAsync(ct);
        }

        if (live is null)
        {
            return;
        }

        using var deadline = until is { } u ? new CancellationTokenSource(TimeSpan.FromTicks(Math.Max(0, (u - nowNano) / 100)), time) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            await foreach (var e in live.Reader.ReadAllAsync(linked.Token))
            {
                if (e.Seq <= lastSeq || !Wanted(e))
                {
                    continue;
                }

                await WriteEventAsync(body, e, linked.Token);
                await body.FlushAsync(linked.Token);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
        }
    }

    private static async Task WriteEventAsync(Stream body, EngineEvent e, CancellationToken ct)
    {
        var message = new EventMessage
        {
            Status = e.Type == "container" ? e.Action : null,
            Id = e.Type == "container" ? e.ActorId : null,
            From = e.Type == "container" && e.Attributes.TryGetValue("image", out var image) ? image : null,
            Type = e.Type,
            Action = e.Action,
            Actor = new EventActor { ID = e.ActorId, Attributes = new Dictionary<string, string>(e.Attributes, StringComparer.Ordinal) },
            Time = e.TimeNano / 1_000_000_000,
            TimeNano = e.TimeNano,
        };
        await System.Text.Json.JsonSerializer.SerializeAsync(body, message, DockerJson.Info<EventMessage>(DockerJson.Storage), ct);
        await body.WriteAsync("\n"u8.ToArray(), ct);
    }

    private static string GoArch() => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        Architecture.Arm => "arm",
        var a => a.ToString().ToLowerInvariant(),
    };

    private static string ReadFirstLine(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadLines(path).FirstOrDefault()?.Trim() ?? "" : "";
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static string MachineId() => ReadFirstLine("/etc/machine-id");

    private static string? OsRelease(string key)
    {
        foreach (var path in new[] { "/etc/os-release", "/usr/lib/os-release" })
        {
            if (!File.Exists(path))
            {
                continue;
            }

            foreach (var line in File.ReadLines(path))
            {
                if (line.StartsWith(key + "=", StringComparison.Ordinal))
                {
                    return line[(key.Length + 1)..].Trim('"');
                }
            }
        }

        return null;
    }

    private static long MemTotal()
    {
        var line = File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)) : null;
        var parts = line?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return parts is { Length: >= 2 } && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var kb) ? kb * 1024 : 0;
    }
}
