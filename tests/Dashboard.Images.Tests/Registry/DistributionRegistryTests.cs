using System.Collections.Concurrent;
using System.Net;
using Dashboard.Images.Layers;
using Dashboard.Images.Records;
using Dashboard.Images.Registry;
using Dashboard.Images.Tests.Layers;
using Dashboard.Linux.Fs;
using Dashboard.Oci;
using Dashboard.Oci.Image;
using Dashboard.Testing;
using Dashboard.Testing.Images;

namespace Dashboard.Images.Tests.Registry;

/// <summary>Pull and push against a real distribution registry (Debian's docker-registry), with skopeo as the peer client.</summary>
public sealed class DistributionRegistryTests(RegistryFixture fixture) : IClassFixture<RegistryFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-registry-test-").FullName;
    private int _stores;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        foreach (var mount in File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(m => m.StartsWith(_dir, StringComparison.Ordinal)).Reverse().ToList())
        {
            OverlayMount.TryUnmount(mount, detach: true);
        }

        LayerTestRoot.RemoveTree(_dir);
    }

    [Fact]
    public async Task PullAsync_ImagePushedBySkopeo_SameDigestAndRootfs()
    {
        Requires.Root();
        Requires.Tool("skopeo");
        var registry = await fixture.GetAsync(RegistryAuthMode.Anonymous);
        var layout = Path.Combine(_dir, "layout");
        var manifestDigest = BusyboxImage.CreateLayout(layout);
        ImageStoreTests.Run("skopeo", "--insecure-policy", "copy", "--dest-tls-verify=false", $"oci:{layout}:latest", $"docker://{registry.Authority}/skopeo/busybox:1.0");
        var (store, settings) = await NewStoreAsync(registry);
        var events = new ConcurrentQueue<PullProgress>();

        var record = await new ImagePuller(store, settings).PullAsync($"{registry.Authority}/skopeo/busybox:1.0", new Collect(events), Ct);

        Assert.Equal(manifestDigest, record.ManifestDigest.ToString());
        Assert.Equal([$"{registry.Authority}/skopeo/busybox:1.0"], record.Names);
        var rootfs = await store.CreateRootfsAsync(record, Path.Combine(_dir, "c1"), cancellationToken: Ct);
        Assert.Equal(new FileInfo(BusyboxImage.BusyboxPath).Length, new FileInfo(Path.Combine(rootfs.RootfsPath, "bin", "busybox")).Length);
        rootfs.Remove();
        var layer = Assert.Single((await store.LoadAsync(record, Ct)).Manifest.Layers);
        var states = events.Where(e => e.Layer == layer.Digest).Select(e => e.State).Distinct().ToList();
        Assert.Equal([PullState.Waiting, PullState.Downloading, PullState.Verifying, PullState.Extracting, PullState.Complete], states);
    }

    [Fact]
    public async Task PushAsync_SkopeoPullsBack_SameManifestDigest()
    {
        Requires.Tool("skopeo");
        var registry = await fixture.GetAsync(RegistryAuthMode.Anonymous);
        var (store, settings) = await NewStoreAsync(registry);
        var record = await ImportSmallImageAsync(store, "ours/app:1", layers: 2);

        var pushed = await new ImagePusher(store, settings).PushAsync("ours/app:1", $"{registry.Authority}/ours/app:1", cancellationToken: Ct);

        Assert.Equal(record.ManifestDigest, pushed);
        var inspect = ImageStoreTests.Run("skopeo", "inspect", "--tls-verify=false", "--raw", $"docker://{registry.Authority}/ours/app:1");
        Assert.Equal(record.ManifestDigest, Digest.Compute(System.Text.Encoding.UTF8.GetBytes(inspect)));
        var copy = Path.Combine(_dir, "copy");
        ImageStoreTests.Run("skopeo", "--insecure-policy", "copy", "--src-tls-verify=false", $"docker://{registry.Authority}/ours/app:1", $"oci:{copy}:1");
        var index = ImageJson.ParseIndex(File.ReadAllBytes(Path.Combine(copy, "index.json")));
        Assert.Equal(record.ManifestDigest, Assert.Single(index.Manifests).Digest);
        var other = new ImageStore(new ImageStoreOptions { Root = Path.Combine(_dir, "reimport") }, new InMemoryImageRecordStore());
        Assert.Equal(record.Id, Assert.Single(await other.ImportAsync(copy, cancellationToken: Ct)).Id);
    }

    [Fact]
    public async Task PullAsync_OwnPushByTagAndByDigest_SameImage()
    {
        var registry = await fixture.GetAsync(RegistryAuthMode.Anonymous);
        var (source, settings) = await NewStoreAsync(registry);
        var record = await ImportSmallImageAsync(source, "roundtrip:1", layers: 3);
        await new ImagePusher(source, settings).PushAsync("roundtrip:1", $"{registry.Authority}/round/trip:1", cancellationToken: Ct);
        var (target, _) = await NewStoreAsync(registry);
        var puller = new ImagePuller(target, settings);

        var byTag = await puller.PullAsync($"{registry.Authority}/round/trip:1", new PullOptions { Unpack = false }, null, Ct);
        var byDigest = await puller.PullAsync($"{registry.Authority}/round/trip@{record.ManifestDigest}", new PullOptions { Unpack = false }, null, Ct);

        Assert.Equal(record.ManifestDigest, byTag.ManifestDigest);
        Assert.Equal(record.Id, byDigest.Id);
        Assert.Equal([$"{registry.Authority}/round/trip:1", $"{registry.Authority}/round/trip@{record.ManifestDigest}"], byDigest.Names);
        foreach (var blob in (await source.LoadAsync(record, Ct)).Manifest.Layers)
        {
            Assert.True(target.Content.Exists(blob.Digest));
        }

        var unknown = await Assert.ThrowsAsync<RegistryException>(() => puller.PullAsync($"{registry.Authority}/round/trip@sha256:{new string('0', 64)}", null, Ct));
        Assert.Equal(RegistryErrorKind.NotFound, unknown.Kind);
        Assert.Contains("MANIFEST_UNKNOWN", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PullAsync_SecondPull_ReportsEveryLayerAlreadyExists()
    {
        var registry = await fixture.GetAsync(RegistryAuthMode.Anonymous);
        var (store, settings) = await NewStoreAsync(registry);
        var record = await ImportSmallImageAsync(store, "skip:1", layers: 3);
        await new ImagePusher(store, settings).PushAsync("skip:1", $"{registry.Authority}/skip/me:1", cancellationToken: Ct);
        var events = new ConcurrentQueue<PullProgress>();

        await new ImagePuller(store, settings).PullAsync($"{registry.Authority}/skip/me:1", new PullOptions { Unpack = false }, new Collect(events), Ct);

        var layers = (await store.LoadAsync(record, Ct)).Manifest.Layers.Select(l => l.Digest).ToHashSet();
        Assert.Equal(layers, events.Select(e => e.Layer).ToHashSet());
        Assert.All(events, e => Assert.Equal(PullState.AlreadyExists, e.State));
    }

    [Fact]
    public async Task PullAsync_Index_SelectsRequestedPlatform()
    {
        var registry = await fixture.GetAsync(RegistryAuthMode.Anonymous);
        var (store, settings) = await NewStoreAsync(registry);
        var native = await ImportSmallImageAsync(store, "multi:native", layers: 1);
        var s390x = await ImportSmallImageAsync(store, "multi:s390x", layers: 1, architecture: "s390x");
        var pusher = new ImagePusher(store, settings);
        await pusher.PushAsync("multi:native", $"{registry.Authority}/multi/arch:native", cancellationToken: Ct);
        await pusher.PushAsync("multi:s390x", $"{registry.Authority}/multi/arch:s390x", cancellationToken: Ct);
        var index = new ImageIndex { MediaType = MediaTypes.OciIndex };
        foreach (var (record, arch) in new[] { (s390x, "s390x"), (native, BusyboxImage.GoArch()) })
        {
            index.Manifests.Add(new Descriptor { MediaType = MediaTypes.OciManifest, Digest = record.ManifestDigest, Size = store.Content.GetSize(record.ManifestDigest), Platform = new Platform { Os = "linux", Architecture = arch } });
        }

        using (var client = await RegistryClient.CreateAsync(registry.Authority, settings, cancellationToken: Ct))
        {
            await client.PutManifestAsync("multi/arch", "all", MediaTypes.OciIndex, ImageJson.Serialize(index), Ct);
        }

        var (target, _) = await NewStoreAsync(registry);
        var puller = new ImagePuller(target, settings);
        var pulled = await puller.PullAsync($"{registry.Authority}/multi/arch:all", new PullOptions { Unpack = false }, null, Ct);
        var other = await puller.PullAsync($"{registry.Authority}/multi/arch:all", new PullOptions { Unpack = false, Platform = new Platform { Os = "linux", Architecture = "s390x" } }, null, Ct);
        var none = await Assert.ThrowsAsync<RegistryException>(() => puller.PullAsync($"{registry.Authority}/multi/arch:all", new PullOptions { Platform = new Platform { Os = "linux", Architecture = "riscv64" } }, null, Ct));

        Assert.Equal(native.ManifestDigest, pulled.ManifestDigest);
        Assert.Equal(s390x.ManifestDigest, other.ManifestDigest);
        Assert.Equal(RegistryErrorKind.NotFound, none.Kind);
        Assert.Contains("no manifest for platform", none.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PushAsync_ChunkedUploadAndCrossRepoMount_Work()
    {
        var registry = await fixture.GetAsync(RegistryAuthMode.Anonymous);
        var (store, settings) = await NewStoreAsync(registry);
        var record = await ImportSmallImageAsync(store, "chunky:1", layers: 2, fileSize: 300_000, random: true);
        var options = new RegistryClientOptions { UploadChunkSize = 64 << 10 };
        var first = new ConcurrentQueue<PushProgress>();
        await new ImagePusher(store, settings, options).PushAsync("chunky:1", $"{registry.Authority}/chunk/one:1", new Collect<PushProgress>(first), Ct);
        await store.TagAsync("chunky:1", $"{registry.Authority}/chunk/one:1", Ct);
        var second = new ConcurrentQueue<PushProgress>();

        await new ImagePusher(store, settings, options).PushAsync($"{registry.Authority}/chunk/one:1", $"{registry.Authority}/chunk/two:1", new Collect<PushProgress>(second), Ct);

        var layers = (await store.LoadAsync(record, Ct)).Manifest.Layers;
        Assert.All(layers, l => Assert.Contains(first, e => e.Blob == l.Digest && e.State == PushState.Complete));
        Assert.All(layers, l => Assert.Contains(first, e => e.Blob == l.Digest && e.State == PushState.Uploading && e.Current < l.Size));
        Assert.All(layers, l => Assert.Contains(second, e => e.Blob == l.Digest && e.State == PushState.Mounted));
        var (target, _) = await NewStoreAsync(registry);
        Assert.Equal(record.Id, (await new ImagePuller(target, settings).PullAsync($"{registry.Authority}/chunk/two:1", new PullOptions { Unpack = false }, null, Ct)).Id);
    }

    [Fact]
    public async Task ListTagsAsync_SmallPages_FollowsLinkHeader()
    {
        var registry = await fixture.GetAsync(RegistryAuthMode.Anonymous);
        var (store, settings) = await NewStoreAsync(registry);
        await ImportSmallImageAsync(store, "tags:1", layers: 1);
        var pusher = new ImagePusher(store, settings);
        string[] tags = ["a1", "b2", "c3", "d4", "e5"];
        foreach (var tag in tags)
        {
            await pusher.PushAsync("tags:1", $"{registry.Authority}/tag/list:{tag}", cancellationToken: Ct);
        }

        using var client = await RegistryClient.CreateAsync(registry.Authority, settings, cancellationToken: Ct);

        Assert.Equal(tags, (await client.ListTagsAsync("tag/list", pageSize: 2, Ct)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task PullAsync_ConnectionCutMidBlob_ResumesWithRange()
    {
        var registry = await fixture.GetAsync(RegistryAuthMode.Anonymous);
        var (store, settings) = await NewStoreAsync(registry);
        var record = await ImportSmallImageAsync(store, "resume:1", layers: 1, fileSize: 2 << 20, random: true);
        await new ImagePusher(store, settings).PushAsync("resume:1", $"{registry.Authority}/resume/me:1", cancellationToken: Ct);
        var layer = Assert.Single((await store.LoadAsync(record, Ct)).Manifest.Layers);
        var cuts = 0;
        using var upstream = new HttpClient();
        await using var proxy = new FakeHttpServer(async (request, response) =>
        {
            using var forward = new HttpRequestMessage(new HttpMethod(request.Method), $"http://{registry.Authority}{request.Target}");
            foreach (var name in new[] { "accept", "range", "authorization" })
            {
                if (request.Header(name) is { } value)
                {
                    forward.Headers.TryAddWithoutValidation(name, value);
                }
            }

            using var reply = await upstream.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead);
            var body = await reply.Content.ReadAsByteArrayAsync();
            var headers = reply.Headers.Concat(reply.Content.Headers).Where(h => h.Key is not ("Content-Length" or "Connection" or "Transfer-Encoding"))
                .SelectMany(h => h.Value.Select(v => (h.Key, v))).ToList();
            var cut = request.Path.EndsWith(layer.Digest.ToString(), StringComparison.Ordinal) && request.Method == "GET" && Interlocked.Increment(ref cuts) <= 2;
            await response.HeadAsync((int)reply.StatusCode, headers, body.Length);
            await response.Stream.WriteAsync(cut ? body.AsMemory(0, body.Length / 3) : body);
        });
        await new Dashboard.Images.Registry.RegistrySettingsStore(settings.Directory).SetInsecureAsync(proxy.Authority, true, Ct);
        var (target, _) = await NewStoreAsync(registry);

        var pulled = await new ImagePuller(target, settings, Fast).PullAsync($"{proxy.Authority}/resume/me:1", new PullOptions { Unpack = false }, null, Ct);

        Assert.Equal(record.Id, pulled.Id);
        Assert.True(target.Content.Exists(layer.Digest));
        var gets = proxy.Requests.Where(r => r.Method == "GET" && r.Path.EndsWith(layer.Digest.ToString(), StringComparison.Ordinal)).ToList();
        Assert.Equal(3, gets.Count);
        Assert.Null(gets[0].Header("Range"));
        Assert.Equal($"bytes={layer.Size / 3}-", gets[1].Header("Range"));
        Assert.Equal($"bytes={layer.Size / 3 + (layer.Size - layer.Size / 3) / 3}-", gets[2].Header("Range"));
    }

    [Fact]
    public async Task PullPush_HtpasswdRegistry_NeedsTheRightCredentials()
    {
        var registry = await fixture.GetAsync(RegistryAuthMode.Htpasswd);
        var (store, settings) = await NewStoreAsync(registry);
        await ImportSmallImageAsync(store, "basic:1", layers: 1);
        var reference = $"{registry.Authority}/basic/img:1";

        var anonymous = await Assert.ThrowsAsync<RegistryException>(() => new ImagePusher(store, settings, Fast).PushAsync("basic:1", reference, cancellationToken: Ct));
        await settings.SetCredentialsAsync(registry.Authority, DistributionRegistry.User, "wrong", Ct);
        var wrong = await Assert.ThrowsAsync<RegistryException>(() => new ImagePusher(store, settings, Fast).PushAsync("basic:1", reference, cancellationToken: Ct));
        await settings.SetCredentialsAsync(registry.Authority, DistributionRegistry.User, DistributionRegistry.Password, Ct);
        var digest = await new ImagePusher(store, settings).PushAsync("basic:1", reference, cancellationToken: Ct);
        var (target, _) = await NewStoreAsync(registry);
        var pulled = await new ImagePuller(target, settings).PullAsync(reference, new PullOptions { Unpack = false }, null, Ct);

        Assert.Equal(RegistryErrorKind.Unauthorized, anonymous.Kind);
        Assert.Equal(RegistryErrorKind.Unauthorized, wrong.Kind);
        Assert.Contains("401 unauthorized", wrong.Message, StringComparison.Ordinal);
        Assert.Equal(digest, pulled.ManifestDigest);
    }

    [Fact]
    public async Task PullPush_TokenRegistry_GetsScopedBearerTokens()
    {
        var registry = await fixture.GetAsync(RegistryAuthMode.Token);
        var (store, settings) = await NewStoreAsync(registry);
        await ImportSmallImageAsync(store, "token:1", layers: 2);
        var reference = $"{registry.Authority}/token/img:1";

        var anonymous = await Assert.ThrowsAsync<RegistryException>(() => new ImagePusher(store, settings, Fast).PushAsync("token:1", reference, cancellationToken: Ct));
        await settings.SetCredentialsAsync(registry.Authority, DistributionRegistry.User, DistributionRegistry.Password, Ct);
        var digest = await new ImagePusher(store, settings).PushAsync("token:1", reference, cancellationToken: Ct);
        var (target, _) = await NewStoreAsync(registry);
        var pulled = await new ImagePuller(target, settings).PullAsync(reference, new PullOptions { Unpack = false }, null, Ct);
        using var client = await RegistryClient.CreateAsync(registry.Authority, settings, cancellationToken: Ct);
        var tags = await client.ListTagsAsync("token/img", cancellationToken: Ct);

        Assert.Equal(RegistryErrorKind.Unauthorized, anonymous.Kind);
        Assert.Equal(digest, pulled.ManifestDigest);
        Assert.Equal(["1"], tags);
        var tokenRequests = registry.TokenServer!.Requests.ToList();
        Assert.Contains(tokenRequests, r => r.Query.Contains("scope=repository%3Atoken%2Fimg%3Apull%2Cpush", StringComparison.Ordinal) && r.Header("Authorization") is not null);
        Assert.Contains(tokenRequests, r => r.Query.Contains($"service={DistributionRegistry.Service}", StringComparison.Ordinal));
    }

    /// <summary>Pull and push in three concurrent stores from the same registry never corrupt one another.</summary>
    [Fact]
    public async Task PullAsync_ConcurrentPullsOfSameImage_AllVerified()
    {
        var registry = await fixture.GetAsync(RegistryAuthMode.Anonymous);
        var (source, settings) = await NewStoreAsync(registry);
        var record = await ImportSmallImageAsync(source, "same:1", layers: 4, fileSize: 200_000, random: true);
        await new ImagePusher(source, settings).PushAsync("same:1", $"{registry.Authority}/same/img:1", cancellationToken: Ct);
        var (target, _) = await NewStoreAsync(registry);
        var puller = new ImagePuller(target, settings);

        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => puller.PullAsync($"{registry.Authority}/same/img:1", new PullOptions { Unpack = false }, null, Ct)));

        Assert.All(results, r => Assert.Equal(record.Id, r.Id));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(target.Content.Root, "ingest")));
    }

    internal static RegistryClientOptions Fast { get; } = new() { RetryDelay = TimeSpan.FromMilliseconds(10), MaxRetryDelay = TimeSpan.FromMilliseconds(50), ReadTimeout = TimeSpan.FromSeconds(5), ResponseTimeout = TimeSpan.FromSeconds(5) };

    private async Task<(ImageStore Store, RegistrySettingsStore Settings)> NewStoreAsync(DistributionRegistry registry)
    {
        var n = Interlocked.Increment(ref _stores);
        var store = new ImageStore(new ImageStoreOptions { Root = Path.Combine(_dir, $"store{n}"), LayerDriver = LayerDriver.Overlay }, new InMemoryImageRecordStore());
        var settings = new RegistrySettingsStore(Path.Combine(_dir, "settings"));
        await settings.SetInsecureAsync(registry.Authority, true, Ct);
        return (store, settings);
    }

    /// <summary>A small synthetic image (distinct per name) imported from an OCI layout.</summary>
    internal async Task<ImageRecord> ImportSmallImageAsync(ImageStore store, string name, int layers, int fileSize = 1000, bool random = false, string? architecture = null)
    {
        var tars = Enumerable.Range(0, layers).Select(i =>
        {
            var content = new byte[fileSize];
            if (random)
            {
                System.Security.Cryptography.RandomNumberGenerator.Fill(content);
            }
            else
            {
                Array.Fill(content, (byte)('a' + i));
            }

            return new TestTar().Dir("data").File($"data/{name.Replace(':', '_')}-{i}", content).ToArray();
        }).ToList();
        var layout = Path.Combine(_dir, "layout-" + Guid.NewGuid().ToString("N"));
        BusyboxImage.WriteLayout(layout, tars, "latest", ["sh"]);
        if (architecture is not null)
        {
            RewriteArchitecture(layout, architecture);
        }

        return Assert.Single(await store.ImportAsync(layout, name, cancellationToken: Ct));
    }

    private static void RewriteArchitecture(string layout, string architecture)
    {
        var blobs = Path.Combine(layout, "blobs", "sha256");
        var index = ImageJson.ParseIndex(File.ReadAllBytes(Path.Combine(layout, "index.json")));
        var manifest = ImageJson.ParseManifest(File.ReadAllBytes(Path.Combine(blobs, index.Manifests[0].Digest.Encoded)));
        var config = ImageJson.ParseConfig(File.ReadAllBytes(Path.Combine(blobs, manifest.Config.Digest.Encoded)));
        config.Architecture = architecture;
        var configBytes = ImageJson.Serialize(config);
        manifest.Config.Digest = Digest.Compute(configBytes);
        manifest.Config.Size = configBytes.Length;
        File.WriteAllBytes(Path.Combine(blobs, manifest.Config.Digest.Encoded), configBytes);
        var manifestBytes = ImageJson.Serialize(manifest);
        index.Manifests[0].Digest = Digest.Compute(manifestBytes);
        index.Manifests[0].Size = manifestBytes.Length;
        File.WriteAllBytes(Path.Combine(blobs, index.Manifests[0].Digest.Encoded), manifestBytes);
        File.WriteAllBytes(Path.Combine(layout, "index.json"), ImageJson.Serialize(index));
    }
}

/// <summary>Collects progress reports inline, in order.</summary>
internal sealed class Collect<T>(ConcurrentQueue<T> queue) : IProgress<T>
{
    public void Report(T value) => queue.Enqueue(value);
}

internal sealed class Collect(ConcurrentQueue<PullProgress> queue) : IProgress<PullProgress>
{
    public void Report(PullProgress value) => queue.Enqueue(value);
}
