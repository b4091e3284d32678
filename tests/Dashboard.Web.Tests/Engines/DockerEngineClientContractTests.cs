using Dashboard.Web.Engines;

namespace Dashboard.Web.Tests.Engines;

/// <summary>The real client over Docker.DotNet against a Docker-API server on a unix socket.</summary>
public sealed class DockerEngineClientContractTests : IAsyncLifetime
{
    private readonly FakeDockerApi _api = new();
    private DockerEngineClient _client = default!;

    public async ValueTask InitializeAsync()
    {
        await _api.StartAsync();
        _client = new DockerEngineClient(new EngineEndpoint("local", _api.Uri));
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _api.DisposeAsync();
    }

    [Fact]
    public async Task ListContainers_MapsNameStatePortsLabels()
    {
        var list = await _client.ListContainersAsync(null, TestContext.Current.CancellationToken);

        var c = Assert.Single(list);
        Assert.Equal("web", c.Name);
        Assert.Equal(ContainerState.Running, c.State);
        Assert.Equal(new PortMapping(80, 8080, "tcp", "0.0.0.0"), Assert.Single(c.Ports));
        Assert.Equal("web", c.Labels["app"]);
        Assert.Contains(_api.Requests, r => r.Contains("/containers/json?all=", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task ListContainers_ByIds_SendsIdFilter()
    {
        await _client.ListContainersAsync(["aaaa1111bbbb2222"], TestContext.Current.CancellationToken);

        Assert.Contains(_api.Requests, r => r.Contains("filters=", StringComparison.Ordinal) && r.Contains("aaaa1111bbbb2222", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Inspect_MapsStateExitCodePortsMountsEnv()
    {
        var d = await _client.InspectContainerAsync("aaaa1111bbbb2222", TestContext.Current.CancellationToken);

        Assert.Equal("web", d.Name);
        Assert.Equal(ContainerState.Exited, d.State);
        Assert.Equal(137, d.ExitCode);
        Assert.True(d.OomKilled);
        Assert.Equal(2, d.RestartCount);
        Assert.Equal(["nginx", "-g", "daemon off;"], d.Command);
        Assert.Contains(new PortMapping(80, 8080, "tcp", "127.0.0.1"), d.Ports);
        Assert.Contains(new PortMapping(443, null, "tcp", null), d.Ports);
        Assert.Equal(new MountInfo("bind", "/srv", "/usr/share/nginx/html", false), Assert.Single(d.Mounts));
        Assert.Equal(["A=1", "TOKEN=x"], d.Env);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 0, 0, 1, TimeSpan.Zero).AddTicks(1234567), d.StartedAt);
    }

    [Fact]
    public async Task Start_Succeeds()
    {
        await _client.StartContainerAsync("aaaa1111bbbb2222", TestContext.Current.CancellationToken);

        Assert.Contains(_api.Requests, r => r.StartsWith("POST ", StringComparison.Ordinal) && r.Contains("/containers/aaaa1111bbbb2222/start", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Inspect_Missing_ThrowsNotFoundWithEngineMessage()
    {
        var e = await Assert.ThrowsAsync<EngineException>(() => _client.InspectContainerAsync("nope", TestContext.Current.CancellationToken));

        Assert.Equal(EngineErrorKind.NotFound, e.Kind);
        Assert.Equal("inspect container nope: No such container: nope", e.Message);
    }

    [Fact]
    public async Task Stop_Conflict_ThrowsConflictWithEngineMessage()
    {
        var e = await Assert.ThrowsAsync<EngineException>(() => _client.StopContainerAsync("aaaa1111bbbb2222", TestContext.Current.CancellationToken));

        Assert.Equal(EngineErrorKind.Conflict, e.Kind);
        Assert.Equal("stop container aaaa1111bbbb2222: container aaaa1111bbbb2222 is not running", e.Message);
    }

    [Fact]
    public async Task Logs_MultiplexedFrames_BecomeLinesWithStreamAndTimestamp()
    {
        var lines = new List<LogLine>();

        await foreach (var batch in _client.GetLogsAsync("aaaa1111bbbb2222", 1000, follow: true, TestContext.Current.CancellationToken))
        {
            lines.AddRange(batch);
        }

        Assert.Equal(["first line", "second line", "\x1b[31moops\x1b[0m", "no newline at end"], lines.Select(l => l.Text));
        Assert.Equal([LogStream.Stdout, LogStream.Stdout, LogStream.Stderr, LogStream.Stdout], lines.Select(l => l.Stream));
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 0, 0, 1, TimeSpan.Zero), lines[2].Timestamp);
        Assert.Contains(_api.Requests, r => r.Contains("tail=1000", StringComparison.Ordinal) &&
            (r.Contains("follow=1", StringComparison.OrdinalIgnoreCase) || r.Contains("follow=true", StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public async Task Events_StreamIsBatchedAndCancellable()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(10));
        var events = new List<EngineEvent>();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var batch in _client.GetEventsAsync(cts.Token))
            {
                events.AddRange(batch);
                if (events.Count >= 2)
                {
                    await cts.CancelAsync();
                }
            }
        });

        Assert.Equal([("start", "aaaa1111bbbb2222"), ("die", "cccc3333")], events.Select(e => (e.Action, e.ActorId)));
        Assert.All(events, e => Assert.Equal(EngineEventType.Container, e.Type));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_764_460_800), events[0].Time);
    }

    [Fact]
    public async Task Unreachable_ThrowsUnavailable()
    {
        using var client = new DockerEngineClient(new EngineEndpoint("gone", new Uri("unix:///nonexistent/dashboard-web-test.sock")));

        var e = await Assert.ThrowsAsync<EngineException>(() => client.ListContainersAsync(null, TestContext.Current.CancellationToken));

        Assert.Equal(EngineErrorKind.Unavailable, e.Kind);
        Assert.Equal("list containers: engine gone unreachable", e.Message);
    }
}
