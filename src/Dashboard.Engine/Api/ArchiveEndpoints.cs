using Dashboard.Engine.Archive;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Images;
using Microsoft.AspNetCore.Http.Features;

namespace Dashboard.Engine.Api;

/// <summary><c>/containers/{id}/archive</c> (GET, HEAD, PUT) and <c>/containers/{id}/export</c>: tar out of and into a container's root filesystem.</summary>
public static class ArchiveEndpoints
{
    private const string StatHeader = "X-Docker-Container-Path-Stat";

    public static void MapArchiveEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/containers/{id}/archive", ["HEAD"], async (string id, HttpContext context, ContainerManager manager, IImageSource images, CancellationToken ct) =>
        {
            var rootfs = await RootfsAsync(id, manager, images, ct);
            context.Response.Headers[StatHeader] = ContainerArchive.EncodeStat(ContainerArchive.Stat(rootfs, context.Request.Query["path"].ToString()));
            context.Response.StatusCode = StatusCodes.Status200OK;
        });
        app.MapGet("/containers/{id}/archive", async (string id, HttpContext context, ContainerManager manager, IImageSource images, CancellationToken ct) =>
        {
            var rootfs = await RootfsAsync(id, manager, images, ct);
            var path = context.Request.Query["path"].ToString();
            context.Response.Headers[StatHeader] = ContainerArchive.EncodeStat(ContainerArchive.Stat(rootfs, path));
            context.Response.ContentType = "application/x-tar";
            await context.Response.StartAsync(ct);
            await ContainerArchive.WriteTarAsync(rootfs, path, context.Response.Body, asRoot: false, ct);
        });
        app.MapPut("/containers/{id}/archive", async (string id, HttpContext context, ContainerManager manager, IImageSource images, ImageService imageService, CancellationToken ct) =>
        {
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = null;
            }

            var rootfs = await RootfsAsync(id, manager, images, ct);
            var path = context.Request.Query["path"].ToString();

            // Spooled first: the extractor reads synchronously, and a half-received archive must not be half-applied.
            var temp = Path.Combine(imageService.TempDirectory, "archive-" + Guid.NewGuid().ToString("N"));
            try
            {
                await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
                {
                    await context.Request.Body.CopyToAsync(file, ct);
                }

                await using var input = new FileStream(temp, FileMode.Open, FileAccess.Read, FileShare.None, 1 << 16);
                await ContainerArchive.ExtractAsync(rootfs, path, input, context.Request.QueryBool("noOverwriteDirNonDir"), ct);
            }
            finally
            {
                File.Delete(temp);
            }

            return Results.Ok();
        });
        app.MapGet("/containers/{id}/export", async (string id, HttpContext context, ContainerManager manager, IImageSource images, CancellationToken ct) =>
        {
            var rootfs = await RootfsAsync(id, manager, images, ct);
            context.Response.ContentType = "application/x-tar";
            await context.Response.StartAsync(ct);
            await ContainerArchive.WriteTarAsync(rootfs, "/", context.Response.Body, asRoot: true, ct);
        });
        app.MapGet("/containers/{id}/changes", async (string id, ContainerManager manager, IImageSource images, ImageService imageService, CancellationToken ct) =>
        {
            var container = await manager.GetAsync(id, ct);
            await images.EnsureRootfsAsync(container.BundleDir, ct);
            return DockerJson.Json(ContainerChanges.Compute(container.BundleDir, imageService.Store.Layers));
        });
    }

    private static async Task<string> RootfsAsync(string id, ContainerManager manager, IImageSource images, CancellationToken ct)
    {
        var container = await manager.GetAsync(id, ct);
        await images.EnsureRootfsAsync(container.BundleDir, ct);
        return Path.Combine(container.BundleDir, "rootfs");
    }
}
