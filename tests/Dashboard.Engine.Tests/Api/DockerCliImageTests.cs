using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;

namespace Dashboard.Engine.Tests.Api;

/// <summary>The real <c>docker</c> CLI's image commands against the engine (fake runtime for the containers).</summary>
public sealed class DockerCliImageTests : IAsyncLifetime
{
    private TestEngine _engine = null!;

    public async ValueTask InitializeAsync() => _engine = await TestEngine.StartAsync();

    public async ValueTask DisposeAsync() => await _engine.DisposeAsync();

    private Task<(int Code, string Stdout, string Stderr)> Docker(params string[] args) => DockerCli.RunAsync(_engine, args);

    private static byte[] App(string name) =>
        TestImages.Archive([name], [TestImages.EtcLayer()], new Dashboard.Oci.Image.ContainerConfig { Cmd = ["sleep"], Labels = new() { ["k"] = "v" } });

    [Fact]
    public async Task LoadImagesTagRmiSaveLoad_RoundTrip()
    {
        Requires.Tool("docker");
        var archive = Path.Combine(_engine.Root, "app.tar");
        File.WriteAllBytes(archive, App("app:1"));

        var load = await Docker("load", "-i", archive);
        Assert.True(load.Code == 0, load.Stderr);
        Assert.Equal("Loaded image: app:1", load.Stdout.Trim());

        var images = await Docker("images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}");
        Assert.True(images.Code == 0, images.Stderr);
        var line = Assert.Single(images.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("app:1 ", StringComparison.Ordinal));
        var id = line.Split(' ')[1];
        Assert.Matches("^sha256:[0-9a-f]{64}$", id);

        var tag = await Docker("tag", "app:1", "registry.local:5000/app:2");
        Assert.True(tag.Code == 0, tag.Stderr);
        var inspect = await Docker("image", "inspect", "--format", "{{.Id}} {{len .RepoTags}}", "registry.local:5000/app:2");
        Assert.Equal($"{id} 2", inspect.Stdout.Trim());

        var untag = await Docker("rmi", "registry.local:5000/app:2");
        Assert.True(untag.Code == 0, untag.Stderr);
        Assert.Equal("Untagged: registry.local:5000/app:2", untag.Stdout.Trim());

        var saved = Path.Combine(_engine.Root, "saved.tar");
        var save = await Docker("save", "-o", saved, "app:1");
        Assert.True(save.Code == 0, save.Stderr);
        Assert.True(new FileInfo(saved).Length > 0);

        var rmi = await Docker("rmi", "app:1");
        Assert.True(rmi.Code == 0, rmi.Stderr);
        Assert.Equal($"Untagged: app:1\nDeleted: {id}", rmi.Stdout.Trim());
        var gone = await Docker("image", "inspect", "app:1");
        Assert.NotEqual(0, gone.Code);
        Assert.Contains("No such image: app:1", gone.Stderr);

        // docker save | docker load through stdin.
        var reload = await DockerCli.RunAsync(_engine, ["load"], File.ReadAllBytes(saved));
        Assert.True(reload.Code == 0, reload.Stderr);
        Assert.Equal("Loaded image: app:1", reload.Stdout.Trim());
        Assert.Equal(id, (await Docker("image", "inspect", "--format", "{{.Id}}", "app:1")).Stdout.Trim());
    }

    [Fact]
    public async Task RunLogsRmRmi_FromLoadedImage_InUseConflict()
    {
        Requires.Tool("docker");
        var archive = Path.Combine(_engine.Root, "app.tar");
        File.WriteAllBytes(archive, App("app:1"));
        Assert.Equal(0, (await Docker("load", "-q", "-i", archive)).Code);

        var run = await Docker("run", "-d", "--name", "web", "app:1");
        Assert.True(run.Code == 0, run.Stderr);
        var ps = await Docker("ps", "--format", "{{.Names}} {{.Image}} {{.Command}} {{.Label \"k\"}}");
        Assert.Equal("web app:1 \"sleep\" v", ps.Stdout.Trim());

        var echo = await Docker("run", "-d", "--name", "once", "app:1", "echo", "hello", "image");
        Assert.True(echo.Code == 0, echo.Stderr);
        Assert.Equal("0", (await Docker("wait", "once")).Stdout.Trim());
        var logs = await Docker("logs", "once");
        Assert.Equal("hello image\n", logs.Stdout);

        var conflict = await Docker("rmi", "app:1");
        Assert.NotEqual(0, conflict.Code);
        Assert.Contains("must force", conflict.Stderr);

        Assert.Equal(0, (await Docker("rm", "-f", "web", "once")).Code);
        var rmi = await Docker("rmi", "app:1");
        Assert.True(rmi.Code == 0, rmi.Stderr);
        Assert.Contains("Deleted: sha256:", rmi.Stdout);
    }

    [Fact]
    public async Task ImagePrune_RemovesDanglingOnly()
    {
        Requires.Tool("docker");
        File.WriteAllBytes(Path.Combine(_engine.Root, "unnamed.tar"), TestImages.Archive([], [TestImages.EtcLayer(), new Dashboard.Testing.Images.TestTar().File("x", "x").ToArray()], new Dashboard.Oci.Image.ContainerConfig { Cmd = ["x"] }));
        var load = await Docker("load", "-i", Path.Combine(_engine.Root, "unnamed.tar"));
        Assert.True(load.Code == 0, load.Stderr);
        Assert.StartsWith("Loaded image ID: sha256:", load.Stdout.Trim(), StringComparison.Ordinal);
        var id = load.Stdout.Trim()["Loaded image ID: ".Length..];

        var dangling = await Docker("images", "-q", "--no-trunc", "--filter", "dangling=true");
        Assert.Equal(id, dangling.Stdout.Trim());

        var prune = await Docker("image", "prune", "-f");
        Assert.True(prune.Code == 0, prune.Stderr);
        Assert.Contains("deleted: " + id, prune.Stdout, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("", (await Docker("images", "-q", "--filter", "dangling=true")).Stdout.Trim());
        Assert.Contains("busybox", (await Docker("images", "--format", "{{.Repository}}")).Stdout);
    }
}
