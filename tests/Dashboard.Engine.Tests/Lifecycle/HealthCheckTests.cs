using System.Collections.Concurrent;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Tests.Fakes;
using Docker.DotNet.Models;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Engine.Tests.Lifecycle;

/// <summary>Health checks through the API with the fake runtime and a scripted probe.</summary>
public sealed class HealthCheckTests : IAsyncLifetime
{
    private TestEngine _engine = null!;
    private readonly FakeProbe _probe = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class FakeProbe : IHealthProbe
    {
        public volatile int ExitCode;
        public volatile string Output = "ok";
        public ConcurrentQueue<IReadOnlyList<string>> Commands { get; } = new();

        /// <summary>While set and not completed, probes wait for it (a test reads the state before any probe ends).</summary>
        public volatile TaskCompletionSource? Hold;

        public async Task<HealthProbeResult> RunAsync(ContainerRecord container, IReadOnlyList<string> command, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (Hold is { } hold)
            {
                await hold.Task.WaitAsync(cancellationToken);
            }

            Commands.Enqueue(command);
            return new HealthProbeResult(ExitCode, Output);
        }
    }

    public async ValueTask InitializeAsync()
    {
        _engine = await TestEngine.StartAsync();
        _engine.App.Services.GetRequiredService<HealthMonitor>().Probe = _probe;
    }

    public async ValueTask DisposeAsync() => await _engine.DisposeAsync();

    private async Task<string> RunAsync(string name, HealthcheckConfig health)
    {
        var id = (await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = "busybox",
            Name = name,
            Cmd = ["sleep", "1000"],
            Healthcheck = health,
        }, Ct)).ID;
        await _engine.Client.Containers.StartContainerAsync(id, new ContainerStartParameters(), Ct);
        return id;
    }

    private static HealthcheckConfig Check(params string[] test) => new()
    {
        Test = test,
        Interval = TimeSpan.FromMilliseconds(50),
        Timeout = TimeSpan.FromSeconds(5),
        Retries = 2,
    };

    private async Task<Health?> HealthAsync(string id) => (await _engine.Client.Containers.InspectContainerAsync(id, Ct)).State!.Health;

    private async Task<IList<ContainerListResponse>> ListAsync(string health) =>
        await _engine.Client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["health"] = new Dictionary<string, bool> { [health] = true } },
        }, Ct);

    [Fact]
    public async Task CmdShell_ProbeSucceeds_HealthyWithEventStatusAndFilter()
    {
        var id = await RunAsync("web", Check("CMD-SHELL", "wget -q -O- localhost || exit 1"));
        await Poll.UntilAsync(async () => (await HealthAsync(id))?.Status == "healthy", TimeSpan.FromSeconds(30), "healthy");

        Assert.Equal(["/bin/sh", "-c", "wget -q -O- localhost || exit 1"], _probe.Commands.First());
        var health = (await HealthAsync(id))!;
        Assert.Equal(0, health.FailingStreak);
        Assert.Equal("ok", health.Log[^1].Output);
        // The event is published after the status changes.
        await Poll.UntilAsync(
            async () => (await _engine.Manager.Store.ListEventsAsync(null, null, Ct)).Any(e => e.ActorId == id && e.Action == "health_status: healthy"),
            TimeSpan.FromSeconds(30),
            "the health_status event");
        var listed = Assert.Single(await ListAsync("healthy"));
        Assert.EndsWith("(healthy)", listed.Status);
        Assert.Empty(await ListAsync("unhealthy"));
    }

    [Fact]
    public async Task Cmd_FailsRetriesTimes_UnhealthyLogKeepsFiveCappedEntries()
    {
        _probe.ExitCode = 1;
        _probe.Output = new string('x', 10_000);
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _probe.Hold = hold;
        var id = await RunAsync("sick", Check("CMD", "false"));
        Assert.Equal("starting", (await HealthAsync(id))?.Status ?? "starting");
        hold.SetResult();
        await Poll.UntilAsync(async () => (await HealthAsync(id)) is { Status: "unhealthy", FailingStreak: >= 6 }, TimeSpan.FromSeconds(30), "six failures");

        var health = (await HealthAsync(id))!;
        Assert.Equal(HealthMonitor.MaxLogEntries, health.Log.Count);
        Assert.All(health.Log, l => Assert.Equal(HealthMonitor.MaxOutputLength, l.Output.Length));
        Assert.All(health.Log, l => Assert.Equal(1, l.ExitCode));
        Assert.Single(await ListAsync("unhealthy"));
        Assert.EndsWith("(unhealthy)", (await ListAsync("unhealthy"))[0].Status);

        _probe.ExitCode = 0;
        async Task<List<string>> HealthEvents() => (await _engine.Manager.Store.ListEventsAsync(null, null, Ct))
            .Where(e => e.ActorId == id && e.Action.StartsWith("health_status", StringComparison.Ordinal)).Select(e => e.Action).ToList();
        await Poll.UntilAsync(async () => (await HealthEvents()).Count == 2, TimeSpan.FromSeconds(30), "the recovery event");
        Assert.Equal(["health_status: unhealthy", "health_status: healthy"], await HealthEvents());
        Assert.Equal("healthy", (await HealthAsync(id))?.Status);
    }

    [Fact]
    public async Task StartPeriod_FailuresInsideIt_DoNotCount()
    {
        _probe.ExitCode = 1;
        var check = Check("CMD", "false");
        check.StartPeriod = TimeSpan.FromSeconds(30);
        check.StartInterval = TimeSpan.FromMilliseconds(20);
        var id = await RunAsync("slow-start", check);
        await Poll.UntilAsync(async () => (await HealthAsync(id))?.Log.Count >= 4, TimeSpan.FromSeconds(30), "probes in the start period");
        var health = (await HealthAsync(id))!;
        Assert.Equal("starting", health.Status);
        Assert.Equal(0, health.FailingStreak);
        Assert.Single(await ListAsync("starting"));
        Assert.EndsWith("(health: starting)", (await ListAsync("starting"))[0].Status);
    }

    [Fact]
    public async Task None_AndNoCheck_FilterNoneNoHealthInInspect()
    {
        var id = await RunAsync("plain", new HealthcheckConfig { Test = ["NONE"] });
        await Task.Delay(200, Ct);
        Assert.Null(await HealthAsync(id));
        Assert.Empty(_probe.Commands);
        Assert.Single(await ListAsync("none"));
    }

    [Fact]
    public async Task Stop_EndsTheProbes()
    {
        var id = await RunAsync("stopped", Check("CMD", "true"));
        await Poll.UntilAsync(async () => (await HealthAsync(id))?.Status == "healthy", TimeSpan.FromSeconds(30), "healthy");
        await _engine.Client.Containers.StopContainerAsync(id, new ContainerStopParameters(), Ct);

        // A probe that read the container as running just before the stop may still be recorded; then none.
        await Task.Delay(1000, Ct);
        var count = _probe.Commands.Count;
        await Task.Delay(300, Ct);
        Assert.Equal(count, _probe.Commands.Count);
    }

    [Theory]
    [InlineData("{\"Image\":\"busybox\",\"Cmd\":[\"sleep\",\"1\"],\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],\"Interval\":500}}", "Interval in Healthcheck cannot be less than 1ms")]
    [InlineData("{\"Image\":\"busybox\",\"Cmd\":[\"sleep\",\"1\"],\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],\"Retries\":-1}}", "Retries in Healthcheck cannot be negative")]
    [InlineData("{\"Image\":\"busybox\",\"Cmd\":[\"sleep\",\"1\"],\"Healthcheck\":{\"Test\":[\"SHELL\",\"true\"]}}", "unknown Healthcheck type 'SHELL'")]
    [InlineData("{\"Image\":\"busybox\",\"Cmd\":[\"sleep\",\"1\"],\"Healthcheck\":{\"Test\":[\"CMD\"]}}", "unknown Healthcheck type 'CMD'")]
    public async Task Create_InvalidHealthcheck_BadRequest(string body, string message)
    {
        using var http = RawHttp.Create(_engine.Socket);
        using var response = await http.PostAsync("/v1.43/containers/create", RawHttp.Json(body), Ct);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        using var error = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Contains(message, error.RootElement.GetProperty("message").GetString());
    }

    [Fact]
    public void Resolve_Defaults_MatchDocker()
    {
        var s = HealthcheckRules.Resolve(new Dashboard.Engine.Api.HealthConfig { Test = ["CMD-SHELL", "curl", "-f", "x"] })!;
        Assert.Equal(["/bin/sh", "-c", "curl -f x"], s.Command);
        Assert.Equal(TimeSpan.FromSeconds(30), s.Interval);
        Assert.Equal(TimeSpan.FromSeconds(30), s.Timeout);
        Assert.Equal(3, s.Retries);
        Assert.Equal(TimeSpan.Zero, s.StartPeriod);
        Assert.Equal(TimeSpan.FromSeconds(5), s.StartInterval);
        Assert.Null(HealthcheckRules.Resolve(new Dashboard.Engine.Api.HealthConfig { Test = ["NONE"] }));
        Assert.Null(HealthcheckRules.Resolve(null));
    }
}
