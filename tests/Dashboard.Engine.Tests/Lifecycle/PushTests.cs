using System.Net;
using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Lifecycle;

/// <summary><c>POST /images/{name}/push</c> to Debian's docker-registry on 127.0.0.1, through the docker CLI and Docker.DotNet.</summary>
public sealed class PushTests : IAsyncLifetime
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

    private async Task<string> TaggedAsync(string repository, string tag)
    {
        Requires.Tool("docker-registry");
        _registry = await LocalRegistry.StartAsync();
        await _engine.Images.Registries.SetInsecureAsync(_registry.Authority, true, Ct);
        var name = $"{_registry.Authority}/{repository}";
        await _engine.Client.Images.TagImageAsync("busybox", new ImageTagParameters { RepositoryName = name, Tag = tag }, Ct);
        return name;
    }

    private async Task<HttpStatusCode> ManifestStatusAsync(string repository, string tag)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Head, $"http://{_registry!.Authority}/v2/{repository}/manifests/{tag}");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        using var response = await http.SendAsync(request, Ct);
        return response.StatusCode;
    }

    [Fact]
    public async Task DockerPush_ToLocalRegistry_ProgressDigestAndManifestThere()
    {
        Requires.Tool("docker");
        var name = await TaggedAsync("team/bb", "v1");
        var push = await DockerCli.RunAsync(_engine, "push", name + ":v1");
        Assert.True(push.Code == 0, push.Stdout + push.Stderr);
        Assert.Contains($"The push refers to repository [{name}]", push.Stdout);
        Assert.Contains("Pushed", push.Stdout);
        Assert.Matches("v1: digest: sha256:[0-9a-f]{64} size: [0-9]+", push.Stdout);
        Assert.Equal(HttpStatusCode.OK, await ManifestStatusAsync("team/bb", "v1"));

        var again = await DockerCli.RunAsync(_engine, "push", name + ":v1");
        Assert.True(again.Code == 0, again.Stderr);
        Assert.Contains("Layer already exists", again.Stdout);
        Assert.Contains(await _engine.Manager.Store.ListEventsAsync(null, null, Ct), e => e.Type == "image" && e.Action == "push");
    }

    [Fact]
    public async Task PushImageAsync_WithRegistryAuthHeader_ProgressStream()
    {
        var name = await TaggedAsync("app", "2");
        var messages = new List<JSONMessage>();
        await _engine.Client.Images.PushImageAsync(name, new ImagePushParameters { Tag = "2" }, new AuthConfig { Username = "", Password = "" }, new SyncProgress(messages.Add), Ct);
        Assert.Null(messages.FirstOrDefault(m => m.Error is not null)?.Error?.Message);
        Assert.Contains(messages, m => m.Status == "Preparing");
        Assert.Contains(messages, m => m.Status?.StartsWith("2: digest: sha256:", StringComparison.Ordinal) == true);
        Assert.Equal(HttpStatusCode.OK, await ManifestStatusAsync("app", "2"));
    }

    [Fact]
    public async Task Push_UnknownTag_NotFound()
    {
        await TaggedAsync("app", "2");
        using var http = RawHttp.Create(_engine.Socket);
        using var response = await http.PostAsync($"/v1.43/images/{_registry!.Authority}/app/push?tag=nope", null, Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("does not exist locally", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Push_MalformedRegistryAuth_BadRequest()
    {
        var name = await TaggedAsync("app", "2");
        using var http = RawHttp.Create(_engine.Socket);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1.43/images/{name}/push?tag=2");
        request.Headers.TryAddWithoutValidation("X-Registry-Auth", "%%%not-base64");
        using var response = await http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private sealed class SyncProgress(Action<JSONMessage> handler) : IProgress<JSONMessage>
    {
        public void Report(JSONMessage value) => handler(value);
    }
}
