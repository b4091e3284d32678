using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Api;

/// <summary>The <c>/volumes</c> endpoints and volumes in container create, through Docker.DotNet.Enhanced and the docker CLI (fake runtime).</summary>
public sealed class VolumeApiTests : IAsyncLifetime
{
    private TestEngine _engine = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _engine = await TestEngine.StartAsync();

    public async ValueTask DisposeAsync() => await _engine.DisposeAsync();

    private Dashboard.Oci.Runtime.Spec Spec(string id) =>
        Dashboard.Oci.Runtime.RuntimeJson.ParseSpec(File.ReadAllText(Path.Combine(_engine.Manager.ContainerDir(id), "config.json")));

    [Fact]
    public async Task CreateInspectListRemove_NamedVolume()
    {
        var created = await _engine.Client.Volumes.CreateAsync(new VolumesCreateParameters { Name = "data_1", Labels = new Dictionary<string, string> { ["tier"] = "db" } }, Ct);
        Assert.Equal("data_1", created.Name);
        Assert.Equal("local", created.Driver);
        Assert.Equal(Path.Combine(_engine.Options.DataRoot, "volumes", "data_1", "_data"), created.Mountpoint);
        Assert.True(Directory.Exists(created.Mountpoint));

        // Create is idempotent.
        Assert.Equal(created.Mountpoint, (await _engine.Client.Volumes.CreateAsync(new VolumesCreateParameters { Name = "data_1" }, Ct)).Mountpoint);
        Assert.Equal("db", (await _engine.Client.Volumes.InspectAsync("data_1", Ct)).Labels["tier"]);

        // Exact names: "data%1" and "data_" are not "data_1" (security.md E5 c).
        await _engine.Client.Volumes.CreateAsync(new VolumesCreateParameters { Name = "dataX1" }, Ct);
        var list = await _engine.Client.Volumes.ListAsync(new VolumesListParameters { Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { ["tier=db"] = true } } }, Ct);
        Assert.Equal(["data_1"], list.Volumes.Select(v => v.Name));
        await Assert.ThrowsAsync<DockerApiException>(() => _engine.Client.Volumes.InspectAsync("data%1", Ct));

        await _engine.Client.Volumes.RemoveAsync("data_1", cancellationToken: Ct);
        Assert.False(Directory.Exists(Path.GetDirectoryName(created.Mountpoint)));
        var missing = await Assert.ThrowsAsync<DockerApiException>(() => _engine.Client.Volumes.InspectAsync("data_1", Ct));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Theory]
    [InlineData("""{"Name":"../etc"}""")]
    [InlineData("""{"Name":"-oProxyCommand=x"}""")]
    [InlineData("""{"Name":"ok","DriverOpts":{"type":"none","device":"/","o":"bind"}}""")]
    [InlineData("""{"Name":"ok","Driver":"nfs"}""")]
    public async Task Create_BadNameOrDriverOptions_Refused(string body)
    {
        using var http = RawHttp.Create(_engine.Socket);
        using var response = await http.PostAsync("/volumes/create", RawHttp.Json(body), Ct);
        Assert.True((int)response.StatusCode is 400 or 404, $"{response.StatusCode}");
        Assert.Empty(await _engine.Manager.Store.ListVolumesAsync(Ct));
    }

    [Fact]
    public async Task NamedVolumeInBinds_CopiedUpFromImageOnce_InUseUntilContainerGone()
    {
        var c = await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", HostConfig = new HostConfig { Binds = ["appdata:/data"] } }, Ct);
        var volume = await _engine.Client.Volumes.InspectAsync("appdata", Ct);
        var seed = Path.Combine(volume.Mountpoint, "seed.txt");
        Assert.Equal("from the image\n", File.ReadAllText(seed));
        var dirStat = Dashboard.Linux.Fs.FileCalls.Lstat(volume.Mountpoint);
        Assert.Equal((33u, 33u), (dirStat.Uid, dirStat.Gid));
        Assert.Equal(33u, Dashboard.Linux.Fs.FileCalls.Lstat(seed).Uid);

        var mount = Assert.Single(Spec(c.ID).Mounts!, m => m.Destination == "/data");
        Assert.Equal(volume.Mountpoint, mount.Source);
        var inspect = await _engine.Client.Containers.InspectContainerAsync(c.ID, Ct);
        var shown = Assert.Single(inspect.Mounts);
        Assert.Equal(("volume", "appdata", "/data", true), (shown.Type, shown.Name, shown.Destination, shown.RW));
        Assert.Equal(["appdata:/data"], inspect.HostConfig!.Binds!);

        // Not empty any more: a second container does not copy over what is there.
        File.WriteAllText(seed, "changed by the first\n");
        var c2 = await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", HostConfig = new HostConfig { Binds = ["appdata:/data:ro"] } }, Ct);
        Assert.Equal("changed by the first\n", File.ReadAllText(seed));
        Assert.Contains("ro", Assert.Single(Spec(c2.ID).Mounts!, m => m.Destination == "/data").Options!);

        var inUse = await Assert.ThrowsAsync<DockerApiException>(() => _engine.Client.Volumes.RemoveAsync("appdata", force: true, Ct));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, inUse.StatusCode);
        Assert.Empty((await _engine.Client.Volumes.PruneAsync(new VolumesPruneParameters { Filters = new Dictionary<string, IDictionary<string, bool>> { ["all"] = new Dictionary<string, bool> { ["true"] = true } } }, Ct)).VolumesDeleted ?? []);

        // Removing the containers (even with -v) keeps a named volume and its data.
        await _engine.Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { RemoveVolumes = true }, Ct);
        await _engine.Client.Containers.RemoveContainerAsync(c2.ID, new ContainerRemoveParameters { RemoveVolumes = true }, Ct);
        Assert.Equal("changed by the first\n", File.ReadAllText(seed));
        await _engine.Client.Volumes.RemoveAsync("appdata", cancellationToken: Ct);
    }

    [Fact]
    public async Task AnonymousVolumes_FromMountsAndImageVolume_RemovedWithRmV_PrunedByDefault()
    {
        await _engine.LoadAsync(TestImages.Archive(["withvol:1"], [TestImages.EtcLayer()], new Dashboard.Oci.Image.ContainerConfig
        {
            Cmd = ["sleep"],
            Volumes = new Dictionary<string, Dashboard.Oci.Image.EmptyObject> { ["/data"] = new(), ["/cache"] = new() },
        }));
        var c = await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = "withvol:1",
            HostConfig = new HostConfig { Mounts = [new Mount { Type = "volume", Target = "/data" }, new Mount { Type = "tmpfs", Target = "/run" }] },
        }, Ct);
        var inspect = await _engine.Client.Containers.InspectContainerAsync(c.ID, Ct);
        var volumes = inspect.Mounts.Where(m => m.Type == "volume").OrderBy(m => m.Destination, StringComparer.Ordinal).ToList();
        Assert.Equal(["/cache", "/data"], volumes.Select(m => m.Destination));
        Assert.All(volumes, v => Assert.Matches("^[0-9a-f]{64}$", v.Name));
        Assert.Equal("from the image\n", File.ReadAllText(Path.Combine(volumes[1].Source, "seed.txt")));
        Assert.Contains(Spec(c.ID).Mounts!, m => m.Destination == "/run" && m.Type == "tmpfs");

        await _engine.Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { RemoveVolumes = true }, Ct);
        Assert.Empty((await _engine.Client.Volumes.ListAsync(Ct)).Volumes ?? []);

        // Without -v the anonymous volume stays, unused: prune takes it (and only anonymous ones by default).
        await _engine.Client.Volumes.CreateAsync(new VolumesCreateParameters { Name = "keepme" }, Ct);
        var c2 = await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "withvol:1" }, Ct);
        await _engine.Client.Containers.RemoveContainerAsync(c2.ID, new ContainerRemoveParameters(), Ct);
        Assert.Equal(3, (await _engine.Client.Volumes.ListAsync(Ct)).Volumes.Count);
        var pruned = await _engine.Client.Volumes.PruneAsync(new VolumesPruneParameters(), Ct);
        Assert.Equal(2, pruned.VolumesDeleted.Count);
        Assert.Equal(["keepme"], (await _engine.Client.Volumes.ListAsync(Ct)).Volumes.Select(v => v.Name));
    }

    [Fact]
    public async Task ImageVolumePath_Escaping_Refused()
    {
        await _engine.LoadAsync(TestImages.Archive(["evilvol:1"], [TestImages.EtcLayer()], new Dashboard.Oci.Image.ContainerConfig
        {
            Cmd = ["sleep"],
            Volumes = new Dictionary<string, Dashboard.Oci.Image.EmptyObject> { ["/../../../../etc"] = new() },
        }));
        var e = await Assert.ThrowsAsync<DockerApiException>(() => _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "evilvol:1" }, Ct));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Empty((await _engine.Client.Volumes.ListAsync(Ct)).Volumes ?? []);
        Assert.Empty(Directory.GetDirectories(_engine.Options.ContainersDir));
    }

    [Fact]
    public async Task DockerCli_VolumeCreateLsInspectRm()
    {
        Requires.Tool("docker");
        var create = await DockerCli.RunAsync(_engine, "volume", "create", "--label", "a=b", "clivol");
        Assert.True(create.Code == 0, create.Stderr);
        Assert.Equal("clivol", create.Stdout.Trim());
        var ls = await DockerCli.RunAsync(_engine, "volume", "ls", "--format", "{{.Driver}} {{.Name}}");
        Assert.Equal("local clivol", ls.Stdout.Trim());
        var inspect = await DockerCli.RunAsync(_engine, "volume", "inspect", "--format", "{{.Mountpoint}} {{index .Labels \"a\"}}", "clivol");
        Assert.Equal($"{Path.Combine(_engine.Options.DataRoot, "volumes", "clivol", "_data")} b", inspect.Stdout.Trim());

        var run = await DockerCli.RunAsync(_engine, "run", "-d", "--name", "user", "-v", "clivol:/data", "busybox", "sleep");
        Assert.True(run.Code == 0, run.Stderr);
        var busy = await DockerCli.RunAsync(_engine, "volume", "rm", "clivol");
        Assert.NotEqual(0, busy.Code);
        Assert.Contains("volume is in use", busy.Stderr);
        Assert.Equal(0, (await DockerCli.RunAsync(_engine, "rm", "-f", "user")).Code);

        var rm = await DockerCli.RunAsync(_engine, "volume", "rm", "clivol");
        Assert.True(rm.Code == 0, rm.Stderr);
        Assert.Equal("", (await DockerCli.RunAsync(_engine, "volume", "ls", "-q")).Stdout.Trim());
    }
}
