using System.Text;
using Dashboard.Web.Engines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Dashboard.Web.Tests.Engines;

/// <summary>
/// DockerEngineClient's registry settings calls against a local HTTP server on a unix socket that answers like our
/// engine's <c>/dashboard/registries</c>: raw request line and JSON body are checked, errors come back as the engine's message.
/// </summary>
public sealed class RegistrySettingsClientTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-web-registries-").FullName;
    private readonly List<(string Method, string RawTarget, string Body)> _requests = [];
    private WebApplication _engine = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string SocketPath => Path.Combine(_dir, "engine.sock");

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(SocketPath));
        _engine = builder.Build();
        _engine.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
            lock (_requests)
            {
                _requests.Add((context.Request.Method, raw, body));
            }

            context.Response.ContentType = "application/json";
            switch (context.Request.Method, raw)
            {
                case ("GET", "/dashboard/registries"):
                    await context.Response.WriteAsync(
                        """[{"Registry":"localhost:5000","Username":"alice","HasSecret":true,"Insecure":true},{"Registry":"ghcr.io","Username":null,"HasSecret":false,"Insecure":false}]""",
                        context.RequestAborted);
                    return;
                case ("PUT", "/dashboard/registries/localhost%3A5000"):
                case ("DELETE", "/dashboard/registries/localhost%3A5000"):
                    context.Response.StatusCode = StatusCodes.Status204NoContent;
                    return;
                case ("PUT", "/dashboard/registries/crash.io"):
                    context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                    await context.Response.WriteAsync("System.InvalidOperationException: boom\n   at Engine.Handler()", context.RequestAborted);
                    return;
                case ("PUT", _):
                    context.Response.StatusCode = StatusCodes.Status400BadRequest;
                    await context.Response.WriteAsync("""{"message":"invalid registry name"}""", context.RequestAborted);
                    return;
                case ("DELETE", _):
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    await context.Response.WriteAsync("""{"message":"no settings for registry unknown.io"}""", context.RequestAborted);
                    return;
                default:
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
            }
        });
        await _engine.StartAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private DockerEngineClient Client() => new(new EngineEndpoint("local", new Uri($"unix://{SocketPath}")));

    [Fact]
    public async Task ListRegistriesAsync_UnixSocket_ParsesEngineAnswerSorted()
    {
        using var client = Client();

        var list = await client.ListRegistriesAsync(Ct);

        Assert.Equal(
            [new RegistrySettings("ghcr.io", null, false, false), new RegistrySettings("localhost:5000", "alice", true, true)],
            list);
        Assert.Equal(("GET", "/dashboard/registries", ""), Assert.Single(_requests));
    }

    [Fact]
    public async Task SetRegistryAsync_HostAndPort_EscapesPathAndSendsPascalCaseBody()
    {
        using var client = Client();

        await client.SetRegistryAsync("localhost:5000", "alice", "pa\"ss", insecure: true, Ct);

        var (method, raw, body) = Assert.Single(_requests);
        Assert.Equal("PUT", method);
        Assert.Equal("/dashboard/registries/localhost%3A5000", raw);
        Assert.Equal("""{"Username":"alice","Password":"pa\u0022ss","Insecure":true}""", body);
    }

    [Fact]
    public async Task SetRegistryAsync_NoUsername_SendsNulls()
    {
        using var client = Client();

        await client.SetRegistryAsync("localhost:5000", null, null, insecure: false, Ct);

        Assert.Equal("""{"Username":null,"Password":null,"Insecure":false}""", Assert.Single(_requests).Body);
    }

    [Fact]
    public async Task SetRegistryAsync_SlashInName_StaysOneSegmentAndEngineMessageIsShown()
    {
        using var client = Client();

        var e = await Assert.ThrowsAsync<EngineException>(() => client.SetRegistryAsync("a/../b", "u", "p", false, Ct));

        Assert.Equal("/dashboard/registries/a%2F..%2Fb", Assert.Single(_requests).RawTarget);
        Assert.Equal(EngineErrorKind.InvalidRequest, e.Kind);
        Assert.Equal("save registry a/../b on engine local: invalid registry name", e.Message);
    }

    [Fact]
    public async Task RemoveRegistryAsync_KnownAndUnknown_DeletesOrReportsNotFound()
    {
        using var client = Client();

        await client.RemoveRegistryAsync("localhost:5000", Ct);
        var e = await Assert.ThrowsAsync<EngineException>(() => client.RemoveRegistryAsync("unknown.io", Ct));

        Assert.Equal(("DELETE", "/dashboard/registries/localhost%3A5000", ""), _requests[0]);
        Assert.Equal(EngineErrorKind.NotFound, e.Kind);
        Assert.Equal("remove registry unknown.io on engine local: no settings for registry unknown.io", e.Message);
    }

    [Fact]
    public async Task SetRegistryAsync_EngineFailsWithStackTrace_ShowsStatusOnly()
    {
        using var client = Client();

        var e = await Assert.ThrowsAsync<EngineException>(() => client.SetRegistryAsync("crash.io", "u", "p", false, Ct));

        Assert.Equal(EngineErrorKind.Internal, e.Kind);
        Assert.Equal("save registry crash.io on engine local: status 500", e.Message);
    }

    [Fact]
    public async Task ListRegistriesAsync_EngineGone_IsUnavailable()
    {
        await _engine.StopAsync(Ct);
        using var client = Client();

        var e = await Assert.ThrowsAsync<EngineException>(() => client.ListRegistriesAsync(Ct));

        Assert.Equal(EngineErrorKind.Unavailable, e.Kind);
        Assert.Equal("list registries on engine local: engine local unreachable or gave no answer", e.Message);
    }
}
