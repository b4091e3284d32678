using System.Net;
using Dashboard.Engine.Tests.Fakes;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Api;

/// <summary>The containers API through Docker.DotNet.Enhanced, over the real HTTP pipeline on a unix socket, with a fake runtime.</summary>
public sealed class ContainerApiTests : IAsyncLifetime
{
    private TestEngine _engine = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _engine = await TestEngine.StartAsync();

    public async ValueTask DisposeAsync() => await _engine.DisposeAsync();

    private Task<CreateContainerResponse> CreateAsync(string? name, params string[] cmd) =>
        _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Name = name ?? "", Cmd = cmd.Length > 0 ? cmd : null! }, Ct);

    [Fact]
    public async Task System_PingVersionInfo_ReportApi143()
    {
        await _engine.Client.System.PingAsync(Ct);
        var version = await _engine.Client.System.GetVersionAsync(Ct);
        Assert.Equal("1.43", version.APIVersion);
        Assert.Equal("linux", version.Os);
        var info = await _engine.Client.System.GetSystemInfoAsync(Ct);
        Assert.Equal(1, info.Images);
        Assert.Equal(0, info.Containers);
        Assert.Equal(_engine.Options.DataRoot, info.DockerRootDir);
    }

    [Fact]
    public async Task Create_WithName_InspectShowsMergedConfig()
    {
        var created = await CreateAsync("web", "sleep", "1000");
        Assert.Matches("^[0-9a-f]{64}$", created.ID);

        var inspect = await _engine.Client.Containers.InspectContainerAsync("web", Ct);
        Assert.Equal(created.ID, inspect.ID);
        Assert.Equal("/web", inspect.Name);
        Assert.Equal("sleep", inspect.Path);
        Assert.Equal(["1000"], inspect.Args);
        Assert.Equal("created", inspect.State!.Status);
        Assert.Contains("IMAGE_VAR=1", inspect.Config!.Env);
        Assert.Equal("image", inspect.Config.Labels["from"]);
        Assert.True(File.Exists(Path.Combine(_engine.Options.ContainersDir, created.ID, "config.json")));
    }

    [Fact]
    public async Task Create_DuplicateName_Conflict409()
    {
        await CreateAsync("dup", "sleep", "1");
        var e = await Assert.ThrowsAsync<DockerApiException>(() => CreateAsync("dup", "sleep", "1"));
        Assert.Equal(HttpStatusCode.Conflict, e.StatusCode);
        Assert.Contains("is already in use", e.ResponseBody);
    }

    [Theory]
    [InlineData("-oProxyCommand=touch")]
    [InlineData("a;b")]
    [InlineData("../../etc")]
    [InlineData("$(touch x)")]
    [InlineData("a")]
    [InlineData("_leading")]
    public async Task Create_BadName_BadRequest(string name)
    {
        var e = await Assert.ThrowsAsync<DockerApiException>(() => CreateAsync(name, "sleep", "1"));
        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Empty(await _engine.Client.Containers.ListContainersAsync(new ContainersListParameters { All = true }, Ct));
    }

    [Fact]
    public async Task Create_UnknownImage_NotFound()
    {
        var e = await Assert.ThrowsAsync<DockerImageNotFoundException>(() =>
            _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "nope:1" }, Ct));
        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
    }

    [Fact]
    public async Task Lookup_ByIdPrefixAndName_ExactOnly()
    {
        var a = await CreateAsync("a_b", "sleep", "1");
        await CreateAsync("aXb", "sleep", "1");
        Assert.Equal(a.ID, (await _engine.Client.Containers.InspectContainerAsync(a.ID[..6], Ct)).ID);
        Assert.Equal(a.ID, (await _engine.Client.Containers.InspectContainerAsync("a_b", Ct)).ID);
        await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => _engine.Client.Containers.InspectContainerAsync("a%b", Ct));
        await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => _engine.Client.Containers.InspectContainerAsync("A_B", Ct));
    }

    [Fact]
    public async Task StartStop_SleepingContainer_SignalsThenRecordsExit()
    {
        var c = await CreateAsync("s1", "sleep", "1000");
        await _engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
        var running = await _engine.Client.Containers.InspectContainerAsync(c.ID, Ct);
        Assert.True(running.State!.Running);
        Assert.Equal(Environment.ProcessId, (int)running.State!.Pid);

        var listed = await _engine.Client.Containers.ListContainersAsync(new ContainersListParameters(), Ct);
        Assert.Equal(["/s1"], Assert.Single(listed).Names);
        Assert.StartsWith("Up ", listed[0].Status);

        var stopped = await _engine.Client.Containers.StopContainerAsync(c.ID, new ContainerStopParameters { WaitBeforeKillSeconds = 5 }, Ct);
        Assert.True(stopped);
        var after = await _engine.Client.Containers.InspectContainerAsync(c.ID, Ct);
        Assert.Equal("exited", after.State!.Status);
        Assert.Equal(143, after.State!.ExitCode);
        Assert.Equal((c.ID, 15), Assert.Single(_engine.Runtime.Signals));

        Assert.False(await _engine.Client.Containers.StopContainerAsync(c.ID, new ContainerStopParameters(), Ct));
        Assert.Empty(await _engine.Client.Containers.ListContainersAsync(new ContainersListParameters(), Ct));
    }

    [Fact]
    public async Task Stop_IgnoresTerm_SigkillAfterTimeout()
    {
        var c = await CreateAsync(null, "ignore-term");
        await _engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
        await _engine.Client.Containers.StopContainerAsync(c.ID, new ContainerStopParameters { WaitBeforeKillSeconds = 1 }, Ct);
        Assert.Equal([15, 9], _engine.Runtime.Signals.Select(s => s.Signal));
        Assert.Equal(137, (await _engine.Client.Containers.InspectContainerAsync(c.ID, Ct)).State!.ExitCode);
    }

    [Fact]
    public async Task Start_MissingBinary_BadRequestAndExited()
    {
        var c = await CreateAsync("broken", "missing-binary");
        var e = await Assert.ThrowsAsync<DockerApiException>(() => _engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct));
        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        var inspect = await _engine.Client.Containers.InspectContainerAsync(c.ID, Ct);
        Assert.Equal("exited", inspect.State!.Status);
        Assert.Contains("executable file not found", inspect.State!.Error);
    }

    [Fact]
    public async Task KillPauseUnpause_StateGuards_Conflict409()
    {
        var c = await CreateAsync("killme", "sleep", "1000");
        var notRunning = await Assert.ThrowsAsync<DockerApiException>(() => _engine.Client.Containers.KillContainerAsync(c.ID, new ContainerKillParameters(), Ct));
        Assert.Equal(HttpStatusCode.Conflict, notRunning.StatusCode);

        await _engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
        await _engine.Client.Containers.PauseContainerAsync(c.ID, Ct);
        Assert.True((await _engine.Client.Containers.InspectContainerAsync(c.ID, Ct)).State!.Paused);
        var again = await Assert.ThrowsAsync<DockerApiException>(() => _engine.Client.Containers.PauseContainerAsync(c.ID, Ct));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        var rm = await Assert.ThrowsAsync<DockerApiException>(() => _engine.Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters(), Ct));
        Assert.Equal(HttpStatusCode.Conflict, rm.StatusCode);
        await _engine.Client.Containers.UnpauseContainerAsync(c.ID, Ct);

        await _engine.Client.Containers.KillContainerAsync(c.ID, new ContainerKillParameters { Signal = "SIGINT" }, Ct);
        var wait = await _engine.Client.Containers.WaitContainerAsync(c.ID, Ct);
        Assert.Equal(130, wait.StatusCode);
    }

    [Fact]
    public async Task Wait_ContainerExitsLater_ReturnsItsCode()
    {
        var c = await CreateAsync("waiter", "sleep", "1000");
        await _engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
        var wait = _engine.Client.Containers.WaitContainerAsync(c.ID, Ct);
        await Task.Delay(200, Ct);
        Assert.False(wait.IsCompleted);
        _engine.Runtime.ExitNow(c.ID, 3);
        Assert.Equal(3, (await wait).StatusCode);
    }

    [Fact]
    public async Task ForceRemove_ExitedButNotYetReported_RemovedOnceTheExitArrives()
    {
        var c = await CreateAsync("just-exited", "sleep", "1000");
        await _engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
        var report = _engine.Runtime.StopUnreported(c.ID, 0);
        var remove = _engine.Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true }, Ct);
        await Task.Delay(300, Ct);
        Assert.False(remove.IsCompleted);
        report();
        await remove;
        var list = await _engine.Client.Containers.ListContainersAsync(new ContainersListParameters { All = true }, Ct);
        Assert.DoesNotContain(list, x => x.ID == c.ID);
    }

    [Fact]
    public async Task Restart_StoppedContainer_RunsAgain()
    {
        var c = await CreateAsync("restarter", "sleep", "1000");
        await _engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
        await _engine.Client.Containers.RestartContainerAsync(c.ID, new ContainerRestartParameters { WaitBeforeKillSeconds = 2 }, Ct);
        Assert.True((await _engine.Client.Containers.InspectContainerAsync(c.ID, Ct)).State!.Running);
        Assert.Equal(2, _engine.Runtime.StartCount);
    }

    [Fact]
    public async Task Rename_ToTakenName_Conflict409_ThenSucceeds()
    {
        var a = await CreateAsync("one", "sleep", "1");
        await CreateAsync("two", "sleep", "1");
        var e = await Assert.ThrowsAsync<DockerApiException>(() => _engine.Client.Containers.RenameContainerAsync(a.ID, new ContainerRenameParameters { NewName = "two" }, Ct));
        Assert.Equal(HttpStatusCode.Conflict, e.StatusCode);
        await _engine.Client.Containers.RenameContainerAsync(a.ID, new ContainerRenameParameters { NewName = "three" }, Ct);
        Assert.Equal("/three", (await _engine.Client.Containers.InspectContainerAsync(a.ID, Ct)).Name);
    }

    [Fact]
    public async Task Top_RunningContainer_PsColumns()
    {
        var c = await CreateAsync("topper", "sleep", "1000");
        await _engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
        var top = await _engine.Client.Containers.ListProcessesAsync(c.ID, new ContainerListProcessesParameters(), Ct);
        Assert.Equal(["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"], top.Titles);
        Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(top.Processes)[1]);
    }

    [Fact]
    public async Task Remove_Running_NeedsForce_ThenGone()
    {
        var c = await CreateAsync("gone", "sleep", "1000");
        await _engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
        var e = await Assert.ThrowsAsync<DockerApiException>(() => _engine.Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters(), Ct));
        Assert.Equal(HttpStatusCode.Conflict, e.StatusCode);
        await _engine.Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true }, Ct);
        await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => _engine.Client.Containers.InspectContainerAsync(c.ID, Ct));
        Assert.False(Directory.Exists(Path.Combine(_engine.Options.ContainersDir, c.ID)));
        Assert.Null(_engine.Runtime.Find(c.ID));
    }

    [Fact]
    public async Task Prune_RemovesOnlyStopped()
    {
        var done = await CreateAsync("done", "exit", "0");
        await _engine.Client.Containers.StartContainerAsync(done.ID, new ContainerStartParameters(), Ct);
        await _engine.Client.Containers.WaitContainerAsync(done.ID, Ct);
        var live = await CreateAsync("live", "sleep", "1000");
        await _engine.Client.Containers.StartContainerAsync(live.ID, new ContainerStartParameters(), Ct);

        var pruned = await _engine.Client.Containers.PruneContainersAsync(new ContainersPruneParameters(), Ct);
        Assert.Contains(done.ID, pruned.ContainersDeleted);
        Assert.DoesNotContain(live.ID, pruned.ContainersDeleted);
        Assert.Equal(["/live"], Assert.Single(await _engine.Client.Containers.ListContainersAsync(new ContainersListParameters { All = true }, Ct)).Names);
    }

    [Fact]
    public async Task List_Filters_StatusNameLabel()
    {
        await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Name = "lab", Labels = new Dictionary<string, string> { ["tier"] = "web" } }, Ct);
        var run = await CreateAsync("runner", "sleep", "1000");
        await _engine.Client.Containers.StartContainerAsync(run.ID, new ContainerStartParameters(), Ct);

        var byLabel = await _engine.Client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { ["tier=web"] = true } },
        }, Ct);
        Assert.Equal(["/lab"], Assert.Single(byLabel).Names);

        var created = await _engine.Client.Containers.ListContainersAsync(new ContainersListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["status"] = new Dictionary<string, bool> { ["created"] = true } },
        }, Ct);
        Assert.Equal(["/lab"], Assert.Single(created).Names);
    }
}
