using System.Net;
using System.Text.Json;
using Dashboard.Engine.Tests.Fakes;

namespace Dashboard.Engine.Tests.Api;

/// <summary>Requests no well-behaved client sends: the API must answer each with Docker's error shape (security.md D4).</summary>
public sealed class RawApiTests : IAsyncLifetime
{
    private TestEngine _engine = null!;
    private HttpClient _http = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _engine = await TestEngine.StartAsync();
        _http = RawHttp.Create(_engine.Socket);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _engine.DisposeAsync();
    }

    private static async Task<string> MessageAsync(HttpResponseMessage response)
    {
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        return doc.RootElement.GetProperty("message").GetString()!;
    }

    [Theory]
    [InlineData("""{"Image":"busybox","Cmd":["sh"],"HostConfig":{"Privileged":false,"Privileged":true}}""")]
    [InlineData("""{"Image":"busybox","HostConfig":{"Privileged":false,"privileged":true}}""")]
    [InlineData("""{"Image":"busybox",}""")]
    [InlineData("""{"Image":"busybox" /* c */}""")]
    [InlineData("""{"Image":"busybox","HostConfig":{"Memory":"1000000000"}}""")]
    [InlineData("""{"Image":""")]
    [InlineData("")]
    public async Task Create_MalformedOrAmbiguousJson_BadRequest(string body)
    {
        using var response = await _http.PostAsync("/v1.43/containers/create", RawHttp.Json(body), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotEmpty(await MessageAsync(response));
        Assert.Empty(Directory.Exists(_engine.Options.ContainersDir) ? Directory.GetDirectories(_engine.Options.ContainersDir) : []);
    }

    [Fact]
    public async Task Create_OversizedBody_BadRequest()
    {
        var big = """{"Image":"busybox","Env":["X=""" + new string('a', 2 * 1024 * 1024) + "\"]}";
        using var response = await _http.PostAsync("/containers/create", RawHttp.Json(big), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("too large", await MessageAsync(response));
    }

    [Fact]
    public async Task Create_UnsupportedPrivilegedFieldsRefused_NotIgnored()
    {
        using var response = await _http.PostAsync("/containers/create", RawHttp.Json("""{"Image":"busybox","HostConfig":{"Devices":[{"PathOnHost":"/dev/sda","PathInContainer":"/dev/sda","CgroupPermissions":"rwm"}]}}"""), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Devices", await MessageAsync(response));
    }

    [Fact]
    public async Task VersionPrefix_TooNew_BadRequest_SupportedOk()
    {
        using var tooNew = await _http.GetAsync("/v1.50/version", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, tooNew.StatusCode);
        Assert.Contains("Maximum supported API version is 1.43", await MessageAsync(tooNew));
        using var ok = await _http.GetAsync("/v1.41/containers/json", Ct);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("1.43", ok.Headers.GetValues("Api-Version").Single());
    }

    [Fact]
    public async Task Ping_HeadAndGet_Ok()
    {
        using var head = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/_ping"), Ct);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal("1.43", head.Headers.GetValues("Api-Version").Single());
        Assert.Equal("OK", await _http.GetStringAsync("/_ping", Ct));
    }

    [Theory]
    [InlineData("/containers/..%2F..%2Fetc/json")]
    [InlineData("/containers/nope/json")]
    [InlineData("/no/such/route")]
    public async Task UnknownObjectsAndRoutes_NotFoundJson(string path)
    {
        using var response = await _http.GetAsync(path, Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.NotEmpty(await MessageAsync(response));
    }

    [Fact]
    public async Task Logs_NoStreamChosen_BadRequest()
    {
        using var create = await _http.PostAsync("/containers/create?name=quiet", RawHttp.Json("""{"Image":"busybox","Cmd":["sleep"]}"""), Ct);
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        using var response = await _http.GetAsync("/containers/quiet/logs", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Start_AlreadyRunning_NotModified304()
    {
        using var create = await _http.PostAsync("/containers/create?name=twice", RawHttp.Json("""{"Image":"busybox","Cmd":["sleep","9"]}"""), Ct);
        using var first = await _http.PostAsync("/containers/twice/start", null, Ct);
        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        using var second = await _http.PostAsync("/containers/twice/start", null, Ct);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Fact]
    public async Task Wait_BadCondition_BadRequest()
    {
        using var create = await _http.PostAsync("/containers/create?name=waiter", RawHttp.Json("""{"Image":"busybox","Cmd":["sleep"]}"""), Ct);
        using var response = await _http.PostAsync("/containers/waiter/wait?condition=whenever", null, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Socket_Mode0600WithoutGroup()
    {
        var mode = File.GetUnixFileMode(_engine.Socket);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
    }
}
