using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;
using Dashboard.Testing.Images;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Api;

/// <summary><c>POST /images/create</c> (pull) from Debian's docker-registry on 127.0.0.1, with skopeo pushing the image (fake runtime for containers).</summary>
public sealed class PullTests : IAsyncLifetime
{
    private TestEngine _engine = null!;
    private LocalRegistry? _registry;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _engine = await TestEngine.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }
    }

    /// <summary>A registry holding busybox as test/bb:1, registered with the engine as an insecure (HTTP) registry.</summary>
    private async Task<LocalRegistry> RegistryWithBusyboxAsync(bool configure = true)
    {
        Requires.Tool("docker-registry");
        Requires.Tool("skopeo");
        _registry = await LocalRegistry.StartAsync();
        var layout = Path.Combine(_engine.Root, "layout");
        BusyboxImage.CreateLayout(layout);
        _registry.PushLayout(layout, "test/bb:1");
        if (configure)
        {
            await _engine.Images.Registries.SetInsecureAsync(_registry.Authority, true, Ct);
        }

        return _registry;
    }

    [Fact]
    public async Task DockerPull_FromLocalRegistry_ProgressThenRunnable()
    {
        Requires.Tool("docker");
        var registry = await RegistryWithBusyboxAsync();
        var reference = $"{registry.Authority}/test/bb:1";

        var pull = await DockerCli.RunAsync(_engine, "pull", reference);
        Assert.True(pull.Code == 0, pull.Stderr);
        Assert.Contains("1: Pulling from test/bb", pull.Stdout);
        Assert.Contains("Pull complete", pull.Stdout);
        Assert.Contains("Digest: sha256:", pull.Stdout);
        Assert.Contains("Status: Downloaded newer image for " + reference, pull.Stdout);

        var again = await DockerCli.RunAsync(_engine, "pull", reference);
        Assert.True(again.Code == 0, again.Stderr);
        Assert.Contains("Status: Image is up to date for " + reference, again.Stdout);

        var images = await DockerCli.RunAsync(_engine, "images", "--format", "{{.Repository}}:{{.Tag}}", registry.Authority + "/test/bb");
        Assert.Equal(reference, images.Stdout.Trim());
        var run = await DockerCli.RunAsync(_engine, "run", "-d", "--name", "pulled", reference, "echo", "pulled");
        Assert.True(run.Code == 0, run.Stderr);
        Assert.Equal("0", (await DockerCli.RunAsync(_engine, "wait", "pulled")).Stdout.Trim());
        Assert.Equal("pulled\n", (await DockerCli.RunAsync(_engine, "logs", "pulled")).Stdout);
    }

    [Fact]
    public async Task CreateImage_DockerDotNet_ReportsLayerProgressDetail()
    {
        var registry = await RegistryWithBusyboxAsync();
        var messages = new List<JSONMessage>();
        await _engine.Client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = $"{registry.Authority}/test/bb", Tag = "1" }, null, new SyncProgress<JSONMessage>(messages.Add), Ct);
        var layer = Assert.Single(messages, m => m.Status == "Pull complete").ID;
        Assert.Matches("^[0-9a-f]{12}$", layer);
        var total = messages.Where(m => m.ID == layer && m.Progress?.Total > 0).Select(m => m.Progress!.Total).FirstOrDefault();
        Assert.True(total > 0, "no progressDetail total for the layer");
        Assert.Contains(messages, m => m.ID == layer && m.Status == "Extracting");
        Assert.Null(messages.FirstOrDefault(m => m.Error is not null)?.Error?.Message);
        Assert.Equal($"{registry.Authority}/test/bb:1", Assert.Single((await _engine.Client.Images.InspectImageAsync($"{registry.Authority}/test/bb:1", Ct)).RepoTags));
    }

    [Fact]
    public async Task Pull_UnknownTag_ErrorInStream_NoImage()
    {
        Requires.Tool("docker");
        var registry = await RegistryWithBusyboxAsync();
        var pull = await DockerCli.RunAsync(_engine, "pull", $"{registry.Authority}/test/bb:nope");
        Assert.NotEqual(0, pull.Code);
        Assert.Contains("nope", pull.Stderr);
        await Assert.ThrowsAsync<DockerImageNotFoundException>(() => _engine.Client.Images.InspectImageAsync($"{registry.Authority}/test/bb:nope", Ct));
    }

    [Fact]
    public async Task CreateContainer_AbsentImage_PulledOnlyFromConfiguredRegistry()
    {
        var registry = await RegistryWithBusyboxAsync(configure: false);
        var reference = $"{registry.Authority}/test/bb:1";
        var missing = await Assert.ThrowsAsync<DockerImageNotFoundException>(() => _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = reference }, Ct));
        Assert.Contains("No such image: " + reference, missing.Message);

        await _engine.Images.Registries.SetInsecureAsync(registry.Authority, true, Ct);
        var c = await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = reference, Cmd = ["echo", "x"] }, Ct);
        Assert.Equal((await _engine.Client.Images.InspectImageAsync(reference, Ct)).ID, (await _engine.Client.Containers.InspectContainerAsync(c.ID, Ct)).Image);
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
