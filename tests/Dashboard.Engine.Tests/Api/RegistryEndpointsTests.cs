using System.Net;
using System.Text;
using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Api;

/// <summary><c>/dashboard/registries</c>: stored registry settings written by the web's Admins, never read back as secrets.</summary>
public sealed class RegistryEndpointsTests : IAsyncLifetime
{
    private const string User = "stored";
    private const string Password = "st0red-Pa55word";

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

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string registry, string? json = null)
    {
        using var http = RawHttp.Create(_engine.Socket);
        using var request = new HttpRequestMessage(method, "/dashboard/registries" + (registry.Length > 0 ? "/" + Uri.EscapeDataString(registry) : ""));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request, Ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Put_CredentialsAndInsecure_ListedWithoutSecretAndUsedByPull()
    {
        Requires.Tool("docker-registry");
        _registry = await LocalRegistry.StartAsync((User, Password));
        var server = _registry.Authority;
        var name = $"{server}/stored/app";
        await _engine.Images.Registries.SetInsecureAsync(server, true, Ct);
        await _engine.Client.Images.TagImageAsync("busybox", new ImageTagParameters { RepositoryName = name, Tag = "1" }, Ct);
        await _engine.Client.Images.PushImageAsync(name, new ImagePushParameters { Tag = "1" }, new AuthConfig { Username = User, Password = Password }, new Progress<JSONMessage>(), Ct);
        await _engine.Client.Images.DeleteImageAsync(name + ":1", new ImageDeleteParameters(), Ct);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, server)).Status);

        var put = await SendAsync(HttpMethod.Put, server, $$"""{"Username":"{{User}}","Password":"{{Password}}","Insecure":true}""");
        var list = await SendAsync(HttpMethod.Get, "");
        var messages = new List<JSONMessage>();
        await _engine.Client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = name, Tag = "1" }, new AuthConfig(), new SyncProgress(messages.Add), Ct);

        Assert.Equal(HttpStatusCode.NoContent, put.Status);
        Assert.Equal(HttpStatusCode.OK, list.Status);
        Assert.Contains($$"""{"Registry":"{{server}}","Username":"{{User}}","HasSecret":true,"Insecure":true}""", list.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, list.Body, StringComparison.Ordinal);
        Assert.Null(messages.FirstOrDefault(m => m.Error is not null)?.Error?.Message);
        Assert.NotNull(await _engine.Client.Images.InspectImageAsync(name + ":1", Ct));
    }

    [Fact]
    public async Task Put_WithoutUsername_KeepsCredentialsAndSetsInsecure()
    {
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Put, "registry.example:5000", """{"Username":"u","Password":"p","Insecure":true}""")).Status);

        var put = await SendAsync(HttpMethod.Put, "registry.example:5000", """{"Insecure":false}""");

        Assert.Equal(HttpStatusCode.NoContent, put.Status);
        var entry = Assert.Single(await _engine.Images.Registries.ListAsync(Ct));
        Assert.Equal(("registry.example:5000", "u", true, false), (entry.Registry, entry.Username, entry.HasSecret, entry.Insecure));
    }

    [Fact]
    public async Task Delete_ForgetsEverything_ThenUnknownIs404()
    {
        await SendAsync(HttpMethod.Put, "ghcr.io", """{"Username":"u","Password":"p","Insecure":false}""");

        var first = await SendAsync(HttpMethod.Delete, "ghcr.io");
        var second = await SendAsync(HttpMethod.Delete, "ghcr.io");

        Assert.Equal(HttpStatusCode.NoContent, first.Status);
        Assert.Empty(await _engine.Images.Registries.ListAsync(Ct));
        Assert.Equal(HttpStatusCode.NotFound, second.Status);
        Assert.Contains("no settings for registry ghcr.io", second.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ghcr.io", """{"Username":"u","Insecure":false}""", "password")]
    [InlineData("ghcr.io", """{"Username":"a:b","Password":"p"}""", "username")]
    [InlineData("bad host", """{"Insecure":true}""", "invalid registry")]
    [InlineData("ghcr.io", "", "JSON body")]
    [InlineData("ghcr.io", """{"Insecure":"yes"}""", "invalid JSON")]
    public async Task Put_BadInput_400NothingStored(string registry, string json, string message)
    {
        var put = await SendAsync(HttpMethod.Put, registry, json);

        Assert.Equal(HttpStatusCode.BadRequest, put.Status);
        Assert.Contains(message, put.Body, StringComparison.Ordinal);
        Assert.Empty(await _engine.Images.Registries.ListAsync(Ct));
    }

    private sealed class SyncProgress(Action<JSONMessage> handler) : IProgress<JSONMessage>
    {
        public void Report(JSONMessage value) => handler(value);
    }
}
