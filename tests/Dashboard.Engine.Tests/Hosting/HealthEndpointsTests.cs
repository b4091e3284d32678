using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Dashboard.Engine.Hosting;
using Dashboard.Engine.Tests.Fakes;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Hosting;

public sealed class HealthEndpointsTests : IAsyncLifetime
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

    [Fact]
    public async Task Healthz_RunningEngine_Ok()
    {
        using var response = await _http.GetAsync(new Uri("/healthz", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Readyz_RuntimePresent_ReadyWithEveryCheckOk()
    {
        var runtime = Path.Combine(_engine.Root, "dashboard-runtime");
        await File.WriteAllTextAsync(runtime, "#!/bin/sh\n", Ct);
        File.SetUnixFileMode(runtime, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _engine.Options.RuntimePath = runtime;

        using var response = await _http.GetAsync(new Uri("/readyz", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal("ready", json.RootElement.GetProperty("status").GetString());
        Assert.Equal("ok", json.RootElement.GetProperty("checks").GetProperty("database").GetString());
        Assert.Equal("ok", json.RootElement.GetProperty("checks").GetProperty("runtime").GetString());
    }

    [Fact]
    public async Task Readyz_RuntimeMissing_ServiceUnavailableNamingIt()
    {
        var runtime = Path.Combine(_engine.Root, "no-such-runtime");
        _engine.Options.RuntimePath = runtime;

        using var response = await _http.GetAsync(new Uri("/readyz", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal("not ready", json.RootElement.GetProperty("status").GetString());
        Assert.Equal($"{runtime}: no such file or directory", json.RootElement.GetProperty("checks").GetProperty("runtime").GetString());
        Assert.Equal("ok", json.RootElement.GetProperty("checks").GetProperty("database").GetString());
    }

    [Fact]
    public async Task Metrics_AfterCreate_CountsContainersByStateAndRequests()
    {
        await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Name = "m1" }, Ct);
        using (await _http.GetAsync(new Uri("/healthz", UriKind.Relative), Ct))
        {
        }

        using var response = await _http.GetAsync(new Uri("/metrics", UriKind.Relative), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain; version=0.0.4", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        Assert.Contains("# TYPE dashboard_engine_containers gauge\n", text, StringComparison.Ordinal);
        Assert.Contains("dashboard_engine_containers{state=\"created\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("dashboard_engine_containers{state=\"running\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE http_server_request_duration_seconds summary\n", text, StringComparison.Ordinal);
        Assert.Matches("(?m)^http_server_request_duration_seconds_count\\{.*http_route=\"/healthz\".*\\} [1-9]", text);
    }
}

public sealed class PrometheusMetricsTests
{
    [Fact]
    public void Render_OwnMeter_CountersGaugesAndHistogramsInTextFormat()
    {
        using var meter = new Meter("Dashboard.Engine.Test." + Guid.NewGuid().ToString("N"));
        using var metrics = new PrometheusMetrics(scope: null, ownMeterPrefix: meter.Name);
        var requests = meter.CreateCounter<long>("test.requests", description: "requests \"served\"");
        var latency = meter.CreateHistogram<double>("test.latency", unit: "s");
        var level = 7;
        meter.CreateObservableGauge("test.level", () => level);
        meter.CreateUpDownCounter<int>("test.open").Add(3);

        requests.Add(2, new KeyValuePair<string, object?>("path", "/a\"b"));
        requests.Add(3, new KeyValuePair<string, object?>("path", "/a\"b"));
        latency.Record(0.5);
        latency.Record(1.5);
        var first = metrics.Render();
        level = 9;
        var second = metrics.Render();

        Assert.Contains("# HELP test_requests_total requests \"served\"\n# TYPE test_requests_total counter\n", first, StringComparison.Ordinal);
        Assert.Contains("test_requests_total{path=\"/a\\\"b\"} 5\n", first, StringComparison.Ordinal);
        Assert.Contains("# TYPE test_latency_seconds summary\ntest_latency_seconds_sum 2\ntest_latency_seconds_count 2\n", first, StringComparison.Ordinal);
        Assert.Contains("# TYPE test_level gauge\ntest_level 7\n", first, StringComparison.Ordinal);
        Assert.Contains("# TYPE test_open gauge\ntest_open 3\n", first, StringComparison.Ordinal);
        Assert.Contains("test_level 9\n", second, StringComparison.Ordinal);
        Assert.DoesNotContain("test_level 7", second, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http.server.request.duration", "http_server_request_duration")]
    [InlineData("kestrel-connections", "kestrel_connections")]
    [InlineData("9lives", "_9lives")]
    public void SanitizeName_OpenTelemetryNames_PrometheusNames(string name, string expected) =>
        Assert.Equal(expected, PrometheusMetrics.SanitizeName(name));
}
