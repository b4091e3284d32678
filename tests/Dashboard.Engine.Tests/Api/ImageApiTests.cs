using System.Formats.Tar;
using Dashboard.Engine.Tests.Fakes;
using Dashboard.Oci.Image;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Api;

/// <summary>The <c>/images</c> endpoints through Docker.DotNet.Enhanced, with the fake runtime.</summary>
public sealed class ImageApiTests : IAsyncLifetime
{
    private TestEngine _engine = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _engine = await TestEngine.StartAsync();

    public async ValueTask DisposeAsync() => await _engine.DisposeAsync();

    private static byte[] App(string name, string label = "a", params byte[][] extra) =>
        TestImages.Archive([name], [TestImages.EtcLayer(), .. extra], new Dashboard.Oci.Image.ContainerConfig
        {
            Cmd = ["run"],
            Env = ["A=1"],
            Labels = new Dictionary<string, string> { ["app"] = label },
            ExposedPorts = new Dictionary<string, EmptyObject> { ["80/tcp"] = new() },
            WorkingDir = "/data",
            User = "www",
            StopSignal = "SIGQUIT",
        });

    private async Task<List<JSONMessage>> LoadAsync(byte[] archive)
    {
        var messages = new List<JSONMessage>();
        await _engine.Client.Images.LoadImageAsync(new ImageLoadParameters { Quiet = false }, new MemoryStream(archive), new SyncProgress<JSONMessage>(messages.Add), Ct);
        return messages;
    }

    [Fact]
    public async Task Load_OciArchive_StreamsLoadedImageAndLists()
    {
        var messages = await LoadAsync(App("app:1"));
        Assert.Contains(messages, m => m.Stream == "Loaded image: app:1\n");

        var images = await _engine.Client.Images.ListImagesAsync(new ImagesListParameters(), Ct);
        var app = Assert.Single(images, i => i.RepoTags.Contains("app:1"));
        Assert.Matches("^sha256:[0-9a-f]{64}$", app.ID);
        Assert.Equal("a", app.Labels["app"]);
        Assert.True(app.Size > 0);
        Assert.Contains(images, i => i.RepoTags.Contains("busybox:latest"));
    }

    [Fact]
    public async Task Load_DockerSaveManifestOnly_NamesFromRepoTags()
    {
        var oci = App("ignored:1");
        var dockerOnly = StripIndexNames(oci);
        var messages = await LoadAsync(dockerOnly);
        Assert.Contains(messages, m => m.Stream == "Loaded image: legacy:2\n");
        Assert.Equal("a", (await _engine.Client.Images.InspectImageAsync("legacy:2", Ct)).Config!.Labels!["app"]);
    }

    /// <summary>The same archive with a docker-save manifest.json naming legacy:2 and an index that names nothing.</summary>
    private static byte[] StripIndexNames(byte[] archive)
    {
        using var input = new MemoryStream(archive);
        using var output = new MemoryStream();
        using (var reader = new TarReader(input))
        using (var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
        {
            string? config = null;
            var layers = new List<string>();
            while (reader.GetNextEntry(copyData: true) is { } entry)
            {
                if (entry.Name == "index.json")
                {
                    var index = ImageJson.ParseIndex(ReadAll(entry.DataStream!));
                    foreach (var m in index.Manifests)
                    {
                        m.Annotations = null;
                    }

                    writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "index.json") { DataStream = new MemoryStream(ImageJson.Serialize(index)) });
                    continue;
                }

                if (entry.Name.StartsWith("blobs/", StringComparison.Ordinal))
                {
                    var data = ReadAll(entry.DataStream!);
                    if (data.Length > 2 && data[0] == 0x1F && data[1] == 0x8B)
                    {
                        layers.Add(entry.Name);
                    }
                    else if (System.Text.Encoding.UTF8.GetString(data).Contains("\"rootfs\"", StringComparison.Ordinal))
                    {
                        config = entry.Name;
                    }

                    writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, entry.Name) { DataStream = new MemoryStream(data) });
                    continue;
                }

                writer.WriteEntry(entry);
            }

            var manifest = ImageJson.Serialize(new List<DockerArchiveEntry> { new() { Config = config!, RepoTags = ["legacy:2"], Layers = layers } });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "manifest.json") { DataStream = new MemoryStream(manifest) });
        }

        return output.ToArray();
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    [Fact]
    public async Task Load_Garbage_Is400AndNothingListed()
    {
        var before = (await _engine.Client.Images.ListImagesAsync(new ImagesListParameters(), Ct)).Count;
        var e = await Assert.ThrowsAsync<DockerApiException>(() => LoadAsync("not a tar at all"u8.ToArray()));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal(before, (await _engine.Client.Images.ListImagesAsync(new ImagesListParameters(), Ct)).Count);
        Assert.Empty(Directory.GetFiles(Path.Combine(_engine.Options.DataRoot, "tmp")));
    }

    [Fact]
    public async Task Inspect_ShowsConfigRootFsAndHistory()
    {
        await LoadAsync(App("app:1"));
        var image = await _engine.Client.Images.InspectImageAsync("app:1", Ct);
        Assert.Equal(["app:1"], image.RepoTags);
        Assert.Equal(["run"], image.Config!.Cmd);
        Assert.Equal("www", image.Config.User);
        Assert.Equal("/data", image.Config.WorkingDir);
        Assert.Contains("80/tcp", image.Config.ExposedPorts!.Keys);
        Assert.Equal("SIGQUIT", image.Config.StopSignal);
        Assert.Equal("layers", image.RootFS!.Type);
        Assert.Single(image.RootFS.Layers!);
        Assert.Equal("linux", image.Os);

        Assert.Equal(image.ID, (await _engine.Client.Images.InspectImageAsync(image.ID[7..19], Ct)).ID);
        var history = await _engine.Client.Images.GetImageHistoryAsync("app:1", Ct);
        var top = Assert.Single(history);
        Assert.Equal(image.ID, top.ID);
        Assert.Equal("test layer 1", top.CreatedBy);
        Assert.Equal(["app:1"], top.Tags!);

        await Assert.ThrowsAsync<DockerImageNotFoundException>(() => _engine.Client.Images.InspectImageAsync("nope:1", Ct));
    }

    [Fact]
    public async Task CreateContainer_FromLoadedImage_ImageConfigMergedWithOverrides()
    {
        await LoadAsync(App("app:1"));
        var c = await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "app:1", Env = ["B=2"], Labels = new Dictionary<string, string> { ["extra"] = "x" } }, Ct);
        var inspect = await _engine.Client.Containers.InspectContainerAsync(c.ID, Ct);
        Assert.Equal((await _engine.Client.Images.InspectImageAsync("app:1", Ct)).ID, inspect.Image);
        Assert.Equal(["run"], inspect.Config!.Cmd);
        Assert.Equal("www", inspect.Config.User);
        Assert.Equal("/data", inspect.Config.WorkingDir);
        Assert.Equal("SIGQUIT", inspect.Config.StopSignal);
        Assert.Contains("80/tcp", inspect.Config.ExposedPorts!.Keys);
        Assert.Equal("a", inspect.Config!.Labels["app"]);
        Assert.Equal("x", inspect.Config.Labels!["extra"]);

        var spec = Dashboard.Oci.Runtime.RuntimeJson.ParseSpec(File.ReadAllText(Path.Combine(_engine.Manager.ContainerDir(c.ID), "config.json")));
        Assert.Contains("A=1", spec.Process!.Env!);
        Assert.Contains("B=2", spec.Process.Env!);
        Assert.Equal(33u, spec.Process.User.Uid);
        Assert.Equal(["500"], spec.Process.User.AdditionalGids!.Select(g => g.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        // The rootfs is the container's own snapshot: a write lands in its upper dir, not in the image's layer.
        var rootfs = spec.Root!.Path;
        Assert.Equal("from the image\n", File.ReadAllText(Path.Combine(rootfs, "data", "seed.txt")));
        File.WriteAllText(Path.Combine(rootfs, "data", "seed.txt"), "changed\n");
        var other = await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "app:1" }, Ct);
        var otherSpec = Dashboard.Oci.Runtime.RuntimeJson.ParseSpec(File.ReadAllText(Path.Combine(_engine.Manager.ContainerDir(other.ID), "config.json")));
        Assert.Equal("from the image\n", File.ReadAllText(Path.Combine(otherSpec.Root!.Path, "data", "seed.txt")));

        await _engine.Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters(), Ct);
        Assert.False(Directory.Exists(_engine.Manager.ContainerDir(c.ID)));
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), l => l.Contains(c.ID, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tag_SecondName_ThenRemoveByName_OnlyUntags()
    {
        await LoadAsync(App("app:1"));
        await _engine.Client.Images.TagImageAsync("app:1", new ImageTagParameters { RepositoryName = "localhost:5000/team/app", Tag = "v2" }, Ct);
        var image = await _engine.Client.Images.InspectImageAsync("localhost:5000/team/app:v2", Ct);
        Assert.Equal(["app:1", "localhost:5000/team/app:v2"], image.RepoTags.Order(StringComparer.Ordinal));

        var removed = await _engine.Client.Images.DeleteImageAsync("app:1", new ImageDeleteParameters(), Ct);
        Assert.Equal("app:1", Assert.Single(removed)["Untagged"]);
        Assert.Equal(["localhost:5000/team/app:v2"], (await _engine.Client.Images.InspectImageAsync(image.ID, Ct)).RepoTags);

        var deleted = await _engine.Client.Images.DeleteImageAsync("localhost:5000/team/app:v2", new ImageDeleteParameters(), Ct);
        Assert.Contains(deleted, d => d.TryGetValue("Deleted", out var id) && id == image.ID);
        await Assert.ThrowsAsync<DockerImageNotFoundException>(() => _engine.Client.Images.InspectImageAsync(image.ID, Ct));
    }

    [Fact]
    public async Task Tag_NameTakenByAnotherImage_MovesAndOldBecomesDangling()
    {
        await LoadAsync(App("app:1", "one"));
        var first = (await _engine.Client.Images.InspectImageAsync("app:1", Ct)).ID;
        await LoadAsync(App("app:1", "two"));
        var second = (await _engine.Client.Images.InspectImageAsync("app:1", Ct)).ID;
        Assert.NotEqual(first, second);
        Assert.Empty((await _engine.Client.Images.InspectImageAsync(first, Ct)).RepoTags);

        var dangling = await _engine.Client.Images.ListImagesAsync(new ImagesListParameters { Filters = new Dictionary<string, IDictionary<string, bool>> { ["dangling"] = new Dictionary<string, bool> { ["true"] = true } } }, Ct);
        Assert.Equal([first], dangling.Select(i => i.ID));

        var byLabel = await _engine.Client.Images.ListImagesAsync(new ImagesListParameters { Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { ["app=two"] = true } } }, Ct);
        Assert.Equal([second], byLabel.Select(i => i.ID));

        var byReference = await _engine.Client.Images.ListImagesAsync(new ImagesListParameters { Filters = new Dictionary<string, IDictionary<string, bool>> { ["reference"] = new Dictionary<string, bool> { ["app"] = true } } }, Ct);
        Assert.Equal([second], byReference.Select(i => i.ID));
        var byPattern = await _engine.Client.Images.ListImagesAsync(new ImagesListParameters { Filters = new Dictionary<string, IDictionary<string, bool>> { ["reference"] = new Dictionary<string, bool> { ["busy*:lat*"] = true } } }, Ct);
        Assert.Equal(["busybox:latest"], Assert.Single(byPattern).RepoTags);

        var pruned = await _engine.Client.Images.PruneImagesAsync(new ImagesPruneParameters(), Ct);
        Assert.Contains(pruned.ImagesDeleted, d => d.Deleted == first);
        Assert.True(pruned.SpaceReclaimed >= 0);
        await Assert.ThrowsAsync<DockerImageNotFoundException>(() => _engine.Client.Images.InspectImageAsync(first, Ct));
        Assert.Equal(second, (await _engine.Client.Images.InspectImageAsync("app:1", Ct)).ID);
    }

    [Fact]
    public async Task Remove_UsedByContainer_ConflictUnlessForcedThenOnlyUntagged()
    {
        await LoadAsync(App("app:1"));
        var id = (await _engine.Client.Images.InspectImageAsync("app:1", Ct)).ID;
        var c = await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "app:1" }, Ct);

        var conflict = await Assert.ThrowsAsync<DockerApiException>(() => _engine.Client.Images.DeleteImageAsync("app:1", new ImageDeleteParameters(), Ct));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Contains("must force", conflict.Message);
        var byId = await Assert.ThrowsAsync<DockerApiException>(() => _engine.Client.Images.DeleteImageAsync(id, new ImageDeleteParameters(), Ct));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, byId.StatusCode);

        var forced = await _engine.Client.Images.DeleteImageAsync("app:1", new ImageDeleteParameters { Force = true }, Ct);
        Assert.Equal("app:1", Assert.Single(forced)["Untagged"]);
        Assert.Empty((await _engine.Client.Images.InspectImageAsync(id, Ct)).RepoTags);

        // Still in use: prune keeps it; once the container is gone, prune removes it and its layer.
        Assert.DoesNotContain((await _engine.Client.Images.PruneImagesAsync(new ImagesPruneParameters(), Ct)).ImagesDeleted, d => d.Deleted == id);
        await _engine.Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters(), Ct);
        Assert.Contains((await _engine.Client.Images.PruneImagesAsync(new ImagesPruneParameters(), Ct)).ImagesDeleted, d => d.Deleted == id);
    }

    [Fact]
    public async Task Save_ThenRemoveAndLoad_RoundTripsSameId()
    {
        await LoadAsync(App("app:1"));
        var id = (await _engine.Client.Images.InspectImageAsync("app:1", Ct)).ID;
        using var saved = new MemoryStream();
        await using (var stream = await _engine.Client.Images.SaveImageAsync("app:1", Ct))
        {
            await stream.CopyToAsync(saved, Ct);
        }

        var names = new List<string>();
        saved.Position = 0;
        using (var reader = new TarReader(saved, leaveOpen: true))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                names.Add(entry.Name);
            }
        }

        Assert.Contains("manifest.json", names);
        Assert.Contains("index.json", names);
        Assert.Contains("oci-layout", names);
        Assert.Contains("blobs/sha256/" + id[7..], names);

        await _engine.Client.Images.DeleteImageAsync("app:1", new ImageDeleteParameters(), Ct);
        var messages = await LoadAsync(saved.ToArray());
        Assert.Contains(messages, m => m.Stream == "Loaded image: app:1\n");
        Assert.Equal(id, (await _engine.Client.Images.InspectImageAsync("app:1", Ct)).ID);
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
