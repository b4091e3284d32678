using System.Formats.Tar;
using Dashboard.Images.Layers;
using Dashboard.Images.Records;
using Dashboard.Images.Tests.Layers;
using Dashboard.Oci;
using Dashboard.Oci.Image;
using Dashboard.Testing;
using Dashboard.Testing.Images;

namespace Dashboard.Images.Tests.Import;

public sealed class DockerArchiveExportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-docker-save-test-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => LayerTestRoot.RemoveTree(_dir);

    [Fact]
    public async Task ExportDockerArchiveAsync_Layout_HasDockerSaveFilesAndReimports()
    {
        var store = NewStore("a");
        var record = await ImportAsync(store, "example.com/team/app:2");
        var archive = Path.Combine(_dir, "save.tar");

        await using (var output = File.Create(archive))
        {
            await store.ExportDockerArchiveAsync(["example.com/team/app:2"], output, Ct);
        }

        var names = new List<string>();
        await using (var reader = new TarReader(File.OpenRead(archive)))
        {
            while (await reader.GetNextEntryAsync(cancellationToken: Ct) is { } entry)
            {
                names.Add(entry.Name);
            }
        }

        var (manifest, config) = await store.LoadAsync(record, Ct);
        Assert.Contains("manifest.json", names);
        Assert.Contains("repositories", names);
        Assert.Contains(record.Id.Encoded + ".json", names);
        Assert.All(config.RootFs.DiffIds, d => Assert.Contains(d.Encoded + "/layer.tar", names));
        var again = Assert.Single(await NewStore("b").ImportAsync(archive, cancellationToken: Ct));
        Assert.Equal(record.Id, again.Id);
        Assert.Equal(["example.com/team/app:2"], again.Names);
        var reloaded = await NewStore("b").LoadAsync(again, Ct);
        Assert.Equal(config.RootFs.DiffIds, reloaded.Manifest.Layers.Select(l => l.Digest));
        Assert.Equal(manifest.Layers.Count, reloaded.Manifest.Layers.Count);
    }

    [Fact]
    public async Task ExportDockerArchiveAsync_ReadBySkopeoInspectAndCopy()
    {
        Requires.Tool("skopeo");
        var store = NewStore("a");
        var record = await ImportAsync(store, "busybox:1.36");
        var archive = Path.Combine(_dir, "save.tar");
        await using (var output = File.Create(archive))
        {
            await store.ExportDockerArchiveAsync(["busybox:1.36"], output, Ct);
        }

        var raw = ImageStoreTests.Run("skopeo", "inspect", "--raw", $"docker-archive:{archive}");
        var inspected = ImageJson.ParseManifest(System.Text.Encoding.UTF8.GetBytes(raw));
        Assert.Equal(record.Id, inspected.Config.Digest);
        var layout = Path.Combine(_dir, "copied");
        ImageStoreTests.Run("skopeo", "--insecure-policy", "copy", $"docker-archive:{archive}", $"oci:{layout}:1.36");

        var copied = Assert.Single(await NewStore("c").ImportAsync(layout, "busybox:copied", cancellationToken: Ct));

        Assert.Equal(record.Id, copied.Id);
        Assert.Equal((await store.LoadAsync(record, Ct)).Config.RootFs.DiffIds, (await NewStore("c").LoadAsync(copied, Ct)).Config.RootFs.DiffIds);
    }

    [Fact]
    public async Task ExportDockerArchiveAsync_TwoImagesSharingLayers_WritesSharedLayerOnce()
    {
        var store = NewStore("a");
        var shared = new TestTar().File("shared", "s").ToArray();
        var one = await ImportLayersAsync(store, "one:1", [shared, new TestTar().File("one", "1").ToArray()]);
        var two = await ImportLayersAsync(store, "two:1", [shared, new TestTar().File("two", "2").ToArray()]);
        var archive = Path.Combine(_dir, "save.tar");
        await using (var output = File.Create(archive))
        {
            await store.ExportDockerArchiveAsync(["one:1", "two:1"], output, Ct);
        }

        var names = new List<string>();
        await using (var reader = new TarReader(File.OpenRead(archive)))
        {
            while (await reader.GetNextEntryAsync(cancellationToken: Ct) is { } entry)
            {
                names.Add(entry.Name);
            }
        }

        Assert.Single(names, n => n == Digest.Compute(shared).Encoded + "/layer.tar");
        var imported = await NewStore("b").ImportAsync(archive, cancellationToken: Ct);
        Assert.Equal(new[] { one.Id, two.Id }.ToHashSet(), imported.Select(r => r.Id).ToHashSet());
    }

    private ImageStore NewStore(string name) =>
        new(new ImageStoreOptions { Root = Path.Combine(_dir, "store-" + name), LayerDriver = LayerDriver.Copy }, new InMemoryImageRecordStore());

    private async Task<ImageRecord> ImportAsync(ImageStore store, string name)
    {
        var layout = Path.Combine(_dir, "layout-" + Guid.NewGuid().ToString("N"));
        BusyboxImage.WriteLayout(layout, [BusyboxImage.BuildLayerTar(), new TestTar().Dir("etc").File("etc/motd", "hi").ToArray()], "latest", ["sh"]);
        return Assert.Single(await store.ImportAsync(layout, name, cancellationToken: Ct));
    }

    private async Task<ImageRecord> ImportLayersAsync(ImageStore store, string name, byte[][] layers)
    {
        var layout = Path.Combine(_dir, "layout-" + Guid.NewGuid().ToString("N"));
        BusyboxImage.WriteLayout(layout, layers, "latest", [name]);
        return Assert.Single(await store.ImportAsync(layout, name, cancellationToken: Ct));
    }
}
