using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Docker.DotNet.Models;

namespace Dashboard.Web.Engines;

public sealed partial class DockerEngineClient
{
    private const string BackupPath = "/dashboard/backup";
    private const string SchemaHeader = "X-Dashboard-Schema";

    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    private readonly Uri? _endpointUri;

    public async Task<EngineInfo> GetInfoAsync(CancellationToken cancellationToken)
    {
        var i = await CallAsync("engine info", () => _client.System.GetSystemInfoAsync(cancellationToken));
        return new EngineInfo(
            i.Name ?? "",
            i.ServerVersion ?? "",
            i.OperatingSystem ?? "",
            i.KernelVersion ?? "",
            i.NCPU,
            i.MemTotal,
            i.Containers,
            i.ContainersRunning,
            i.ContainersPaused,
            i.ContainersStopped,
            i.Images);
    }

    public async Task<IReadOnlyList<VolumeSummary>> ListVolumesAsync(CancellationToken cancellationToken)
    {
        var list = await CallAsync("list volumes", () => _client.Volumes.ListAsync(cancellationToken));
        var containers = await CallAsync("list containers", () => _client.Containers.ListContainersAsync(new ContainersListParameters { All = true }, cancellationToken));
        var users = containers
            .SelectMany(c => (c.Mounts ?? []).Where(m => m.Type == "volume" && !string.IsNullOrEmpty(m.Name)).Select(m => (Volume: m.Name, Container: FirstName(c))))
            .ToLookup(u => u.Volume, u => u.Container, StringComparer.Ordinal);
        return (list.Volumes ?? [])
            .Select(v => new VolumeSummary(
                v.Name ?? "",
                v.Driver ?? "",
                v.Mountpoint ?? "",
                DateTimeOffset.TryParse(v.CreatedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created) ? created : null,
                new Dictionary<string, string>(v.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal),
                users[v.Name ?? ""].Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList()))
            .OrderBy(v => v.Name, StringComparer.Ordinal)
            .ToList();
    }

    public async Task<string> InspectVolumeAsync(string name, CancellationToken cancellationToken) =>
        JsonSerializer.Serialize(await CallAsync($"inspect volume {name}", () => _client.Volumes.InspectAsync(name, cancellationToken)), s_indented);

    public Task CreateVolumeAsync(string name, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken) =>
        CallAsync($"create volume {name}", () => _client.Volumes.CreateAsync(
            new VolumesCreateParameters { Name = name, Driver = "local", Labels = labels.ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal) },
            cancellationToken));

    public Task RemoveVolumeAsync(string name, bool force, CancellationToken cancellationToken) =>
        CallAsync($"remove volume {name}", async () =>
        {
            await _client.Volumes.RemoveAsync(name, force, cancellationToken);
            return true;
        });

    public async Task<PruneResult> PruneVolumesAsync(CancellationToken cancellationToken)
    {
        // API 1.42+ prunes only anonymous volumes unless all=true; "unused" in the UI means every unused one.
        var parameters = new VolumesPruneParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["all"] = new Dictionary<string, bool> { ["true"] = true } },
        };
        var r = await CallAsync("prune volumes", () => _client.Volumes.PruneAsync(parameters, cancellationToken));
        return new PruneResult([.. r.VolumesDeleted ?? []], r.SpaceReclaimed);
    }

    public async Task<IReadOnlyList<NetworkSummary>> ListNetworksAsync(CancellationToken cancellationToken)
    {
        var list = await CallAsync("list networks", () => _client.Networks.ListNetworksAsync(new NetworksListParameters(), cancellationToken));
        var containers = await CallAsync("list containers", () => _client.Containers.ListContainersAsync(new ContainersListParameters { All = true }, cancellationToken));
        var users = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var c in containers)
        {
            foreach (var (networkName, endpoint) in c.NetworkSettings?.Networks ?? new Dictionary<string, EndpointSettings>())
            {
                foreach (var key in new[] { networkName, endpoint?.NetworkID ?? "" }.Where(k => k.Length > 0))
                {
                    if (!users.TryGetValue(key, out var set))
                    {
                        users[key] = set = new SortedSet<string>(StringComparer.Ordinal);
                    }

                    set.Add(FirstName(c));
                }
            }
        }

        return list
            .Select(n => new NetworkSummary(
                n.ID ?? "",
                n.Name ?? "",
                n.Driver ?? "",
                n.Scope ?? "",
                n.Internal,
                (n.IPAM?.Config ?? []).Select(c => c.Subnet).Where(s => !string.IsNullOrEmpty(s)).ToList()!,
                new Dictionary<string, string>(n.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal),
                [.. (users.GetValueOrDefault(n.ID ?? "") ?? []).Union(users.GetValueOrDefault(n.Name ?? "") ?? [], StringComparer.Ordinal).Order(StringComparer.Ordinal)]))
            .OrderBy(n => n.Name, StringComparer.Ordinal)
            .ToList();
    }

    public async Task<string> InspectNetworkAsync(string id, CancellationToken cancellationToken) =>
        JsonSerializer.Serialize(await CallAsync($"inspect network {id}", () => _client.Networks.InspectNetworkAsync(id, cancellationToken)), s_indented);

    public async Task<string> CreateNetworkAsync(string name, string driver, bool isInternal, CancellationToken cancellationToken)
    {
        var r = await CallAsync($"create network {name}", () => _client.Networks.CreateNetworkAsync(
            new NetworksCreateParameters { Name = name, Driver = driver, Internal = isInternal },
            cancellationToken));
        return r.ID ?? "";
    }

    public Task RemoveNetworkAsync(string id, CancellationToken cancellationToken) =>
        CallAsync($"remove network {id}", async () =>
        {
            await _client.Networks.DeleteNetworkAsync(id, cancellationToken);
            return true;
        });

    public async Task<PruneResult> PruneNetworksAsync(CancellationToken cancellationToken)
    {
        var r = await CallAsync("prune networks", () => _client.Networks.PruneNetworksAsync(new NetworksDeleteUnusedParameters(), cancellationToken));
        return new PruneResult([.. r.NetworksDeleted ?? []], 0);
    }

    public async Task<EngineBackup> BackupAsync(CancellationToken cancellationToken)
    {
        var what = $"backup of engine {_name}";
        var http = DashboardHttpClient() ?? throw new EngineException(EngineErrorKind.InvalidRequest, $"{what}: not available over this connection");
        try
        {
            var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Post, BackupPath), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                response.Dispose();
                throw new EngineException(EngineErrorKind.NotFound, $"{what}: this engine has no backup API (Docker and Podman have none; back up their data directory instead)");
            }

            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                response.Dispose();
                throw new EngineException(EngineErrorKind.Internal, $"{what}: {ErrorMessage(body, response.StatusCode)}");
            }

            var schema = response.Headers.TryGetValues(SchemaHeader, out var values) ? values.FirstOrDefault() : null;
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            return new EngineBackup(new OwningStream(stream, response, http), schema);
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or IOException)
        {
            http.Dispose();
            throw new EngineException(EngineErrorKind.Unavailable, $"{what}: engine {_name} unreachable", e);
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    private static HttpClient BackupHttpClient(Uri endpoint)
    {
        if (endpoint.Scheme == "unix")
        {
            var socketPath = endpoint.LocalPath;
            return new HttpClient(new SocketsHttpHandler
            {
                ConnectCallback = async (_, ct) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            })
            { BaseAddress = new Uri("http://engine"), Timeout = TimeSpan.FromMinutes(10) };
        }

        return new HttpClient { BaseAddress = new UriBuilder(endpoint) { Scheme = "http" }.Uri, Timeout = TimeSpan.FromMinutes(10) };
    }

    private static string ErrorMessage(string body, HttpStatusCode status)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("message", out var m) && m.GetString() is { Length: > 0 } message)
            {
                return message;
            }
        }
        catch (JsonException)
        {
        }

        return $"status {(int)status}";
    }

    private static string FirstName(ContainerListResponse c) =>
        c.Names is { Count: > 0 } names ? TrimName(names[0]) : (c.ID is { Length: > 12 } id ? id[..12] : c.ID ?? "");

    /// <summary>The response body that also disposes the response and its client when the download ends.</summary>
    private sealed class OwningStream(Stream inner, HttpResponseMessage response, HttpClient client) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                response.Dispose();
                client.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
