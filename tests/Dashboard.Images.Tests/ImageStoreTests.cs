using System.Diagnostics;
using System.Formats.Tar;
using Dashboard.Images.Layers;
using Dashboard.Images.Records;
using Dashboard.Images.Rootfs;
using Dashboard.Images.Tests.Layers;
using Dashboard.Linux.Fs;
using Dashboard.Oci.Image;
using Dashboard.Testing;
using Dashboard.Testing.Images;

namespace Dashboard.Images.Tests;

public sealed class ImageStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-images-").FullName;

    public void Dispose()
    {
        foreach (var mount in File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(m => m.StartsWith(_dir, StringComparison.Ordinal)).Reverse().ToList())
        {
            OverlayMount.TryUnmount(mount, detach: true);
        }

        LayerTestRoot.RemoveTree(_dir);
    }

    [Theory]
    [InlineData(LayerDriver.Overlay, RootfsKind.Overlay)]
    [InlineData(LayerDriver.Copy, RootfsKind.Copy)]
    [InlineData(LayerDriver.Copy, RootfsKind.Overlay)]
    public async Task CreateRootfsAsync_BusyboxLayout_HasShell(LayerDriver driver, RootfsKind kind)
    {
        Requires.Root();
        var layout = Path.Combine(_dir, "layout");
        BusyboxImage.CreateLayout(layout);
        var store = NewStore(driver);

        var records = await store.ImportAsync(layout, "busybox", cancellationToken: Ct);
        var record = Assert.Single(records);
        Assert.Equal(["docker.io/library/busybox:latest"], record.Names);
        var rootfs = await store.CreateRootfsAsync(await store.ResolveAsync("busybox:latest", Ct), Path.Combine(_dir, "containers", "c1"), kind, Ct);

        Assert.Equal(kind, rootfs.Kind);
        Assert.Equal("busybox", new FileInfo(Path.Combine(rootfs.RootfsPath, "bin", "sh")).LinkTarget);
        Assert.Equal(new FileInfo(BusyboxImage.BusyboxPath).Length, new FileInfo(Path.Combine(rootfs.RootfsPath, "bin", "busybox")).Length);
        if (kind == RootfsKind.Overlay)
        {
            Assert.True(rootfs.IsMounted);
            Assert.Empty(Directory.EnumerateFileSystemEntries(rootfs.UpperPath));
        }

        rootfs.Remove();
        Assert.False(Directory.Exists(rootfs.Directory));
        Assert.True(File.Exists(Path.Combine(store.Layers.GetLowerDirectories(await store.UnpackAsync(record, Ct))[0], "bin", "busybox")));
    }

    [Fact]
    public async Task ImportAsync_OciArchiveTar_SameImageAsDirectory()
    {
        var layout = Path.Combine(_dir, "layout");
        BusyboxImage.CreateLayout(layout);
        var tar = Path.Combine(_dir, "layout.tar");
        await TarFile.CreateFromDirectoryAsync(layout, tar, includeBaseDirectory: false, Ct);
        var store = NewStore(LayerDriver.Overlay);

        var fromTar = Assert.Single(await store.ImportAsync(tar, cancellationToken: Ct));
        var fromDir = Assert.Single(await store.ImportAsync(layout, cancellationToken: Ct));

        Assert.Equal(fromDir.Id, fromTar.Id);
        Assert.Equal(fromDir.ManifestDigest, fromTar.ManifestDigest);
        Assert.Single(await store.Records.ListAsync(Ct));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.999)]
    public async Task ImportAsync_TruncatedArchive_ClearErrorNothingStored(double keep)
    {
        var layout = Path.Combine(_dir, "layout");
        BusyboxImage.CreateLayout(layout);
        var tar = Path.Combine(_dir, "layout.tar");
        await TarFile.CreateFromDirectoryAsync(layout, tar, includeBaseDirectory: false, Ct);
        var bytes = File.ReadAllBytes(tar);
        File.WriteAllBytes(tar, bytes[..(int)(bytes.Length * keep)]);
        var store = NewStore(LayerDriver.Overlay);

        var e = await Assert.ThrowsAsync<ImageException>(() => store.ImportAsync(tar, cancellationToken: Ct));

        Assert.Equal(ImageErrorKind.InvalidSpec, e.Kind);
        Assert.StartsWith($"import {tar}: ", e.Message, StringComparison.Ordinal);
        Assert.Empty(await store.Records.ListAsync(Ct));
        var ingest = Path.Combine(store.Content.Root, "ingest");
        Assert.Empty(Directory.Exists(ingest) ? Directory.EnumerateFiles(ingest) : []);
    }

    [Fact]
    public async Task ImportAsync_CorruptLayerBlob_RejectedAndNotStored()
    {
        var layout = Path.Combine(_dir, "layout");
        BusyboxImage.CreateLayout(layout);
        var manifest = ImageJson.ParseManifest(File.ReadAllBytes(Path.Combine(layout, "blobs", "sha256", ImageJson.ParseIndex(File.ReadAllBytes(Path.Combine(layout, "index.json"))).Manifests[0].Digest.Encoded)));
        var layerPath = Path.Combine(layout, "blobs", "sha256", manifest.Layers[0].Digest.Encoded);
        var bytes = File.ReadAllBytes(layerPath);
        bytes[^10] ^= 0xFF;
        File.WriteAllBytes(layerPath, bytes);
        var store = NewStore(LayerDriver.Overlay);

        var e = await Assert.ThrowsAsync<ImageException>(() => store.ImportAsync(layout, cancellationToken: Ct));

        Assert.Equal(ImageErrorKind.InvalidSpec, e.Kind);
        Assert.Contains("digest mismatch", e.Message, StringComparison.Ordinal);
        Assert.False(store.Content.Exists(manifest.Layers[0].Digest));
        Assert.Empty(await store.Records.ListAsync(Ct));
    }

    [Fact]
    public async Task UnpackAsync_WrongDiffId_LayerNotCommitted()
    {
        Requires.Root();
        var layout = Path.Combine(_dir, "layout");
        var good = new TestTar().File("a", "1").ToArray();
        BusyboxImage.WriteLayout(layout, [good], "latest", ["sh"]);
        var configPath = Directory.EnumerateFiles(Path.Combine(layout, "blobs", "sha256")).Single(f => File.ReadAllText(f).Contains("diff_ids", StringComparison.Ordinal));
        var lie = Oci.Digest.Compute(new TestTar().File("a", "2").ToArray());
        var manifestPath = Directory.EnumerateFiles(Path.Combine(layout, "blobs", "sha256")).Single(f => File.ReadAllText(f).Contains("\"layers\":[", StringComparison.Ordinal));
        var config = File.ReadAllText(configPath).Replace(Oci.Digest.Compute(good).ToString(), lie.ToString(), StringComparison.Ordinal);
        var configDigest = Oci.Digest.Compute(System.Text.Encoding.UTF8.GetBytes(config));
        File.WriteAllText(Path.Combine(layout, "blobs", "sha256", configDigest.Encoded), config);
        var manifest = ImageJson.ParseManifest(File.ReadAllBytes(manifestPath));
        manifest.Config.Digest = configDigest;
        manifest.Config.Size = config.Length;
        var manifestBytes = ImageJson.Serialize(manifest);
        var manifestDigest = Oci.Digest.Compute(manifestBytes);
        File.WriteAllBytes(Path.Combine(layout, "blobs", "sha256", manifestDigest.Encoded), manifestBytes);
        File.WriteAllText(Path.Combine(layout, "index.json"), $$"""{"schemaVersion":2,"manifests":[{"mediaType":"{{MediaTypes.OciManifest}}","digest":"{{manifestDigest}}","size":{{manifestBytes.Length}}}]}""");
        var store = NewStore(LayerDriver.Overlay);
        var record = Assert.Single(await store.ImportAsync(layout, cancellationToken: Ct));

        var e = await Assert.ThrowsAsync<ImageException>(() => store.UnpackAsync(record, Ct));

        Assert.Contains("diff_id mismatch", e.Message, StringComparison.Ordinal);
        Assert.Equal(["driver"], Directory.EnumerateFileSystemEntries(store.Layers.Root).Select(Path.GetFileName));
    }

    [Fact]
    public async Task UnpackAsync_MultiLayerWhiteouts_OverlayAndCopyDriversAgree()
    {
        Requires.Root();
        var layers = new[]
        {
            new TestTar().Dir("etc").File("etc/passwd", "root").File("etc/gone", "x").Dir("opq").File("opq/lower", "l")
                .Dir("data").File("data/f", "f").Symlink("var/run", "/run").Dir("run").File("shared", "s").ToArray(),
            new TestTar().File("etc/.wh.gone", string.Empty).File("opq/.wh..wh..opq", string.Empty).File("opq/upper", "u")
                .File("var/run/pid", "1").Hardlink("shared-link", "shared").File(".wh.data", string.Empty).ToArray(),
            new TestTar().Dir("data").File("data/new", "n").ToArray(),
        };
        var layout = Path.Combine(_dir, "layout");
        BusyboxImage.WriteLayout(layout, layers, "latest", ["sh"]);

        var snapshots = new List<string>();
        foreach (var driver in new[] { LayerDriver.Overlay, LayerDriver.Copy })
        {
            var store = new ImageStore(new ImageStoreOptions { Root = Path.Combine(_dir, "store-" + driver), LayerDriver = driver }, new InMemoryImageRecordStore());
            var record = Assert.Single(await store.ImportAsync(layout, cancellationToken: Ct));
            var rootfs = await store.CreateRootfsAsync(record, Path.Combine(_dir, "c-" + driver), driver == LayerDriver.Overlay ? RootfsKind.Overlay : RootfsKind.Copy, Ct);
            snapshots.Add(LayerTestRoot.Snapshot(rootfs.RootfsPath));
            Assert.False(File.Exists(Path.Combine(rootfs.RootfsPath, "etc", "gone")));
            Assert.Equal(["upper"], Directory.EnumerateFileSystemEntries(Path.Combine(rootfs.RootfsPath, "opq")).Select(Path.GetFileName));
            Assert.Equal(["new"], Directory.EnumerateFileSystemEntries(Path.Combine(rootfs.RootfsPath, "data")).Select(Path.GetFileName));
            Assert.Equal("1", File.ReadAllText(Path.Combine(rootfs.RootfsPath, "run", "pid")));
            Assert.Equal(2u, FileCalls.Lstat(Path.Combine(rootfs.RootfsPath, "shared-link")).Links);
            rootfs.Remove();
        }

        Assert.Equal(snapshots[0], snapshots[1]);
    }

    [Fact]
    public async Task TagUntagRemove_Records_Follow()
    {
        var layout = Path.Combine(_dir, "layout");
        BusyboxImage.CreateLayout(layout);
        var store = NewStore(LayerDriver.Overlay);
        var record = Assert.Single(await store.ImportAsync(layout, "busybox", cancellationToken: Ct));

        await store.TagAsync("busybox", "localhost:5000/bb:v1", Ct);
        Assert.Equal(record.Id, (await store.ResolveAsync("localhost:5000/bb:v1", Ct)).Id);
        Assert.Equal(record.Id, (await store.ResolveAsync(record.Id.Encoded[..12], Ct)).Id);
        await store.UntagAsync("busybox:latest", Ct);
        await Assert.ThrowsAsync<ImageException>(() => store.ResolveAsync("busybox", Ct));
        var inUse = await Assert.ThrowsAsync<ImageException>(() => store.RemoveAsync("localhost:5000/bb:v1", _ => true, cancellationToken: Ct));
        Assert.Equal(ImageErrorKind.InvalidState, inUse.Kind);
        await store.RemoveAsync("localhost:5000/bb:v1", _ => true, force: true, cancellationToken: Ct);
        Assert.True(await store.GarbageCollectAsync(Ct) > 0);
        Assert.Empty(store.Content.List());
    }

    [Fact]
    public async Task ImportAsync_SkopeoDockerArchive_Imports()
    {
        Requires.Root();
        Requires.Tool("skopeo");
        var layout = Path.Combine(_dir, "layout");
        BusyboxImage.CreateLayout(layout);
        var archive = Path.Combine(_dir, "docker.tar");
        Run("skopeo", "--insecure-policy", "copy", $"oci:{layout}:latest", $"docker-archive:{archive}:busybox:1.36");
        var store = NewStore(LayerDriver.Overlay);

        var record = Assert.Single(await store.ImportAsync(archive, cancellationToken: Ct));

        Assert.Equal(["docker.io/library/busybox:1.36"], record.Names);
        var rootfs = await store.CreateRootfsAsync(record, Path.Combine(_dir, "c"), cancellationToken: Ct);
        Assert.True(File.Exists(Path.Combine(rootfs.RootfsPath, "bin", "busybox")));
        rootfs.Remove();
    }

    [Fact]
    public async Task ImportAsync_SkopeoOciArchive_Imports()
    {
        Requires.Tool("skopeo");
        var layout = Path.Combine(_dir, "layout");
        BusyboxImage.CreateLayout(layout);
        var archive = Path.Combine(_dir, "oci.tar");
        Run("skopeo", "--insecure-policy", "copy", $"oci:{layout}:latest", $"oci-archive:{archive}:latest");
        var store = NewStore(LayerDriver.Overlay);

        var record = Assert.Single(await store.ImportAsync(archive, "bb", cancellationToken: Ct));

        Assert.Equal(["docker.io/library/bb:latest"], record.Names);
    }

    [Fact]
    public async Task ImportAsync_IndexWithoutMatchingPlatform_NotFound()
    {
        var layout = Path.Combine(_dir, "layout");
        BusyboxImage.CreateLayout(layout);
        var store = NewStore(LayerDriver.Overlay);
        var inner = File.ReadAllText(Path.Combine(layout, "index.json"));
        var entry = ImageJson.ParseIndex(System.Text.Encoding.UTF8.GetBytes(inner)).Manifests[0];
        var nested = $$$"""{"schemaVersion":2,"mediaType":"{{{MediaTypes.OciIndex}}}","manifests":[{"mediaType":"{{{MediaTypes.OciManifest}}}","digest":"{{{entry.Digest}}}","size":{{{entry.Size}}},"platform":{"os":"linux","architecture":"s390x"}}]}""";
        var nestedDigest = Oci.Digest.Compute(System.Text.Encoding.UTF8.GetBytes(nested));
        File.WriteAllText(Path.Combine(layout, "blobs", "sha256", nestedDigest.Encoded), nested);
        File.WriteAllText(Path.Combine(layout, "index.json"), $$"""{"schemaVersion":2,"manifests":[{"mediaType":"{{MediaTypes.OciIndex}}","digest":"{{nestedDigest}}","size":{{nested.Length}}}]}""");

        var e = await Assert.ThrowsAsync<ImageException>(() => store.ImportAsync(layout, cancellationToken: Ct));
        Assert.Equal(ImageErrorKind.NotFound, e.Kind);
        Assert.Contains("no manifest for platform", e.Message, StringComparison.Ordinal);

        var s390 = Assert.Single(await store.ImportAsync(layout, platform: new Platform { Os = "linux", Architecture = "s390x" }, cancellationToken: Ct));
        Assert.Equal(entry.Digest, s390.ManifestDigest);
    }

    [Fact]
    public async Task ExportOciLayoutAsync_ReadByUmociAndReimported()
    {
        Requires.Root();
        Requires.Tool("umoci");
        var layout = Path.Combine(_dir, "layout");
        BusyboxImage.CreateLayout(layout);
        var store = NewStore(LayerDriver.Overlay);
        var record = Assert.Single(await store.ImportAsync(layout, "busybox:1.0", cancellationToken: Ct));
        var exported = Path.Combine(_dir, "exported");

        await store.ExportOciLayoutAsync(["busybox:1.0"], exported, Ct);

        var bundle = Path.Combine(_dir, "bundle");
        Run("umoci", "unpack", "--image", exported + ":1.0", bundle);
        Assert.True(File.Exists(Path.Combine(bundle, "rootfs", "bin", "busybox")));
        var other = new ImageStore(new ImageStoreOptions { Root = Path.Combine(_dir, "store2"), LayerDriver = LayerDriver.Overlay }, new InMemoryImageRecordStore());
        var again = Assert.Single(await other.ImportAsync(exported, cancellationToken: Ct));
        Assert.Equal(record.ManifestDigest, again.ManifestDigest);
        Assert.Equal(["docker.io/library/busybox:1.0"], again.Names);
    }

    [Fact]
    public async Task CreateRootfsAsync_StoreAndContainerDirectories_ArePrivate()
    {
        Requires.Root();
        var layout = Path.Combine(_dir, "layout");
        BusyboxImage.CreateLayout(layout);
        var store = NewStore(LayerDriver.Overlay);
        var record = Assert.Single(await store.ImportAsync(layout, cancellationToken: Ct));
        var rootfs = await store.CreateRootfsAsync(record, Path.Combine(_dir, "containers", "c1"), cancellationToken: Ct);

        // security.md B6: host users must not reach setuid binaries inside unpacked trees.
        foreach (var dir in new[] { store.Content.Root, store.Layers.Root, rootfs.Directory })
        {
            Assert.Equal(0x1C0u, FileCalls.Lstat(dir).Permissions & 0x1FF);
        }

        rootfs.Remove();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ImageStore NewStore(LayerDriver driver) =>
        new(new ImageStoreOptions { Root = Path.Combine(_dir, "store"), LayerDriver = driver }, new InMemoryImageRecordStore());

    internal static string Run(string tool, params string[] args)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} timed out");
        }

        Assert.True(process.ExitCode == 0, $"{tool} {string.Join(' ', args)} failed ({process.ExitCode}): {stderr}");
        return stdout.Result;
    }
}
