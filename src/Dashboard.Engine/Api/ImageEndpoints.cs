using System.Globalization;
using System.Text.Json;
using Dashboard.Engine.Images;
using Microsoft.AspNetCore.Http.Features;

namespace Dashboard.Engine.Api;

/// <summary>The <c>/images</c> part of the Docker Engine API (v1.43 shapes and status codes).</summary>
public static class ImageEndpoints
{
    public static void MapImageEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/images/json", async (HttpRequest request, ImageService images, CancellationToken ct) =>
        {
            var filters = DockerFilters.Parse(request.Query["filters"], "dangling", "label", "reference", "before", "since", "until");
            return DockerJson.Json(await images.ListViewsAsync(filters, ct));
        });
        app.MapPost("/images/load", LoadAsync);
        app.MapPost("/images/create", PullAsync);
        app.MapGet("/images/get", async (HttpContext context, ImageService images, CancellationToken ct) =>
            await SaveAsync(context, images, context.Request.Query["names"].Where(n => !string.IsNullOrEmpty(n)).Select(n => n!).ToList(), ct));
        app.MapPost("/images/prune", async (HttpRequest request, ImageService images, TimeProvider time, CancellationToken ct) =>
        {
            var filters = DockerFilters.Parse(request.Query["filters"], "dangling", "until", "label", "label!");
            return DockerJson.Json(await images.PruneAsync(filters, v => ParseUntil(v, time.GetUtcNow()), ct));
        });

        // Image names contain '/' (localhost:5000/team/app), so the name is the path up to a known last segment.
        app.MapMethods("/images/{**path}", ["GET", "POST", "DELETE", "HEAD"], DispatchAsync);
    }

    private static async Task DispatchAsync(string path, HttpContext context, ImageService images, CancellationToken ct)
    {
        var request = context.Request;
        var method = request.Method;
        if (method == "DELETE")
        {
            var deleted = await images.RemoveAsync(path, request.QueryBool("force"), request.QueryBool("noprune"), ct);
            await DockerJson.Json(deleted).ExecuteAsync(context);
            return;
        }

        var slash = path.LastIndexOf('/');
        var (name, verb) = slash <= 0 ? (path, "") : (path[..slash], path[(slash + 1)..]);
        switch (method, verb)
        {
            case ("GET", "json"):
                await DockerJson.Json(await images.InspectAsync(name, ct)).ExecuteAsync(context);
                return;
            case ("GET", "history"):
                await DockerJson.Json(await images.HistoryAsync(name, ct)).ExecuteAsync(context);
                return;
            case ("GET", "get"):
                await SaveAsync(context, images, [name], ct);
                return;
            case ("POST", "tag"):
                await images.TagAsync(name, request.Query["repo"].ToString(), request.Query["tag"].ToString(), ct);
                context.Response.StatusCode = StatusCodes.Status201Created;
                return;
            case ("POST", "push"):
                await PushAsync(context, images, name, ct);
                return;
            default:
                await DockerJson.Json(new ErrorResponse("page not found"), StatusCodes.Status404NotFound).ExecuteAsync(context);
                return;
        }
    }

    /// <summary><c>POST /images/load</c>: the archive is the body; the answer is Docker's JSON message stream.</summary>
    private static async Task LoadAsync(HttpContext context, ImageService images, CancellationToken ct)
    {
        // Image archives are far larger than Kestrel's default body limit.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }

        var lines = await images.LoadAsync(context.Request.Body, ct);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        foreach (var line in lines)
        {
            await WriteMessageAsync(context.Response.Body, new ProgressMessage { Stream = line + "\n" }, ct);
        }
    }

    /// <summary>
    /// <c>POST /images/create?fromImage=&amp;tag=</c>: a pull, answered with Docker's progress stream.
    /// Once the stream has started, a failure is reported in it (<c>errorDetail</c>), as Docker does.
    /// </summary>
    private static async Task PullAsync(HttpContext context, ImageService images, CancellationToken ct)
    {
        var request = context.Request;
        if (!string.IsNullOrEmpty(request.Query["fromSrc"]))
        {
            throw new EngineException(ErrorKind.InvalidArgument, "importing a root filesystem (fromSrc) is not supported by this engine");
        }

        var platform = request.Query["platform"].ToString();
        if (platform is not ("" or "linux" or "linux/amd64" or "linux/x86_64"))
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"platform {platform} is not supported by this engine");
        }

        var reference = ImageService.PullReference(request.Query["fromImage"].ToString(), request.Query["tag"].ToString());
        var credentials = RegistryAuthHeader.Parse(request.Headers["X-Registry-Auth"].ToString());
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync(ct);
        try
        {
            await images.PullAsync(reference, m => WriteMessageAsync(context.Response.Body, m, ct), ct, credentials);
        }
        catch (Exception e) when (e is EngineException or Dashboard.Images.ImageException or Dashboard.Images.Registry.RegistryException or IOException)
        {
            await WriteMessageAsync(context.Response.Body, new ProgressMessage { Error = e.Message, ErrorDetail = new ErrorDetail(e.Message) }, ct);
        }
    }

    /// <summary>
    /// <c>POST /images/{name}/push?tag=</c>: Docker's progress stream; once it has started, a failure is
    /// reported in it (<c>errorDetail</c>), as Docker does.
    /// </summary>
    private static async Task PushAsync(HttpContext context, ImageService images, string name, CancellationToken ct)
    {
        var credentials = RegistryAuthHeader.Parse(context.Request.Headers["X-Registry-Auth"].ToString());
        var reference = ImageService.PushReference(name, context.Request.Query["tag"].ToString());
        if (await images.FindAsync(reference, ct) is null)
        {
            throw new EngineException(ErrorKind.NotFound, $"An image does not exist locally with the tag: {Dashboard.Images.Import.ImageReference.Familiar(reference)}");
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync(ct);
        try
        {
            await images.PushAsync(reference, m => WriteMessageAsync(context.Response.Body, m, ct), ct, credentials);
        }
        catch (Exception e) when (e is EngineException or Dashboard.Images.ImageException or Dashboard.Images.Registry.RegistryException or IOException)
        {
            await WriteMessageAsync(context.Response.Body, new ProgressMessage { Error = e.Message, ErrorDetail = new ErrorDetail(e.Message) }, ct);
        }
    }

    public static async Task WriteMessageAsync(Stream body, ProgressMessage message, CancellationToken ct)
    {
        await JsonSerializer.SerializeAsync(body, message, DockerJson.Info<ProgressMessage>(DockerJson.Options), ct);
        await body.WriteAsync("\r\n"u8.ToArray(), ct);
        await body.FlushAsync(ct);
    }

    private static async Task SaveAsync(HttpContext context, ImageService images, List<string> names, CancellationToken ct)
    {
        if (names.Count == 0)
        {
            throw new EngineException(ErrorKind.InvalidArgument, "no image names given");
        }

        var records = await images.ForSaveAsync(names, ct);
        using (await images.ReadLockAsync(ct))
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/x-tar";
            await context.Response.StartAsync(ct);
            await DockerArchiveWriter.WriteAsync(records, images.Store.Content, context.Response.Body, ct);
        }

        await images.PublishSaveAsync(records);
    }

    /// <summary>Prune's <c>until</c>: a Unix timestamp, an RFC 3339 time, or a Go duration like <c>24h</c> / <c>10m</c>.</summary>
    public static DateTimeOffset ParseUntil(string value, DateTimeOffset now)
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
}
