using System.Text;
using Dashboard.Oci;
using Dashboard.Oci.Image;
using Dashboard.Testing.Images;

namespace Dashboard.Images.Tests.Registry;

/// <summary>
/// An in-process registry serving one small image at <c>test/img:1</c>, for the hostile cases a
/// real registry will not produce. <see cref="Override"/> replaces the answer to any path.
/// </summary>
public sealed class FakeRegistry : IAsyncDisposable
{
    public const string Repository = "test/img";

    public FakeRegistry()
    {
        var tar = new TestTar().File("hello", "world").ToArray();
        Layer = TestTar.Gzip(tar);
        var diffId = Digest.Compute(tar);
        var config = new ImageConfig { Architecture = BusyboxImage.GoArch(), Os = "linux", RootFs = new RootFs { DiffIds = [diffId] } };
        Config = ImageJson.Serialize(config);
        var manifest = new ImageManifest
        {
            MediaType = MediaTypes.OciManifest,
            Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = Digest.Compute(Config), Size = Config.Length },
            Layers = [new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = Digest.Compute(Layer), Size = Layer.Length }],
        };
        Manifest = ImageJson.Serialize(manifest);
        Blobs[manifest.Config.Digest.ToString()] = Config;
        Blobs[manifest.Layers[0].Digest.ToString()] = Layer;
        Server = new FakeHttpServer(HandleAsync);
    }

    public byte[] Layer { get; }

    public byte[] Config { get; }

    public byte[] Manifest { get; set; }

    public Digest ManifestDigest => Digest.Compute(Manifest);

    public Digest LayerDigest => Digest.Compute(Layer);

    public string ManifestContentType { get; set; } = MediaTypes.OciManifest;

    public Dictionary<string, byte[]> Blobs { get; } = [];

    public FakeHttpServer Server { get; }

    public string Authority => Server.Authority;

    public string Reference => $"{Authority}/{Repository}:1";

    /// <summary>A challenge for every request without an Authorization header (null: anonymous registry).</summary>
    public string? Challenge { get; set; }

    /// <summary>Handlers by path (prefix match on the request path); returning false falls through to the defaults.</summary>
    public List<(string Path, Func<FakeRequest, FakeResponse, Task<bool>> Handler)> Override { get; } = [];

    public IEnumerable<FakeRequest> Requests => Server.Requests;

    public ValueTask DisposeAsync() => Server.DisposeAsync();

    private async Task HandleAsync(FakeRequest request, FakeResponse response)
    {
        foreach (var (path, handler) in Override)
        {
            if (request.Path.StartsWith(path, StringComparison.Ordinal) && await handler(request, response))
            {
                return;
            }
        }

        if (Challenge is not null && request.Header("Authorization") is null)
        {
            await response.SendAsync(401, """{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}""", ("WWW-Authenticate", Challenge), ("Content-Type", "application/json"));
            return;
        }

        if (request.Path == "/v2/")
        {
            await response.SendAsync(200, "{}");
            return;
        }

        var manifests = $"/v2/{Repository}/manifests/";
        if (request.Path.StartsWith(manifests, StringComparison.Ordinal))
        {
            var reference = request.Path[manifests.Length..];
            if (reference == "1" || reference == ManifestDigest.ToString())
            {
                await response.SendAsync(200, request.Method == "HEAD" ? [] : Manifest, ("Content-Type", ManifestContentType));
                return;
            }
        }

        var blobs = $"/v2/{Repository}/blobs/";
        if (request.Path.StartsWith(blobs, StringComparison.Ordinal) && Blobs.TryGetValue(request.Path[blobs.Length..], out var blob))
        {
            await response.SendAsync(200, request.Method == "HEAD" ? [] : blob, ("Content-Type", "application/octet-stream"));
            return;
        }

        await response.SendAsync(404, Encoding.UTF8.GetBytes("""{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"""), ("Content-Type", "application/json"));
    }
}
