using System.Diagnostics.Metrics;
using System.Text.Json;
using Dashboard.Engine.Api;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Store;

namespace Dashboard.Engine.Hosting;

/// <summary>
/// <c>/healthz</c> (the process answers: <c>ok</c>, as the web UI's), <c>/readyz</c> (database open and migrated, runtime binary present) and
/// <c>/metrics</c> (Prometheus text) on the engine socket. They need no more than the socket itself: its peer
/// credential check (root or the socket group) already decides who may ask.
/// </summary>
public static class HealthEndpoints
{
    private static readonly TimeSpan s_checkTimeout = TimeSpan.FromSeconds(5);

    public static void MapHealthEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var metrics = new PrometheusMetrics(app.Services.GetService<IMeterFactory>(), "Dashboard.Engine");
        app.Lifetime.ApplicationStopped.Register(metrics.Dispose);

        app.MapMethods("/healthz", ["GET", "HEAD"], () => Results.Text("ok", "text/plain; charset=utf-8"));
        app.MapGet("/readyz", async (HttpContext context) =>
        {
            var checks = await CheckAsync(context.RequestServices, context.RequestAborted);
            var ready = checks.All(c => c.Value == "ok");
            return Json(ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, ready ? "ready" : "not ready", checks);
        });
        app.MapGet("/metrics", async (HttpContext context, IContainerStore store) =>
        {
            var containers = await store.ListContainersAsync(context.RequestAborted);
            var byState = Enum.GetValues<ContainerPhase>()
                .Select(p => ((IReadOnlyList<KeyValuePair<string, string>>)[KeyValuePair.Create("state", p.ToApiString())], (double)containers.Count(c => c.State.Status == p)))
                .ToList();
            var extra = new[]
            {
                new MetricFamily("dashboard_engine_info", "gauge", "engine and API version", [([KeyValuePair.Create("version", ApiPipeline.EngineVersion), KeyValuePair.Create("api_version", ApiPipeline.ApiVersion)], 1)]),
                new MetricFamily("dashboard_engine_containers", "gauge", "containers by state", byState),
            };
            return Results.Text(metrics.Render(extra), PrometheusMetrics.ContentType);
        });
    }

    /// <summary>Each readiness check by name: "ok" or what is wrong.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> CheckAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.GetRequiredService<EngineOptions>();
        var checks = new SortedDictionary<string, string>(StringComparer.Ordinal);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_checkTimeout);
        try
        {
            await using var connection = await services.GetRequiredService<EngineDatabase>().OpenAsync(timeout.Token);
            var pending = await StoreMigrations.PendingAsync(connection, timeout.Token);
            checks["database"] = pending.Count == 0 ? "ok" : $"{pending.Count} migrations not applied";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            checks["database"] = "timed out";
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or InvalidOperationException or IOException)
        {
            checks["database"] = e.Message;
        }

        var runtime = options.ResolveRuntimePath();
        checks["runtime"] = !File.Exists(runtime)
            ? $"{runtime}: no such file or directory"
            : (File.GetUnixFileMode(runtime) & UnixFileMode.UserExecute) == 0 ? $"{runtime}: not executable" : "ok";
        return checks;
    }

    private static IResult Json(int status, string text, IReadOnlyDictionary<string, string> checks)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", text);
            if (checks.Count > 0)
            {
                json.WriteStartObject("checks");
                foreach (var (name, value) in checks)
                {
                    json.WriteString(name, value);
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return Results.Text(System.Text.Encoding.UTF8.GetString(buffer.ToArray()), "application/json", System.Text.Encoding.UTF8, status);
    }
}
