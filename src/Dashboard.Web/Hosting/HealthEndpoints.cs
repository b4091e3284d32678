using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Dashboard.Web.Engines;
using Dashboard.Web.Identity;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Web.Hosting;

/// <summary>
/// <c>/readyz</c> (Identity database open and migrated, the default engine answers <c>/_ping</c>; the individual checks
/// only for loopback callers) for anyone, and
/// <c>/metrics</c> (Prometheus text) for loopback clients only. <c>/healthz</c> is mapped by <see cref="WebApp"/>.
/// The metrics stay off the public port because they describe the host (request rates per route, memory, open
/// circuits) and a scraper cannot carry the sign-in cookie; a request that names a forwarded client
/// (X-Forwarded-For, Forwarded) came through a reverse proxy and is refused too, though it arrives from loopback.
/// </summary>
public static class HealthEndpoints
{
    private static readonly TimeSpan s_checkTimeout = TimeSpan.FromSeconds(3);

    public static void MapHealthEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var metrics = new PrometheusMetrics(app.Services.GetService<IMeterFactory>(), "Dashboard.Web");
        app.Lifetime.ApplicationStopped.Register(metrics.Dispose);

        app.MapGet("/readyz", async (HttpContext context) =>
        {
            var checks = await CheckAsync(context.RequestServices, context.RequestAborted);
            var ready = checks.All(c => c.Value == "ok");
            context.Response.Headers.CacheControl = "no-store";

            // Anonymous remote callers (load balancers) get the verdict only: the checks name paths and errors.
            return Json(ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, ready ? "ready" : "not ready", IsLocalScrape(context) ? checks : null);
        }).AllowAnonymous();
        app.MapGet("/metrics", (HttpContext context) =>
        {
            if (!IsLocalScrape(context))
            {
                return Results.NotFound();
            }

            var version = typeof(HealthEndpoints).Assembly.GetName().Version?.ToString() ?? "0";
            var extra = new[]
            {
                new MetricFamily("dashboard_web_info", "gauge", "web UI version", [([KeyValuePair.Create("version", version)], 1)]),
            };
            return Results.Text(metrics.Render(extra), PrometheusMetrics.ContentType);
        }).AllowAnonymous();
    }

    /// <summary>A scrape from this host that no proxy forwarded.</summary>
    public static bool IsLocalScrape(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var remote = context.Connection.RemoteIpAddress;
        return remote is not null && IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote) &&
               !context.Request.Headers.ContainsKey("X-Forwarded-For") &&
               !context.Request.Headers.ContainsKey("Forwarded");
    }

    /// <summary>Each readiness check by name: "ok" or what is wrong.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> CheckAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        var checks = new SortedDictionary<string, string>(StringComparer.Ordinal);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_checkTimeout);
        try
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<WebDbContext>();
            var pending = (await db.Database.GetPendingMigrationsAsync(timeout.Token)).ToList();
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

        var configured = services.GetRequiredService<IOptions<DashboardOptions>>().Value.Engines;
        var engine = EngineEndpoint.Parse(configured.Count == 0 ? "unix:///run/dashboard/engine.sock" : configured[0], 0);
        checks["engine"] = await PingAsync(engine.Uri, timeout.Token, cancellationToken);
        return checks;
    }

    /// <summary>GET /_ping on the engine; "ok" on 200. Over a unix socket this also proves the socket group lets us in.</summary>
    private static async Task<string> PingAsync(Uri engine, CancellationToken timeout, CancellationToken aborted)
    {
        var unix = engine.Scheme == "unix";
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = unix
                ? async (_, ct) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(engine.AbsolutePath), ct);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                }
                : null,
        };
        if (engine.Scheme == "tcp")
        {
            // A remote engine needs its mTLS client (DockerEngineClient); readiness only asks whether it accepts connections.
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(engine.Host, engine.Port, timeout);
                return "ok";
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !aborted.IsCancellationRequested)
            {
                return $"{engine}: {(e is OperationCanceledException ? "timed out" : e.Message)}";
            }
        }

        using var client = new HttpClient(handler) { BaseAddress = unix ? new Uri("http://engine/") : engine };
        try
        {
            using var response = await client.GetAsync(new Uri("_ping", UriKind.Relative), timeout);
            return response.StatusCode == HttpStatusCode.OK ? "ok" : $"{engine}: /_ping answered {(int)response.StatusCode}";
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !aborted.IsCancellationRequested)
        {
            return $"{engine}: {(e is OperationCanceledException ? "timed out" : e.InnerException?.Message ?? e.Message)}";
        }
    }

    private static IResult Json(int status, string text, IReadOnlyDictionary<string, string>? checks)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", text);
            if (checks is not null)
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
