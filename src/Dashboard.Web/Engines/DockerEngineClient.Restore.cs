using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Dashboard.Web.Engines;

public sealed partial class DockerEngineClient
{
    private const string RestorePath = "/dashboard/restore";

    public async Task<string> RestoreAsync(Stream database, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        var what = $"restore of engine {_name}";
        using var http = DashboardHttpClient() ?? throw new EngineException(EngineErrorKind.InvalidRequest, $"{what}: not available over this connection");
        try
        {
            using var content = new StreamContent(database);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/vnd.sqlite3");
            using var response = await http.PostAsync(RestorePath, content, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            switch (response.StatusCode)
            {
                case HttpStatusCode.Accepted:
                    using (var doc = JsonDocument.Parse(body))
                    {
                        return doc.RootElement.GetProperty("Schema").GetString() ?? "";
                    }

                case HttpStatusCode.NotFound:
                    throw new EngineException(EngineErrorKind.NotFound, $"{what}: this engine has no restore API (Docker and Podman have none)");
                case HttpStatusCode.BadRequest:
                    throw new EngineException(EngineErrorKind.InvalidRequest, $"{what}: {ErrorMessage(body, response.StatusCode)}");
                case HttpStatusCode.Conflict:
                    throw new EngineException(EngineErrorKind.Conflict, $"{what}: {ErrorMessage(body, response.StatusCode)}");
                default:
                    throw new EngineException(EngineErrorKind.Internal, $"{what}: {ErrorMessage(body, response.StatusCode)}");
            }
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or IOException or JsonException or KeyNotFoundException)
        {
            throw new EngineException(EngineErrorKind.Unavailable, $"{what}: engine {_name} unreachable or gave no answer", e);
        }
    }
}
