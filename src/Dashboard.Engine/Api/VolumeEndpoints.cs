using Dashboard.Engine.Containers;
using Dashboard.Engine.Volumes;

namespace Dashboard.Engine.Api;

/// <summary>The <c>/volumes</c> part of the Docker Engine API (v1.43 shapes and status codes).</summary>
public static class VolumeEndpoints
{
    public static void MapVolumeEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/volumes", ListAsync);
        app.MapPost("/volumes/create", async (HttpRequest request, VolumeService volumes, CancellationToken ct) =>
        {
            var body = await DockerJson.ReadBodyAsync<VolumeCreateBody>(request, ct) ?? new VolumeCreateBody();
            if (body.ClusterVolumeSpec is { ValueKind: not System.Text.Json.JsonValueKind.Null })
            {
                throw new EngineException(ErrorKind.InvalidArgument, "cluster volumes are not supported by this engine");
            }

            var volume = await volumes.CreateAsync(body.Name, body.Driver, body.Labels, body.DriverOpts, ct);
            return DockerJson.Json(VolumeService.View(volume), StatusCodes.Status201Created);
        });
        app.MapPost("/volumes/prune", async (HttpRequest request, VolumeService volumes, CancellationToken ct) =>
        {
            var filters = DockerFilters.Parse(request.Query["filters"], "label", "label!", "all");
            return DockerJson.Json(await volumes.PruneAsync(filters, ct));
        });
        app.MapGet("/volumes/{name}", async (string name, VolumeService volumes, CancellationToken ct) =>
        {
            var volume = await volumes.GetAsync(name, ct);
            var users = (await volumes.UsageAsync(ct)).GetValueOrDefault(name)?.Count ?? 0;
            return DockerJson.Json(VolumeService.View(volume, users));
        });
        app.MapDelete("/volumes/{name}", async (string name, HttpRequest request, VolumeService volumes, CancellationToken ct) =>
        {
            await volumes.RemoveAsync(name, request.QueryBool("force"), ct);
            return Results.NoContent();
        });
    }

    private static async Task<IResult> ListAsync(HttpRequest request, VolumeService volumes, CancellationToken ct)
    {
        var filters = DockerFilters.Parse(request.Query["filters"], "dangling", "driver", "label", "name");
        var usage = await volumes.UsageAsync(ct);
        var result = new List<VolumeView>();
        foreach (var v in await volumes.ListAsync(ct))
        {
            var used = usage.ContainsKey(v.Name);
            if (filters.Get("dangling").Any(d => (d is "true" or "1") == used)
                || (filters.Has("driver") && !filters.Get("driver").Contains(v.Driver))
                || (filters.Has("name") && !filters.Get("name").Any(n => v.Name.Contains(n, StringComparison.Ordinal)))
                || !filters.MatchLabels(v.Labels))
            {
                continue;
            }

            result.Add(VolumeService.View(v));
        }

        return DockerJson.Json(new VolumeListView(result, []));
    }

    /// <summary>The mounts a container inspect shows: as resolved at create, or from the host config for containers made before volumes existed.</summary>
    public static List<MountPointView>? Mounts(ContainerRecord container)
    {
        var mounts = VolumeService.ReadMounts(container.BundleDir);
        return mounts?.Select(m => new MountPointView
        {
            Type = m.Type,
            Name = m.Name,
            Source = m.Source,
            Destination = m.Destination,
            Driver = m.Type == "volume" ? "local" : "",
            Mode = m.Mode,
            RW = !m.ReadOnly,
            Propagation = m.Type == "bind" ? "rprivate" : "",
        }).ToList();
    }
}
