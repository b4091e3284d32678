using System.Text;
using Dashboard.Images.Layers;
using Dashboard.Images.Records;
using Dashboard.Images.Registry;
using Dashboard.Images.Tests.Layers;
using Dashboard.Oci;
using Dashboard.Oci.Image;

namespace Dashboard.Images.Tests.Registry;

/// <summary>security.md C1–C6 against an in-process registry that lies, redirects, stalls and floods.</summary>
public sealed class HostileRegistryTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-hostile-").FullName;
    private readonly FakeRegistry _registry = new();
    private readonly ImageStore _store;
    private readonly RegistrySettingsStore _settings;

    public HostileRegistryTests()
    {
        _store = new ImageStore(new ImageStoreOptions { Root = Path.Combine(_dir, "store"), LayerDriver = LayerDriver.Copy }, new InMemoryImageRecordStore());
        _settings = new RegistrySettingsStore(Path.Combine(_dir, "settings"));
        _settings.SetInsecureAsync(_registry.Authority, true).GetAwaiter().GetResult();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        await _registry.DisposeAsync();
        LayerTestRoot.RemoveTree(_dir);
    }

    [Fact]
    public async Task PullAsync_HonestFake_Works()
    {
        var record = await PullAsync();

        Assert.Equal(_registry.ManifestDigest, record.ManifestDigest);
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("append")]
    [InlineData("truncate")]
    [InlineData("recompress")]
    public async Task PullAsync_LyingLayer_DigestMismatchAndNothingStored(string lie)
    {
        var good = _registry.Layer;
        _registry.Blobs[_registry.LayerDigest.ToString()] = lie switch
        {
            "flip" => [.. good[..^5], (byte)(good[^5] ^ 1), .. good[^4..]],
            "append" => [.. good, 0],
            "truncate" => good[..^1],
            _ => Dashboard.Testing.Images.TestTar.Gzip(new Dashboard.Testing.Images.TestTar().File("hello", "world").ToArray(), System.IO.Compression.CompressionLevel.SmallestSize),
        };

        var e = await Assert.ThrowsAsync<RegistryException>(() => PullAsync());

        Assert.Equal(RegistryErrorKind.DigestMismatch, e.Kind);
        AssertStoreEmpty();
    }

    [Fact]
    public async Task PullAsync_ManifestNotMatchingRequestedDigest_DigestMismatch()
    {
        var asked = _registry.ManifestDigest;
        _registry.Override.Add(($"/v2/{FakeRegistry.Repository}/manifests/", async (_, res) =>
        {
            await res.SendAsync(200, [.. _registry.Manifest, (byte)' '], ("Content-Type", MediaTypes.OciManifest));
            return true;
        }));

        var e = await Assert.ThrowsAsync<RegistryException>(() => PullAsync($"{_registry.Authority}/{FakeRegistry.Repository}@{asked}"));

        Assert.Equal(RegistryErrorKind.DigestMismatch, e.Kind);
        AssertStoreEmpty();
    }

    [Fact]
    public async Task PullAsync_DockerContentDigestDisagrees_DigestMismatch()
    {
        _registry.Override.Add(($"/v2/{FakeRegistry.Repository}/manifests/", async (_, res) =>
        {
            await res.SendAsync(200, _registry.Manifest, ("Content-Type", MediaTypes.OciManifest), ("Docker-Content-Digest", "sha256:" + new string('1', 64)));
            return true;
        }));

        var e = await Assert.ThrowsAsync<RegistryException>(() => PullAsync());

        Assert.Equal(RegistryErrorKind.DigestMismatch, e.Kind);
    }

    [Theory]
    [InlineData("sha256:../../../../etc/passwd")]
    [InlineData("sha256:%2e%2e")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("sha256:ABCDEF0000000000000000000000000000000000000000000000000000000000")]
    public async Task PullAsync_ManifestWithInvalidDigest_RejectedBeforeAnyRequest(string digest)
    {
        _registry.Manifest = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{"mediaType":"{{MediaTypes.OciConfig}}","digest":"{{digest}}","size":2},"layers":[]}""");

        var e = await Assert.ThrowsAsync<RegistryException>(() => PullAsync());

        Assert.Equal(RegistryErrorKind.Protocol, e.Kind);
        Assert.DoesNotContain(_registry.Requests, r => r.Path.Contains("/blobs/", StringComparison.Ordinal));
        Assert.False(File.Exists("/etc/passwd.tmp"));
    }

    [Theory]
    [InlineData("127.0.0.1:5000/x@sha256:../../etc/passwd")]
    [InlineData("127.0.0.1:5000/X/upper:1")]
    [InlineData("127.0.0.1:5000/a/../b:1")]
    [InlineData("127.0.0.1:5000/x:latest\r\nX: y")]
    public void Parse_InvalidReference_Rejected(string reference)
    {
        var e = Assert.Throws<RegistryException>(() => RegistryReference.Parse(reference));

        Assert.Contains("invalid reference format", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PullAsync_AmbiguousDocument_Rejected()
    {
        _registry.Manifest = Encoding.UTF8.GetBytes($$$"""{"schemaVersion":2,"manifests":[],"layers":[],"config":{"mediaType":"{{{MediaTypes.OciConfig}}}","digest":"{{{Digest.Compute(_registry.Config)}}}","size":{{{_registry.Config.Length}}}}}""");

        var e = await Assert.ThrowsAsync<RegistryException>(() => PullAsync());

        Assert.Equal(RegistryErrorKind.Protocol, e.Kind);
        Assert.Contains("ambiguous", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PullAsync_ContentTypeNotMatchingMediaType_Rejected()
    {
        _registry.ManifestContentType = MediaTypes.DockerManifest;

        var e = await Assert.ThrowsAsync<RegistryException>(() => PullAsync());

        Assert.Equal(RegistryErrorKind.Protocol, e.Kind);
        Assert.Contains("does not match", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PullAsync_ManifestOver4MiB_TooLarge(bool declaredLength)
    {
        _registry.Override.Add(($"/v2/{FakeRegistry.Repository}/manifests/", async (_, res) =>
        {
            await res.HeadAsync(200, [("Content-Type", MediaTypes.OciManifest)], declaredLength ? 5 << 20 : null);
            await res.Stream.WriteAsync(new byte[5 << 20]);
            return true;
        }));

        var e = await Assert.ThrowsAsync<RegistryException>(() => PullAsync());

        Assert.Equal(RegistryErrorKind.TooLarge, e.Kind);
    }

    [Fact]
    public async Task PullAsync_ConfigOver8MiB_TooLargeBeforeDownload()
    {
        var manifest = ImageJson.ParseManifest(_registry.Manifest);
        manifest.Config.Size = (8 << 20) + 1;
        _registry.Manifest = ImageJson.Serialize(manifest);

        var e = await Assert.ThrowsAsync<RegistryException>(() => PullAsync());

        Assert.Equal(RegistryErrorKind.TooLarge, e.Kind);
        Assert.DoesNotContain(_registry.Requests, r => r.Path.Contains("/blobs/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PullAsync_EndlessErrorBody_ReadsAtMost64KiB()
    {
        long written = 0;
        _registry.Override.Add(($"/v2/{FakeRegistry.Repository}/manifests/", async (_, res) =>
        {
            await res.HeadAsync(404, [("Content-Type", "application/json")], contentLength: null);
            var chunk = new byte[64 << 10];
            Array.Fill(chunk, (byte)'a');
            try
            {
                for (var i = 0; i < 1024; i++)
                {
                    await res.Stream.WriteAsync(chunk);
                    Interlocked.Add(ref written, chunk.Length);
                }
            }
            catch (IOException)
            {
            }

            return true;
        }));

        var e = await Assert.ThrowsAsync<RegistryException>(() => PullAsync());

        Assert.Equal(RegistryErrorKind.NotFound, e.Kind);
        Assert.True(Interlocked.Read(ref written) < 32 << 20, $"server wrote {written} bytes");
    }

    [Fact]
    public async Task PullAsync_StalledBody_TimesOutAsNetworkError()
    {
        _registry.Override.Add(($"/v2/{FakeRegistry.Repository}/blobs/", async (_, res) =>
        {
            await res.HeadAsync(200, [("Content-Type", "application/octet-stream")], _registry.Layer.Length);
            await res.Stream.WriteAsync(_registry.Layer.AsMemory(0, 10));
            await Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            return true;
        }));
        var options = DistributionRegistryTests.Fast with { ReadTimeout = TimeSpan.FromMilliseconds(300), MaxAttempts = 2 };
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<RegistryException>(() => new ImagePuller(_store, _settings, options).PullAsync(_registry.Reference, new PullOptions { Unpack = false }, null, Ct));

        Assert.Equal(RegistryErrorKind.Network, e.Kind);
        Assert.Contains("timeout", e.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"took {watch.Elapsed}");
        AssertStoreEmpty();
    }

    [Fact]
    public async Task PullAsync_TransientServerErrors_Retried()
    {
        var failures = 0;
        _registry.Override.Add(("/v2/", async (req, res) =>
        {
            if (req.Path != "/v2/" && Interlocked.Increment(ref failures) <= 2)
            {
                await res.SendAsync(503, "busy", ("Retry-After", "0"));
                return true;
            }

            return false;
        }));

        var record = await PullAsync();

        Assert.Equal(_registry.ManifestDigest, record.ManifestDigest);
        Assert.True(failures > 2);
    }

    [Fact]
    public async Task PullAsync_PersistentServerError_NetworkErrorAfterMaxAttempts()
    {
        _registry.Override.Add(($"/v2/{FakeRegistry.Repository}/", async (_, res) =>
        {
            await res.SendAsync(500, """{"errors":[{"code":"UNKNOWN","message":"disk on fire"}]}""", ("Content-Type", "application/json"));
            return true;
        }));

        var e = await Assert.ThrowsAsync<RegistryException>(() => PullAsync());

        Assert.Equal(RegistryErrorKind.Network, e.Kind);
        Assert.Contains("UNKNOWN: disk on fire", e.Message, StringComparison.Ordinal);
        Assert.Equal(DistributionRegistryTests.Fast.MaxAttempts, _registry.Requests.Count(r => r.Path.Contains("/manifests/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task PullAsync_BlobRedirectToOtherHost_NoCredentialsThere()
    {
        await _settings.SetCredentialsAsync(_registry.Authority, "bob", "hunter2", Ct);
        _registry.Challenge = "Basic realm=\"fake\"";
        await using var cdn = new FakeHttpServer(async (req, res) => await res.SendAsync(200, _registry.Blobs[req.Path.TrimStart('/')]));
        _registry.Override.Add(($"/v2/{FakeRegistry.Repository}/blobs/", async (req, res) =>
        {
            if (req.Header("Authorization") is null)
            {
                return false;
            }

            // Another authority: "localhost" is not the registry's 127.0.0.1.
            await res.HeadAsync(307, [("Location", $"http://localhost:{cdn.Port}/{req.Path[(req.Path.LastIndexOf('/') + 1)..]}")]);
            return true;
        }));

        var record = await PullAsync();

        Assert.Equal(_registry.ManifestDigest, record.ManifestDigest);
        Assert.Equal(2, cdn.Requests.Count);
        Assert.All(cdn.Requests, r => Assert.Null(r.Header("Authorization")));
        Assert.Contains(_registry.Requests, r => r.Header("Authorization") == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("bob:hunter2")));
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data", "link-local")]
    [InlineData("http://[fe80::1]/x", "link-local")]
    [InlineData("file:///etc/passwd", "scheme file")]
    [InlineData("http://user:pw@localhost/x", "user info")]
    public async Task PullAsync_RedirectToForbiddenTarget_Denied(string location, string why)
    {
        _registry.Override.Add(($"/v2/{FakeRegistry.Repository}/blobs/", async (_, res) =>
        {
            await res.HeadAsync(302, [("Location", location)]);
            return true;
        }));

        var e = await Assert.ThrowsAsync<RegistryException>(() => PullAsync());

        Assert.Equal(RegistryErrorKind.Denied, e.Kind);
        Assert.Contains("refused", e.Message, StringComparison.Ordinal);
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PullAsync_RedirectLoop_StopsAfterTen()
    {
        _registry.Override.Add(($"/v2/{FakeRegistry.Repository}/manifests/", async (req, res) =>
        {
            await res.HeadAsync(307, [("Location", req.Target)]);
            return true;
        }));

        var e = await Assert.ThrowsAsync<RegistryException>(() => PullAsync());

        Assert.Equal(RegistryErrorKind.Protocol, e.Kind);
        Assert.Contains("more than 10 redirects", e.Message, StringComparison.Ordinal);
        Assert.Equal(11, _registry.Requests.Count(r => r.Path.Contains("/manifests/", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("Bearer realm=\"http://169.254.169.254/latest/meta-data\",service=\"x\"", RegistryErrorKind.Denied)]
    [InlineData("Bearer realm=\"file:///etc/passwd\"", RegistryErrorKind.Denied)]
    [InlineData("Bearer realm=\"javascript:x\"", RegistryErrorKind.Denied)]
    [InlineData("Bearer realm=\"http://user:pw@127.0.0.1:9/token\"", RegistryErrorKind.Denied)]
    [InlineData("Bearer realm=\"\"", RegistryErrorKind.Protocol)]
    [InlineData("Bearer realm=\"http://127.0.0.1:9/a\",realm=\"http://127.0.0.1:9/b\"", RegistryErrorKind.Protocol)]
    [InlineData("Bearer realm=\"http://127.0.0.1:9/a", RegistryErrorKind.Unauthorized)]
    public async Task PullAsync_HostileRealm_RefusedWithoutSendingCredentials(string challenge, RegistryErrorKind kind)
    {
        await _settings.SetCredentialsAsync(_registry.Authority, "bob", "hunter2", Ct);
        _registry.Challenge = challenge;

        var e = await Assert.ThrowsAsync<RegistryException>(() => PullAsync());

        Assert.Equal(kind, e.Kind);
        Assert.All(_registry.Requests, r => Assert.Null(r.Header("Authorization")));
    }

    [Fact]
    public async Task PullAsync_RealmOnOtherHost_GetsNoCredentialsAndOnlyOurScope()
    {
        await _settings.SetCredentialsAsync(_registry.Authority, "bob", "hunter2", Ct);
        await using var tokens = new FakeHttpServer(async (_, res) => await res.SendAsync(200, """{"token":"abc","expires_in":300}"""));
        _registry.Challenge = $"Bearer realm=\"http://localhost:{tokens.Port}/token\",service=\"svc\",scope=\"repository:other/repo:push\"";

        var record = await PullAsync();

        Assert.Equal(_registry.ManifestDigest, record.ManifestDigest);
        var request = Assert.Single(tokens.Requests);
        Assert.Null(request.Header("Authorization"));
        Assert.Equal($"service=svc&scope={Uri.EscapeDataString($"repository:{FakeRegistry.Repository}:pull")}", request.Query);
        Assert.All(_registry.Requests.Where(r => r.Header("Authorization") is not null), r => Assert.Equal("Bearer abc", r.Header("Authorization")));
    }

    [Fact]
    public async Task PullAsync_TokenResponseOver1MiB_TooLarge()
    {
        await using var tokens = new FakeHttpServer(async (_, res) => await res.SendAsync(200, "{\"token\":\"" + new string('a', 2 << 20) + "\"}"));
        _registry.Challenge = $"Bearer realm=\"http://127.0.0.1:{tokens.Port}/token\",service=\"svc\"";

        var e = await Assert.ThrowsAsync<RegistryException>(() => PullAsync());

        Assert.Equal(RegistryErrorKind.TooLarge, e.Kind);
        Assert.Contains("token response", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PullAsync_RegistryNotMarkedInsecure_RefusesPlainHttp()
    {
        await _settings.SetInsecureAsync(_registry.Authority, false, Ct);
        await _settings.SetCredentialsAsync(_registry.Authority, "bob", "hunter2", Ct);

        var e = await Assert.ThrowsAsync<RegistryException>(() => PullAsync());

        Assert.Equal(RegistryErrorKind.Network, e.Kind);
        Assert.Contains("not reachable", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_registry.Requests, r => r.Method is "GET" or "HEAD");
    }

    private Task<ImageRecord> PullAsync(string? reference = null) =>
        new ImagePuller(_store, _settings, DistributionRegistryTests.Fast).PullAsync(reference ?? _registry.Reference, new PullOptions { Unpack = false }, null, Ct);

    private void AssertStoreEmpty()
    {
        Assert.Empty(_store.Content.List());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_store.Content.Root, "ingest")));
        Assert.Empty(_store.Records.ListAsync(Ct).GetAwaiter().GetResult());
    }
}
