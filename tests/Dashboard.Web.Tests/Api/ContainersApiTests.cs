using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Fakes;
using Dashboard.Web.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Api;

/// <summary>One app for the class (tests in a class run one at a time); each test compares engine calls before and after.</summary>
public sealed class ContainersApiTests(ContainersApiTests.Fixture fixture) : IClassFixture<ContainersApiTests.Fixture>
{
    private readonly WebAppFactory _app = fixture.App;
    private readonly HttpClient _operator = fixture.Operator;
    private readonly HttpClient _admin = fixture.Admin;
    private readonly HttpClient _viewer = fixture.Viewer;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public sealed class Fixture : IAsyncLifetime
    {
        public WebAppFactory App { get; } = new();

        public HttpClient Operator { get; private set; } = default!;

        public HttpClient Admin { get; private set; } = default!;

        public HttpClient Viewer { get; private set; } = default!;

        public async ValueTask InitializeAsync()
        {
            Operator = await ApiTestClient.BearerForNewUserAsync(App, "api-op", Roles.Operator);
            Admin = await ApiTestClient.BearerForNewUserAsync(App, "api-admin", Roles.Admin);
            Viewer = await ApiTestClient.BearerForNewUserAsync(App, "api-viewer", Roles.Viewer);
        }

        public async ValueTask DisposeAsync()
        {
            Operator.Dispose();
            Admin.Dispose();
            Viewer.Dispose();
            await App.DisposeAsync();
        }
    }

    [Fact]
    public async Task ListContainers_Viewer_ReturnsEngineRows()
    {
        _app.Engine.SetContainer(FakeEngineClient.Container("abc123", "web", ContainerState.Running));

        var rows = await _viewer.GetFromJsonAsync<JsonElement>("/api/containers", Ct);

        var row = Assert.Single(rows.EnumerateArray(), r => r.GetProperty("id").GetString() == "abc123");
        Assert.Equal("running", row.GetProperty("state").GetString());
    }

    [Fact]
    public async Task CreateContainer_Operator_CreatesStartsAndAudits()
    {
        const string body = """
            {"image":"busybox:latest","name":"api-made","cmd":["sh","-c","echo hi"],"env":["A=1"],
             "ports":["8080:80"],"labels":{"k":"v"},"start":true}
            """;

        using var response = await _operator.PostAsync("/api/containers", ApiTestClient.Json(body), Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var id = created.GetProperty("id").GetString()!;
        Assert.True(created.GetProperty("started").GetBoolean());
        var request = _app.Engine.Created.Last();
        Assert.Equal("api-made", request.Name);
        Assert.Equal(["sh", "-c", "echo hi"], request.Command!);
        Assert.Equal(new PortPublish(80, "tcp", null, 8080), Assert.Single(request.Ports));
        Assert.Contains(("start", id), _app.Engine.Calls);
        Assert.Contains(_app.Services.GetRequiredService<IAuditLog>().Recent(50),
            e => e.Action == "CreateContainer" && e.User == "api-op" && e.Outcome == AuditOutcome.Succeeded);
    }

    [Theory]
    [InlineData("""{"image":"busybox","privileged":true}""")]
    [InlineData("""{"image":"busybox","volumes":["/:/host"]}""")]
    [InlineData("""{"image":"busybox","mounts":[{"type":"bind","source":"/","target":"/host"}]}""")]
    [InlineData("""{"image":"busybox","mounts":[{"type":"BIND","source":"/etc","target":"/x"}]}""")]
    [InlineData("""{"image":"busybox","networkMode":"host"}""")]
    [InlineData("""{"image":"busybox","pidMode":"host"}""")]
    [InlineData("""{"image":"busybox","capAdd":["SYS_ADMIN"]}""")]
    [InlineData("""{"image":"busybox","devices":["/dev/sda"]}""")]
    [InlineData("""{"image":"busybox","securityOpt":["seccomp=unconfined"]}""")]
    [InlineData("""{"image":"busybox","Privileged":true}""")]
    public async Task CreateContainer_OperatorDangerousOption_ForbiddenAndNothingCreated(string body)
    {
        var before = _app.Engine.Created.Count;
        using var response = await _operator.PostAsync("/api/containers", ApiTestClient.Json(body), Ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("permission denied (Admin only)", await ApiTestClient.MessageAsync(response), StringComparison.Ordinal);
        Assert.Equal(before, _app.Engine.Created.Count);
    }

    [Fact]
    public async Task CreateContainer_AdminDangerousOption_Created()
    {
        using var response = await _admin.PostAsync("/api/containers", ApiTestClient.Json("""{"image":"busybox","privileged":true}"""), Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.True(_app.Engine.Created.Last().Privileged);
    }

    [Theory]
    [InlineData("""{"image":"busybox","privileged":false,"privileged":true}""")]
    [InlineData("""{"image":"busybox","privileged":false,"Privileged":true}""")]
    [InlineData("""{"image":"busybox","hostConfig":{"privileged":true}}""")]
    [InlineData("""{"image":"busybox",}""")]
    [InlineData("""{"image":"busybox" /* c */}""")]
    [InlineData("""{"image":"busybox","memoryBytes":"100"}""")]
    [InlineData("""{"image":"busybox","ports":["99999:80"]}""")]
    [InlineData("""{"name":"no-image"}""")]
    [InlineData("")]
    [InlineData("[]")]
    public async Task CreateContainer_AmbiguousOrInvalidBody_BadRequestAndNothingCreated(string body)
    {
        var before = _app.Engine.Created.Count;
        using var response = await _admin.PostAsync("/api/containers", ApiTestClient.Json(body), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(string.IsNullOrEmpty(await ApiTestClient.MessageAsync(response)));
        Assert.Equal(before, _app.Engine.Created.Count);
    }

    [Fact]
    public async Task CreateContainer_BodyOverLimit_RefusedWhateverTheLength()
    {
        var before = _app.Engine.Created.Count;
        var big = $$"""{"image":"busybox","env":["X={{new string('a', 70_000)}}"]}""";
        using var content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(big)));
        content.Headers.ContentType = new("application/json");

        using var response = await _admin.PostAsync("/api/containers", content, Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(before, _app.Engine.Created.Count);
    }

    [Fact]
    public async Task CreateContainer_Viewer_Forbidden()
    {
        var before = _app.Engine.Created.Count;
        using var response = await _viewer.PostAsync("/api/containers", ApiTestClient.Json("""{"image":"busybox"}"""), Ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(before, _app.Engine.Created.Count);
    }

    [Theory]
    [InlineData("start")]
    [InlineData("stop")]
    [InlineData("restart")]
    [InlineData("kill")]
    public async Task Lifecycle_Operator_NoContentAndEngineCalled(string verb)
    {
        using var response = await _operator.PostAsync($"/api/containers/c-{verb}/{verb}", null, Ct);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Contains((verb, $"c-{verb}"), _app.Engine.Calls);
    }

    [Fact]
    public async Task Delete_Operator_Removes()
    {
        using var response = await _operator.DeleteAsync("/api/containers/gone1", Ct);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Contains(("remove", "gone1"), _app.Engine.Calls);
    }

    [Fact]
    public async Task Lifecycle_EngineError_MappedToStatusWithEngineMessage()
    {
        _app.Engine.FailActionsWith = new EngineException(EngineErrorKind.NotFound, "start container zz: no such container");
        using var response = await _operator.PostAsync("/api/containers/zz/start", null, Ct);
        _app.Engine.FailActionsWith = null;

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("start container zz: no such container", await ApiTestClient.MessageAsync(response));
    }

    [Theory]
    [InlineData("/api/containers/c1/start?engine=elsewhere", HttpStatusCode.NotFound, "engine elsewhere: not configured")]
    [InlineData("/api/containers/-oProxy/start", HttpStatusCode.BadRequest, "container local/-oProxy: invalid container id")]
    [InlineData("/api/containers/..%2F..%2Fadmin/start", HttpStatusCode.BadRequest, "invalid container id")]
    public async Task Lifecycle_BadEngineOrId_RefusedBeforeEngine(string path, HttpStatusCode status, string message)
    {
        var before = _app.Engine.Calls.Count;
        using var response = await _admin.PostAsync(path, null, Ct);

        Assert.Equal(status, response.StatusCode);
        Assert.EndsWith(message, await ApiTestClient.MessageAsync(response), StringComparison.Ordinal);
        Assert.Equal(before, _app.Engine.Calls.Count);
    }

    [Fact]
    public async Task Logs_Viewer_ReturnsTailWithoutFollowing()
    {
        await _app.Engine.LogWriter("logged").WriteAsync([new LogLine(null, LogStream.Stdout, "one"), new LogLine(null, LogStream.Stderr, "two")], Ct);

        var lines = await _viewer.GetFromJsonAsync<JsonElement>("/api/containers/logged/logs?tail=5", Ct);

        Assert.Equal(["one", "two"], lines.EnumerateArray().Select(l => l.GetProperty("text").GetString()));
        Assert.Equal("stderr", lines[1].GetProperty("stream").GetString());
        Assert.Contains(5, _app.Engine.LogTails);
    }

    [Fact]
    public async Task Images_ListAndPull()
    {
        _app.Engine.Images.Add(new ImageSummary("sha256:aaa", ["busybox:latest"], 1000, DateTimeOffset.UnixEpoch, 0));
        _app.Engine.PullBatches.Clear();
        _app.Engine.PullBatches.Add([new PullProgress(null, "Downloaded newer image for busybox:1", null, null, null)]);

        var images = await _viewer.GetFromJsonAsync<JsonElement>("/api/images", Ct);
        using var viewerPull = await _viewer.PostAsync("/api/images/pull", ApiTestClient.Json("""{"image":"busybox:1"}"""), Ct);
        using var pulled = await _operator.PostAsync("/api/images/pull", ApiTestClient.Json("""{"image":"busybox:1"}"""), Ct);

        Assert.Single(images.EnumerateArray(), i => i.GetProperty("id").GetString() == "sha256:aaa");
        Assert.Equal(HttpStatusCode.Forbidden, viewerPull.StatusCode);
        Assert.Equal(HttpStatusCode.OK, pulled.StatusCode);
        Assert.Equal("Downloaded newer image for busybox:1", (await pulled.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());
        Assert.Single(_app.Engine.Calls, c => c == ("pull", "busybox:1"));
    }

    [Fact]
    public async Task Pull_RegistryError_BadGatewayWithMessage()
    {
        _app.Engine.PullBatches.Clear();
        _app.Engine.PullBatches.Add([new PullProgress(null, "", null, null, "manifest unknown")]);
        using var response = await _operator.PostAsync("/api/images/pull", ApiTestClient.Json("""{"image":"nope:1"}"""), Ct);
        _app.Engine.PullBatches.Clear();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("pull nope:1: manifest unknown", await ApiTestClient.MessageAsync(response));
    }

    [Fact]
    public async Task CookieCaller_UnsafeMethodNeedsAntiforgery()
    {
        using var browser = await _app.SignedInBrowserAsync("api-op");

        using var refused = await browser.PostAsync("/api/containers/cookie1/stop", null, Ct);
        await ApiTestClient.AddAntiforgeryAsync(browser);
        using var allowed = await browser.PostAsync("/api/containers/cookie1/stop", null, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
        Assert.Single(_app.Engine.Calls, c => c == ("stop", "cookie1"));
    }
}
