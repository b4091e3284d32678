using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Dashboard.Web.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Hosting;

public sealed class HealthEndpointsTests : IDisposable
{
    private readonly WebAppFactory _app = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-web-health-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _app.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private WebApplicationFactory<Program> WithEngine(string engine) =>
        _app.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.PostConfigure<DashboardOptions>(o => o.Engines = [engine])));

    private static HttpClient Client(WebApplicationFactory<Program> app) =>
        app.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://localhost"), AllowAutoRedirect = false });

    /// <summary>Answers every request on a unix socket with 200 "OK", as the engine's /_ping does.</summary>
    private static async Task ServePingAsync(Socket listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            using var connection = await listener.AcceptAsync(cancellationToken);
            var buffer = new byte[4096];
            await connection.ReceiveAsync(buffer, cancellationToken);
            await connection.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK"u8.ToArray(), cancellationToken);
        }
    }

    [Fact]
    public async Task Readyz_EngineAnswersPing_ReadyAnonymouslyWithoutDetails()
    {
        var socket = Path.Combine(_dir, "engine.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socket));
        listener.Listen();
        using var stop = new CancellationTokenSource();
        var server = ServePingAsync(listener, stop.Token);
        var app = WithEngine("unix://" + socket);
        using var client = Client(app);

        using var response = await client.GetAsync(new Uri("/readyz", UriKind.Relative), Ct);
        var checks = await HealthEndpoints.CheckAsync(app.Services, Ct);

        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("""{"status":"ready"}""", body);
        Assert.Equal("ok", checks["database"]);
        Assert.Equal("ok", checks["engine"]);
        // Stop the fake engine; it ends with a cancellation or, cancelled between two connections, normally.
        await stop.CancelAsync();
        try
        {
            await server;
        }
        catch (OperationCanceledException)
        {
        }
    }

    [Fact]
    public async Task Readyz_EngineSocketMissing_ServiceUnavailableAndTheCheckNamesTheEngine()
    {
        var socket = Path.Combine(_dir, "missing.sock");
        var app = WithEngine("unix://" + socket);
        using var client = Client(app);

        using var response = await client.GetAsync(new Uri("/readyz", UriKind.Relative), Ct);
        var checks = await HealthEndpoints.CheckAsync(app.Services, Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("""{"status":"not ready"}""", await response.Content.ReadAsStringAsync(Ct));
        Assert.StartsWith($"unix://{socket}: ", checks["engine"], StringComparison.Ordinal);
        Assert.Equal("ok", checks["database"]);
    }

    [Fact]
    public async Task Metrics_NotFromLoopback_NotFound()
    {
        // The test server gives requests no remote address: like a remote client, they get no metrics.
        using var client = _app.CreateBrowser();

        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("127.0.0.1", null, true)]
    [InlineData("::1", null, true)]
    [InlineData("::ffff:127.0.0.1", null, true)]
    [InlineData("127.0.0.1", "X-Forwarded-For", false)]
    [InlineData("127.0.0.1", "Forwarded", false)]
    [InlineData("192.0.2.7", null, false)]
    public void IsLocalScrape_AddressAndProxyHeaders_OnlyDirectLoopback(string address, string? header, bool expected)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(address);
        if (header is not null)
        {
            context.Request.Headers[header] = "for=192.0.2.9";
        }

        Assert.Equal(expected, HealthEndpoints.IsLocalScrape(context));
    }

    [Fact]
    public void Render_OwnMeter_PrometheusTextFormat()
    {
        using var meter = new Meter("Dashboard.Web.Test." + Guid.NewGuid().ToString("N"));
        using var metrics = new PrometheusMetrics(scope: null, ownMeterPrefix: meter.Name);
        meter.CreateCounter<long>("test.signins").Add(4, new KeyValuePair<string, object?>("outcome", "failed"));
        meter.CreateHistogram<double>("test.render", unit: "ms").Record(12.5);

        var text = metrics.Render([new MetricFamily("dashboard_web_info", "gauge", "web UI version", [([KeyValuePair.Create("version", "1.2")], 1)])]);

        Assert.Contains("# TYPE test_signins_total counter\ntest_signins_total{outcome=\"failed\"} 4\n", text, StringComparison.Ordinal);
        Assert.Contains("test_render_milliseconds_sum 12.5\ntest_render_milliseconds_count 1\n", text, StringComparison.Ordinal);
        Assert.EndsWith("# HELP dashboard_web_info web UI version\n# TYPE dashboard_web_info gauge\ndashboard_web_info{version=\"1.2\"} 1\n", text, StringComparison.Ordinal);
        Assert.All(text.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.Matches(@"^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*|[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \S+)$", line));
    }
}
