using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Dashboard.Web.Tests.Engines;

/// <summary>
/// A minimal Docker Engine API on a unix socket in a temp dir, answering the way dockerd and our engine do, so
/// <see cref="Dashboard.Web.Engines.DockerEngineClient"/> is tested through the real Docker.DotNet transport.
/// </summary>
public sealed class FakeDockerApi : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-web-docker-").FullName;
    private WebApplication? _app;

    public string SocketPath => Path.Combine(_dir, "engine.sock");

    public Uri Uri => new($"unix://{SocketPath}");

    public List<string> Requests { get; } = [];

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(SocketPath));
        _app = builder.Build();
        _app.Run(HandleAsync);
        await _app.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        lock (Requests)
        {
            Requests.Add($"{context.Request.Method} {path}{context.Request.QueryString}");
        }

        // Strip the /v1.xx prefix the client adds.
        if (path.StartsWith("/v", StringComparison.Ordinal) && path.IndexOf('/', 1) is var slash and > 0)
        {
            path = path[slash..];
        }

        switch (context.Request.Method, path)
        {
            case ("GET", "/_ping"):
                await context.Response.WriteAsync("OK");
                return;
            case ("GET", "/version"):
                await JsonAsync(context, new { ApiVersion = "1.43", Version = "0.1.0", MinAPIVersion = "1.24" });
                return;
            case ("GET", "/containers/json"):
                await JsonAsync(context, new object[]
                {
                    new
                    {
                        Id = "aaaa1111bbbb2222", Names = new[] { "/web" }, Image = "nginx:1", State = "running", Status = "Up 2 minutes",
                        Created = 1_764_460_800, Ports = new[] { new { IP = "0.0.0.0", PrivatePort = 80, PublicPort = 8080, Type = "tcp" } },
                        Labels = new Dictionary<string, string> { ["app"] = "web" },
                    },
                });
                return;
            case ("GET", "/containers/aaaa1111bbbb2222/json"):
                await JsonAsync(context, new
                {
                    Id = "aaaa1111bbbb2222",
                    Name = "/web",
                    Created = "2026-11-30T00:00:00Z",
                    RestartCount = 2,
                    State = new { Status = "exited", Running = false, ExitCode = 137, OOMKilled = true, StartedAt = "2026-11-30T00:00:01.123456789Z", FinishedAt = "2026-11-30T00:05:00Z" },
                    Config = new { Image = "nginx:1", Env = new[] { "A=1", "TOKEN=x" }, Cmd = new[] { "nginx", "-g", "daemon off;" }, Tty = false },
                    NetworkSettings = new { Ports = new Dictionary<string, object?> { ["80/tcp"] = new[] { new { HostIp = "127.0.0.1", HostPort = "8080" } }, ["443/tcp"] = null } },
                    Mounts = new[] { new { Type = "bind", Source = "/srv", Destination = "/usr/share/nginx/html", RW = false } },
                });
                return;
            case ("POST", "/containers/aaaa1111bbbb2222/start"):
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            case ("POST", "/containers/aaaa1111bbbb2222/stop"):
                context.Response.StatusCode = StatusCodes.Status409Conflict;
                await JsonAsync(context, new { message = "container aaaa1111bbbb2222 is not running" }, StatusCodes.Status409Conflict);
                return;
            case ("GET", "/containers/aaaa1111bbbb2222/logs"):
                await LogsAsync(context);
                return;
            case ("GET", "/events"):
                await EventsAsync(context);
                return;
        }

        await JsonAsync(context, new { message = $"No such container: {path.Split('/').ElementAtOrDefault(2)}" }, StatusCodes.Status404NotFound);
    }

    private static async Task LogsAsync(HttpContext context)
    {
        context.Response.ContentType = "application/vnd.docker.multiplexed-stream";
        await context.Response.StartAsync();
        await FrameAsync(context, 1, "2026-11-30T00:00:00.000000001Z first line\n2026-11-30T00:00:00.000000002Z sec");
        await FrameAsync(context, 1, "ond line\n");
        await FrameAsync(context, 2, "2026-11-30T00:00:01.000000000Z \x1b[31moops\x1b[0m\n");
        await FrameAsync(context, 1, "2026-11-30T00:00:02.000000000Z no newline at end");
    }

    private static async Task FrameAsync(HttpContext context, byte stream, string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var header = new byte[8];
        header[0] = stream;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)payload.Length);
        await context.Response.Body.WriteAsync(header);
        await context.Response.Body.WriteAsync(payload);
        await context.Response.Body.FlushAsync();
    }

    private static async Task EventsAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync();
        foreach (var (action, id) in new[] { ("start", "aaaa1111bbbb2222"), ("die", "cccc3333") })
        {
            var json = JsonSerializer.Serialize(new { Type = "container", Action = action, Actor = new { ID = id, Attributes = new Dictionary<string, string> { ["name"] = "web" } }, time = 1_764_460_800, timeNano = 1_764_460_800_000_000_000 });
            await context.Response.WriteAsync(json + "\n");
            await context.Response.Body.FlushAsync();
        }

        try
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task JsonAsync(HttpContext context, object value, int status = StatusCodes.Status200OK)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(value));
    }
}
