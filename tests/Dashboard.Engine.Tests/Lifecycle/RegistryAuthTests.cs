using System.Net;
using System.Text;
using Dashboard.Engine.Images;
using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Lifecycle;

/// <summary><c>X-Registry-Auth</c> on push and pull, and <c>POST /auth</c> (docker login), against Debian's docker-registry with htpasswd auth on 127.0.0.1.</summary>
public sealed class RegistryAuthTests : IAsyncLifetime
{
    private const string User = "pusher";
    private const string Password = "s3cret-Pa55word";

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
        _registry = await LocalRegistry.StartAsync((User, Password));
        await _engine.Images.Registries.SetInsecureAsync(_registry.Authority, true, Ct);
        var name = $"{_registry.Authority}/{repository}";
        await _engine.Client.Images.TagImageAsync("busybox", new ImageTagParameters { RepositoryName = name, Tag = tag }, Ct);
        return name;
    }

    private static string Header(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private async Task<List<JSONMessage>> PushAsync(string name, string tag, AuthConfig auth)
    {
        var messages = new List<JSONMessage>();
        await _engine.Client.Images.PushImageAsync(name, new ImagePushParameters { Tag = tag }, auth, new SyncProgress(messages.Add), Ct);
        return messages;
    }

    [Fact]
    public async Task Push_RegistryAuthCredentials_PushedAndNothingStored()
    {
        var name = await TaggedAsync("team/app", "1");

        var messages = await PushAsync(name, "1", new AuthConfig { Username = User, Password = Password, ServerAddress = _registry!.Authority });

        Assert.Null(messages.FirstOrDefault(m => m.Error is not null)?.Error?.Message);
        Assert.Contains(messages, m => m.Status?.StartsWith("1: digest: sha256:", StringComparison.Ordinal) == true);
        var entry = Assert.Single(await _engine.Images.Registries.ListAsync(Ct));
        Assert.Null(entry.Username);
        Assert.False(entry.HasSecret);
        var stored = string.Join("\n", Directory.EnumerateFiles(_engine.Root, "*", SearchOption.AllDirectories)
            .Where(f => new FileInfo(f).Length < 4 << 20 && !f.EndsWith(".sock", StringComparison.Ordinal)).Select(File.ReadAllText));
        Assert.DoesNotContain(Password, stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Push_WithoutOrWrongCredentials_UnauthorizedInStreamSecretNotEchoed()
    {
        var name = await TaggedAsync("team/app", "1");

        var anonymous = await PushAsync(name, "1", new AuthConfig());
        var wrong = await PushAsync(name, "1", new AuthConfig { Username = User, Password = "wrong-" + Password });

        foreach (var messages in new[] { anonymous, wrong })
        {
            var error = messages.FirstOrDefault(m => m.Error is not null)?.Error?.Message;
            Assert.NotNull(error);
            Assert.DoesNotContain(Password, error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Pull_RegistryAuthCredentials_PulledWithoutStoredCredentials()
    {
        var name = await TaggedAsync("team/pull", "1");
        Assert.DoesNotContain(await PushAsync(name, "1", new AuthConfig { Username = User, Password = Password }), m => m.Error is not null);
        await _engine.Client.Images.DeleteImageAsync(name + ":1", new ImageDeleteParameters(), Ct);

        var denied = new List<JSONMessage>();
        await _engine.Client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = name, Tag = "1" }, new AuthConfig(), new SyncProgress(denied.Add), Ct);
        var pulled = new List<JSONMessage>();
        await _engine.Client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = name, Tag = "1" }, new AuthConfig { Username = User, Password = Password }, new SyncProgress(pulled.Add), Ct);

        Assert.Contains(denied, m => m.Error is not null);
        Assert.Null(pulled.FirstOrDefault(m => m.Error is not null)?.Error?.Message);
        Assert.NotNull(await _engine.Client.Images.InspectImageAsync(name + ":1", Ct));
    }

    [Fact]
    public async Task DockerCli_PushAndPullWithConfigFileCredentials_Succeed()
    {
        Requires.Tool("docker");
        var name = await TaggedAsync("cli/app", "v1");
        var config = Path.Combine(_engine.Root, "docker-config");
        Directory.CreateDirectory(config);
        File.WriteAllText(Path.Combine(config, "config.json"),
            System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["auths"] = new Dictionary<string, object> { [_registry!.Authority] = new Dictionary<string, string> { ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(User + ":" + Password)) } },
            }));

        var push = await DockerCli.RunAsync(_engine, "push", name + ":v1");
        Assert.True(push.Code == 0, push.Stdout + push.Stderr);
        Assert.Contains("Pushed", push.Stdout);
        await _engine.Client.Images.DeleteImageAsync(name + ":v1", new ImageDeleteParameters(), Ct);
        var pull = await DockerCli.RunAsync(_engine, "pull", name + ":v1");
        Assert.True(pull.Code == 0, pull.Stdout + pull.Stderr);

        File.Delete(Path.Combine(config, "config.json"));
        var anonymous = await DockerCli.RunAsync(_engine, "push", name + ":v1");
        Assert.NotEqual(0, anonymous.Code);
    }

    [Fact]
    public async Task Push_IdentityToken_BadRequest()
    {
        var name = await TaggedAsync("app", "2");
        using var http = RawHttp.Create(_engine.Socket);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1.43/images/{name}/push?tag=2");
        request.Headers.TryAddWithoutValidation("X-Registry-Auth", Header("""{"identitytoken":"abc"}"""));
        using var response = await http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private async Task<(HttpStatusCode Status, string Body)> LoginAsync(string json)
    {
        using var http = RawHttp.Create(_engine.Socket);
        using var response = await http.PostAsync("/v1.43/auth", new StringContent(json, Encoding.UTF8, "application/json"), Ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Auth_RightCredentials_LoginSucceededAndNothingStored()
    {
        await TaggedAsync("login", "1");
        var server = _registry!.Authority;

        var plain = await LoginAsync($$"""{"username":"{{User}}","password":"{{Password}}","serveraddress":"{{server}}"}""");
        var asUrl = await LoginAsync($$"""{"username":"{{User}}","password":"{{Password}}","serveraddress":"http://{{server}}/v2/"}""");

        foreach (var (status, body) in new[] { plain, asUrl })
        {
            Assert.True(status == HttpStatusCode.OK, body);
            Assert.Contains("\"Status\":\"Login Succeeded\"", body, StringComparison.Ordinal);
        }

        var entry = Assert.Single(await _engine.Images.Registries.ListAsync(Ct));
        Assert.Null(entry.Username);
        Assert.False(entry.HasSecret);
    }

    [Fact]
    public async Task Auth_WrongOrMissingCredentials_RefusedSecretNotEchoed()
    {
        await TaggedAsync("login", "1");
        var server = _registry!.Authority;

        var wrong = await LoginAsync($$"""{"username":"{{User}}","password":"wrong-{{Password}}","serveraddress":"{{server}}"}""");
        var noUser = await LoginAsync($$"""{"password":"{{Password}}","serveraddress":"{{server}}"}""");
        var badAddress = await LoginAsync($$"""{"username":"{{User}}","password":"{{Password}}","serveraddress":"a b@c"}""");

        Assert.Equal(HttpStatusCode.Forbidden, wrong.Status);
        Assert.Contains("401", wrong.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noUser.Status);
        Assert.Equal(HttpStatusCode.BadRequest, badAddress.Status);
        Assert.All(new[] { wrong, noUser, badAddress }, r => Assert.DoesNotContain(Password, r.Body, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DockerCli_Login_SucceedsThenPushUsesTheSavedCredentials()
    {
        Requires.Tool("docker");
        var name = await TaggedAsync("cli/login", "v1");
        Directory.CreateDirectory(Path.Combine(_engine.Root, "docker-config"));

        var wrong = await DockerCli.RunAsync(_engine, ["login", "-u", User, "--password-stdin", _registry!.Authority], Encoding.UTF8.GetBytes("wrong\n"));
        var login = await DockerCli.RunAsync(_engine, ["login", "-u", User, "--password-stdin", _registry.Authority], Encoding.UTF8.GetBytes(Password + "\n"));
        var push = await DockerCli.RunAsync(_engine, "push", name + ":v1");

        Assert.NotEqual(0, wrong.Code);
        Assert.True(login.Code == 0, login.Stdout + login.Stderr);
        Assert.Contains("Login Succeeded", login.Stdout);
        Assert.True(push.Code == 0, push.Stdout + push.Stderr);
    }

    [Theory]
    [InlineData("", "docker.io")]
    [InlineData("https://index.docker.io/v1/", "docker.io")]
    [InlineData("Localhost:5000", "localhost:5000")]
    [InlineData("https://registry.example:8443/v2/", "registry.example:8443")]
    public void LoginRegistry_ServerAddress_RegistryName(string address, string expected)
    {
        Assert.Equal(expected, ImageService.LoginRegistry(address));
    }

    [Theory]
    [InlineData("""{"username":"u","password":"p:w"}""", "u", "p:w")]
    [InlineData("""{"auth":"dTpwOnc=","username":"ignored"}""", "u", "p:w")]
    [InlineData("""{"Username":"u","Password":"p","serveraddress":"r"}""", "u", "p")]
    public void Parse_Base64UrlAuthConfig_Credentials(string json, string user, string secret)
    {
        var credentials = RegistryAuthHeader.Parse(Header(json))!;

        Assert.Equal((user, secret), (credentials.Username, credentials.Secret));
        Assert.DoesNotContain(secret, credentials.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("e30=")]
    [InlineData("e30")]
    public void Parse_NoCredentials_Null(string? header)
    {
        Assert.Null(RegistryAuthHeader.Parse(header));
    }

    [Theory]
    [InlineData("%%%")]
    [InlineData("WyJhIl0")]
    [InlineData("eyJwYXNzd29yZCI6InRvcC1zZWNyZXQi")]
    public void Parse_Malformed_InvalidArgumentWithoutSecret(string header)
    {
        var e = Assert.Throws<EngineException>(() => RegistryAuthHeader.Parse(header));

        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.DoesNotContain("top-secret", e.Message, StringComparison.Ordinal);
    }

    private sealed class SyncProgress(Action<JSONMessage> handler) : IProgress<JSONMessage>
    {
        public void Report(JSONMessage value) => handler(value);
    }
}
