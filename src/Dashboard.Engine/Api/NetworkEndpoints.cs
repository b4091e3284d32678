using Dashboard.Engine.Networking;

namespace Dashboard.Engine.Api;

/// <summary>The <c>/networks</c> part of the Docker Engine API (v1.43 shapes and status codes).</summary>
public static class NetworkEndpoints
{
    public static void MapNetworkEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/networks", ListAsync);
        app.MapPost("/networks/create", async (HttpRequest request, NetworkManager networks, CancellationToken ct) =>
        {
            var body = await DockerJson.ReadBodyAsync<NetworkCreateBody>(request, ct) ?? new NetworkCreateBody();
            var network = await networks.CreateAsync(body, ct);
            return DockerJson.Json(new NetworkCreateResponse(network.Id, ""), StatusCodes.Status201Created);
        });
        app.MapPost("/networks/prune", async (HttpRequest request, NetworkManager networks, CancellationToken ct) =>
        {
            var filters = DockerFilters.Parse(request.Query["filters"], "until", "label", "label!");
            return DockerJson.Json(new NetworkPruneResponse(await networks.PruneAsync(filters, ct)));
        });
        app.MapGet("/networks/{id}", async (string id, NetworkManager networks, CancellationToken ct) =>
        {
            var network = await networks.GetAsync(id, ct);
            return DockerJson.Json(NetworkViews.View(network, await networks.MembersAsync(network.Id, ct)));
        });
        app.MapDelete("/networks/{id}", async (string id, NetworkManager networks, CancellationToken ct) =>
        {
            await networks.RemoveAsync(id, ct);
            return Results.NoContent();
        });
        app.MapPost("/networks/{id}/connect", async (string id, HttpRequest request, NetworkManager networks, CancellationToken ct) =>
        {
            var body = await DockerJson.ReadBodyAsync<NetworkConnectBody>(request, ct);
            await networks.ConnectAsync(id, RequireContainer(body?.Container), body?.EndpointConfig, ct);
            return Results.Ok();
        });
        app.MapPost("/networks/{id}/disconnect", async (string id, HttpRequest request, NetworkManager networks, CancellationToken ct) =>
        {
            var body = await DockerJson.ReadBodyAsync<NetworkConnectBody>(request, ct);
            await networks.DisconnectAsync(id, RequireContainer(body?.Container), ct);
            return Results.Ok();
        });
    }

    private static string RequireContainer(string? container) =>
        string.IsNullOrEmpty(container) ? throw new EngineException(ErrorKind.InvalidArgument, "a container name or id is required") : container;

    private static async Task<IResult> ListAsync(HttpRequest request, NetworkManager networks, CancellationToken ct)
    {
        var filters = DockerFilters.Parse(request.Query["filters"], "dangling", "driver", "id", "label", "name", "scope", "type");
        var result = new List<NetworkInspectView>();
        foreach (var n in await networks.ListAsync(ct))
        {
            var builtin = NetworkManager.IsPredefined(n.Name);
            var members = await networks.MembersAsync(n.Id, ct);
            if ((filters.Has("driver") && !filters.Get("driver").Contains(n.Driver))
                || (filters.Has("id") && !filters.Get("id").Any(i => n.Id.StartsWith(i, StringComparison.Ordinal)))
                || (filters.Has("name") && !filters.Get("name").Any(x => n.Name.Contains(x, StringComparison.Ordinal)))
                || (filters.Has("scope") && !filters.Get("scope").Contains("local"))
                || (filters.Has("type") && !filters.Get("type").Contains(builtin ? "builtin" : "custom"))
                || (filters.Has("dangling") && filters.Get("dangling").Any(d => (d is "true" or "1") == (builtin || members.Count > 0)))
                || !filters.MatchLabels(n.Labels))
            {
                continue;
            }

            result.Add(NetworkViews.View(n, members));
        }

        return DockerJson.Json(result);
    }
}
