using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Dashboard.Web.Engines;

public sealed partial class DockerEngineClient
{
    private const string RegistriesPath = "/dashboard/registries";

    private static readonly JsonSerializerOptions s_registryJson = new() { PropertyNameCaseInsensitive = true };

    public async Task<IReadOnlyList<RegistrySettings>> ListRegistriesAsync(CancellationToken cancellationToken)
    {
        var body = await RegistryCallAsync("list registries", HttpMethod.Get, RegistriesPath, null, cancellationToken);
        try
        {
            return (JsonSerializer.Deserialize<List<RegistrySettings>>(body, s_registryJson) ?? [])
                .OrderBy(r => r.Registry, StringComparer.Ordinal)
                .ToList();
        }
        catch (JsonException e)
        {
            throw new EngineException(EngineErrorKind.Internal, $"list registries on engine {_name}: the answer is not a registry list", e);
        }
    }

    public async Task SetRegistryAsync(string registry, string? username, string? password, bool insecure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registry);
        // Docker's PascalCase, as the engine documents it (JsonContent would write camelCase).
        using var content = new StringContent(JsonSerializer.Serialize(new RegistryUpdate(username, password, insecure)), System.Text.Encoding.UTF8, "application/json");
        await RegistryCallAsync($"save registry {registry}", HttpMethod.Put, RegistryPath(registry), content, cancellationToken);
    }

    public async Task RemoveRegistryAsync(string registry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registry);
        await RegistryCallAsync($"remove registry {registry}", HttpMethod.Delete, RegistryPath(registry), null, cancellationToken);
    }

    /// <summary>The path of one registry; escaped so <c>host:port</c> or a stray slash stays one path segment.</summary>
    public static string RegistryPath(string registry) => RegistriesPath + "/" + Uri.EscapeDataString(registry);

    private async Task<string> RegistryCallAsync(string what, HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        what = $"{what} on engine {_name}";
        using var http = DashboardHttpClient() ?? throw new EngineException(EngineErrorKind.InvalidRequest, $"{what}: not available over this connection");
        try
        {
            using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = content };
            using var response = await http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return body;
            }

            var message = ErrorMessage(body, response.StatusCode);

            // A 404 without a message is an engine without the API (Docker, Podman); with one, an unknown registry.
            throw response.StatusCode == HttpStatusCode.NotFound && message.StartsWith("status ", StringComparison.Ordinal)
                ? new EngineException(EngineErrorKind.NotFound, $"{what}: this engine has no registry settings API (Docker and Podman have none)")
                : new EngineException(KindOf(response.StatusCode), $"{what}: {message}");
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or IOException)
        {
            throw new EngineException(EngineErrorKind.Unavailable, $"{what}: engine {_name} unreachable or gave no answer", e);
        }
    }

    private sealed record RegistryUpdate(string? Username, string? Password, bool Insecure);
}
