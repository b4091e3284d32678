using Dashboard.Engine.Tests.Fakes;
using Dashboard.Oci.Runtime;
using Spec = Dashboard.Oci.Runtime.Spec;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Containers;

/// <summary>docker run --init (HostConfig.Init) reaches the runtime as the run.dashboard.init annotation.</summary>
public sealed class InitOptionTests : IAsyncLifetime
{
    private TestEngine _engine = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _engine = await TestEngine.StartAsync();

    public async ValueTask DisposeAsync() => await _engine.DisposeAsync();

    private async Task<Spec> StartedSpecAsync(bool? init, Dictionary<string, string>? annotations = null)
    {
        var c = await _engine.Client.Containers.CreateContainerAsync(
            new CreateContainerParameters { Image = "busybox", Cmd = ["sleep", "1000"], HostConfig = new HostConfig { Init = init, Annotations = annotations } }, Ct);
        await _engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
        var bundle = _engine.Runtime.Find(c.ID)!.Request.BundleDir;
        return RuntimeJson.ParseSpec(await File.ReadAllTextAsync(Path.Combine(bundle, "config.json"), Ct));
    }

    [Fact]
    public async Task Create_HostConfigInit_SetsTheRuntimeInitAnnotation()
    {
        var spec = await StartedSpecAsync(true, new Dictionary<string, string> { ["org.example"] = "kept" });
        Assert.Equal("true", spec.Annotations!["run.dashboard.init"]);
        Assert.Equal("kept", spec.Annotations["org.example"]);
        Assert.Equal(["sleep", "1000"], spec.Process!.Args);
    }

    [Fact]
    public async Task Create_WithoutInit_HasNoInitAnnotation()
    {
        var spec = await StartedSpecAsync(null);
        Assert.False(spec.Annotations?.ContainsKey("run.dashboard.init") ?? false);
    }
}
