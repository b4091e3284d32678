using Dashboard.Engine.Images;
using Dashboard.Images.Registry;

namespace Dashboard.Engine.Api;

/// <summary>
/// <c>/dashboard/registries</c>: the engine's stored per-registry settings (credentials encrypted at rest, the insecure
/// opt-in), which serve every pull and push that brings no <c>X-Registry-Auth</c> of its own. The web offers them to
/// Admins only; a secret is written, never read back (issue 5 §9). The socket's peer check limits who may call.
/// </summary>
public static class RegistryEndpoints
{
    public const string Path = "/dashboard/registries";

    public sealed class RegistryBody
    {
        public string? Username { get; set; }

        public string? Password { get; set; }

        public bool Insecure { get; set; }
    }

    public static void MapRegistryEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, async (ImageService images, CancellationToken ct) =>
            DockerJson.Json(await images.Registries.ListAsync(ct)));
        app.MapPut(Path + "/{registry}", SetAsync);
        app.MapDelete(Path + "/{registry}", RemoveAsync);
    }

    private static async Task<IResult> SetAsync(string registry, HttpRequest request, ImageService images, ILoggerFactory logs, CancellationToken ct)
    {
        var body = await DockerJson.ReadBodyAsync<RegistryBody>(request, ct)
            ?? throw new EngineException(ErrorKind.InvalidArgument, "a JSON body with Username, Password and Insecure is required");
        var hasUser = !string.IsNullOrEmpty(body.Username);
        if (hasUser && string.IsNullOrEmpty(body.Password))
        {
            throw new EngineException(ErrorKind.InvalidArgument, "a password or token is required with a username");
        }

        await Checked(async () =>
        {
            if (hasUser)
            {
                await images.Registries.SetCredentialsAsync(registry, body.Username!, body.Password!, ct);
            }

            await images.Registries.SetInsecureAsync(registry, body.Insecure, ct);
        });
        logs.CreateLogger("Dashboard.Engine.Registries").LogInformation(
            "registry {Registry}: {Change}, insecure {Insecure}", registry, hasUser ? "credentials of " + body.Username + " saved" : "credentials unchanged", body.Insecure);
        return Results.NoContent();
    }

    private static async Task<IResult> RemoveAsync(string registry, ImageService images, ILoggerFactory logs, CancellationToken ct)
    {
        var known = await images.Registries.ListAsync(ct);
        if (!known.Any(r => string.Equals(r.Registry, registry, StringComparison.OrdinalIgnoreCase)))
        {
            throw new EngineException(ErrorKind.NotFound, $"no settings for registry {Printable(registry)}");
        }

        await Checked(() => images.Registries.RemoveAsync(registry, ct));
        logs.CreateLogger("Dashboard.Engine.Registries").LogInformation("registry {Registry}: settings removed", registry);
        return Results.NoContent();
    }

    /// <summary>The store refuses a bad registry or username with ArgumentException: a 400 for the caller.</summary>
    private static async Task Checked(Func<Task> change)
    {
        try
        {
            await change();
        }
        catch (ArgumentException e)
        {
            throw new EngineException(ErrorKind.InvalidArgument, e.Message.Split(" (Parameter", 2)[0], e);
        }
    }

    private static string Printable(string value) => new([.. value.Where(c => !char.IsControl(c)).Take(255)]);
}
