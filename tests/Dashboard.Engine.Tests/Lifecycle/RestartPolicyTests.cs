using Dashboard.Engine.Tests.Fakes;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Lifecycle;

/// <summary>Restart policies through the API, with the fake runtime (a command <c>exit N</c> exits at once).</summary>
public sealed class RestartPolicyTests : IAsyncLifetime
{
    private TestEngine _engine = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _engine = await TestEngine.StartAsync();

    public async ValueTask DisposeAsync() => await _engine.DisposeAsync();

    private async Task<string> RunAsync(string name, RestartPolicyKind policy, long max, params string[] cmd)
    {
        var id = (await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = "busybox",
            Name = name,
            Cmd = cmd,
            HostConfig = new HostConfig { RestartPolicy = new RestartPolicy { Name = policy, MaximumRetryCount = max } },
        }, Ct)).ID;
        await _engine.Client.Containers.StartContainerAsync(id, new ContainerStartParameters(), Ct);
        return id;
    }

    private Task<ContainerInspectResponse> InspectAsync(string id) => _engine.Client.Containers.InspectContainerAsync(id, Ct);

    private async Task<List<string>> ActionsAsync(string id) =>
        (await _engine.Manager.Store.ListEventsAsync(null, null, Ct)).Where(e => e.ActorId == id).Select(e => e.Action).ToList();

    [Fact]
    public async Task OnFailure_ExitsWith1_RestartedThreeTimesThenExited()
    {
        var id = await RunAsync("flaky", RestartPolicyKind.OnFailure, 3, "exit", "1");

        // 100 + 200 + 400 ms of back-off.
        await Poll.UntilAsync(async () => (await InspectAsync(id)) is { RestartCount: 3, State.Status: "exited" }, TimeSpan.FromSeconds(30), "three restarts");
        await Task.Delay(1000, Ct);
        var inspect = await InspectAsync(id);
        Assert.Equal(3, inspect.RestartCount);
        Assert.Equal("exited", inspect.State!.Status);
        Assert.Equal(1, inspect.State!.ExitCode);
        await Poll.UntilAsync(async () => (await ActionsAsync(id)).Count(a => a == "die") >= 4, TimeSpan.FromSeconds(30), "the last die event");
        var actions = await ActionsAsync(id);
        Assert.Equal(4, actions.Count(a => a == "start"));
        Assert.Equal(4, actions.Count(a => a == "die"));
    }

    [Fact]
    public async Task OnFailure_ExitsWith0_NotRestarted()
    {
        var id = await RunAsync("done", RestartPolicyKind.OnFailure, 0, "exit", "0");

        // The exit is recorded by the container's monitor, asynchronously; a restart would follow within 100 ms of it.
        await Poll.UntilAsync(async () => (await InspectAsync(id)).State!.Status == "exited", TimeSpan.FromSeconds(30), "the exit");
        await Task.Delay(500, Ct);
        var inspect = await InspectAsync(id);
        Assert.Equal(0, inspect.RestartCount);
        Assert.Equal("exited", inspect.State!.Status);
    }

    [Fact]
    public async Task Always_ProcessExits_RestartedWithStartAndDieEvents()
    {
        var id = await RunAsync("svc", RestartPolicyKind.Always, 0, "sleep", "1000");
        _engine.Runtime.ExitNow(id, 0);
        await Poll.UntilAsync(async () => (await InspectAsync(id)) is { RestartCount: 1, State.Status: "running" }, TimeSpan.FromSeconds(30), "the restart");
        // The start event is published after the state is saved.
        await Poll.UntilAsync(async () => (await ActionsAsync(id)).Count >= 4, TimeSpan.FromSeconds(30), "the events");
        Assert.Equal(["create", "start", "die", "start"], await ActionsAsync(id));
    }

    [Fact]
    public async Task Always_StopWhileRestarting_LoopEndsExited()
    {
        var id = await RunAsync("crashy", RestartPolicyKind.Always, 0, "exit", "2");

        // Once the back-off reaches 1.6 s the restarting state is easy to catch; the list and inspect are read in one
        // poll, as under load a back-off can end between two separate reads.
        ContainerListResponse? summary = null;
        await Poll.UntilAsync(
            async () =>
            {
                summary = (await _engine.Client.Containers.ListContainersAsync(new ContainersListParameters { All = true }, Ct)).Single(c => c.ID == id);
                return summary.State == "restarting" && (await InspectAsync(id)) is { RestartCount: >= 4, State: { Status: "restarting", Restarting: true } };
            },
            TimeSpan.FromSeconds(30),
            "restarting with a long back-off");
        Assert.StartsWith("Restarting (2)", summary!.Status);

        await _engine.Client.Containers.StopContainerAsync(id, new ContainerStopParameters(), Ct);
        var starts = _engine.Runtime.StartCount;
        await Task.Delay(2000, Ct);
        Assert.Equal(starts, _engine.Runtime.StartCount);
        Assert.Equal("exited", (await InspectAsync(id)).State!.Status);
    }

    [Fact]
    public async Task Always_StoppedRunningContainer_NotRestartedUntilStartedByHand()
    {
        var id = await RunAsync("stoppable", RestartPolicyKind.Always, 0, "sleep", "1000");
        await _engine.Client.Containers.StopContainerAsync(id, new ContainerStopParameters { WaitBeforeKillSeconds = 1 }, Ct);
        await Task.Delay(500, Ct);
        Assert.Equal("exited", (await InspectAsync(id)).State!.Status);

        await _engine.Client.Containers.StartContainerAsync(id, new ContainerStartParameters(), Ct);
        _engine.Runtime.ExitNow(id, 3);
        await Poll.UntilAsync(async () => (await InspectAsync(id)) is { RestartCount: 1, State.Status: "running" }, TimeSpan.FromSeconds(30), "the restart after a manual start");
    }

    [Fact]
    public async Task Always_KillWithSigkill_NotRestarted()
    {
        var id = await RunAsync("killed", RestartPolicyKind.Always, 0, "sleep", "1000");
        await _engine.Client.Containers.KillContainerAsync(id, new ContainerKillParameters { Signal = "SIGKILL" }, Ct);
        await Poll.UntilAsync(async () => (await InspectAsync(id)).State!.Status == "exited", TimeSpan.FromSeconds(30), "the exit");
        await Task.Delay(500, Ct);
        var inspect = await InspectAsync(id);
        Assert.Equal("exited", inspect.State!.Status);
        Assert.Equal(137, inspect.State!.ExitCode);
        Assert.Equal(0, inspect.RestartCount);
    }

    [Fact]
    public async Task RemoveForce_WhileRestarting_Removed()
    {
        var id = await RunAsync("gone", RestartPolicyKind.Always, 0, "exit", "1");
        await Poll.UntilAsync(async () => (await InspectAsync(id)).State!.Status == "restarting", TimeSpan.FromSeconds(30), "restarting");
        await _engine.Client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }, Ct);
        var starts = _engine.Runtime.StartCount;
        await Task.Delay(1000, Ct);
        Assert.Equal(starts, _engine.Runtime.StartCount);
        Assert.Empty(await _engine.Client.Containers.ListContainersAsync(new ContainersListParameters { All = true }, Ct));
    }

    [Fact]
    public async Task Create_RestartWithAutoRemove_BadRequest()
    {
        var e = await Assert.ThrowsAsync<Docker.DotNet.DockerApiException>(() => _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = "busybox",
            Cmd = ["sleep", "1"],
            HostConfig = new HostConfig { AutoRemove = true, RestartPolicy = new RestartPolicy { Name = RestartPolicyKind.Always } },
        }, Ct));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Contains("--restart and --rm", e.ResponseBody);
    }
}

/// <summary>Restart policies across engine restarts (security.md E1 e): with a new fake runtime the host looks rebooted.</summary>
public sealed class RestartAfterEngineStartTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task HostReboot_AlwaysAndUnlessStoppedStartedOnce_OthersStayExited()
    {
        var root = TestEngine.NewRoot();
        var ids = new Dictionary<string, string>();
        var first = await TestEngine.StartAsync(new FakeOciRuntime(), root);
        try
        {
            async Task<string> Run(string name, RestartPolicyKind policy, bool stop)
            {
                var id = (await first.Client.Containers.CreateContainerAsync(new CreateContainerParameters
                {
                    Image = "busybox",
                    Name = name,
                    Cmd = ["sleep", "1000"],
                    HostConfig = new HostConfig { RestartPolicy = new RestartPolicy { Name = policy } },
                }, Ct)).ID;
                await first.Client.Containers.StartContainerAsync(id, new ContainerStartParameters(), Ct);
                if (stop)
                {
                    await first.Client.Containers.StopContainerAsync(id, new ContainerStopParameters { WaitBeforeKillSeconds = 1 }, Ct);
                }

                return id;
            }

            ids["always"] = await Run("always", RestartPolicyKind.Always, stop: false);
            ids["always-stopped"] = await Run("always-stopped", RestartPolicyKind.Always, stop: true);
            ids["unless"] = await Run("unless", RestartPolicyKind.UnlessStopped, stop: false);
            ids["unless-stopped"] = await Run("unless-stopped", RestartPolicyKind.UnlessStopped, stop: true);
            ids["no"] = await Run("no", RestartPolicyKind.No, stop: false);
        }
        finally
        {
            await first.StopKeepingFilesAsync();
        }

        var runtime = new FakeOciRuntime();
        await using var second = await TestEngine.StartAsync(runtime, root);
        async Task<string> Status(string key) => (await second.Client.Containers.InspectContainerAsync(ids[key], Ct)).State!.Status;
        await Poll.UntilAsync(async () => await Status("always") == "running" && await Status("always-stopped") == "running" && await Status("unless") == "running",
            TimeSpan.FromSeconds(30), "the restart policies after the reboot");
        await Task.Delay(500, Ct);
        Assert.Equal("exited", await Status("unless-stopped"));
        Assert.Equal("exited", await Status("no"));
        Assert.Equal(3, runtime.StartCount);
    }
}
