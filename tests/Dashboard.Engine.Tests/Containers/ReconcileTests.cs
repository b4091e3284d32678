using Dashboard.Engine.Tests.Fakes;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Containers;

/// <summary>Engine restarts while containers run (security.md E1), with the fake runtime standing in for the surviving shims.</summary>
public sealed class ReconcileTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Restart_RunningContainerKept_ExitedMeanwhileGetsExitCode()
    {
        var runtime = new FakeOciRuntime();
        var root = TestEngine.NewRoot();
        string keepId;
        string exitId;
        var first = await TestEngine.StartAsync(runtime, root);
        {
            keepId = (await first.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Name = "keep", Cmd = ["sleep", "1"] }, Ct)).ID;
            exitId = (await first.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Name = "quit", Cmd = ["sleep", "1"] }, Ct)).ID;
            await first.Client.Containers.StartContainerAsync(keepId, new ContainerStartParameters(), Ct);
            await first.Client.Containers.StartContainerAsync(exitId, new ContainerStartParameters(), Ct);
            await first.StopKeepingFilesAsync();
        }

        // While no engine runs, one container exits: only its exit file records it.
        runtime.ExitNow(exitId, 42);

        var second = await TestEngine.StartAsync(runtime, root);
        try
        {
            var keep = await second.Client.Containers.InspectContainerAsync(keepId, Ct);
            Assert.True(keep.State!.Running);
            var quit = await second.Client.Containers.WaitContainerAsync(exitId, Ct);
            Assert.Equal(42, quit.StatusCode);
            Assert.Equal("exited", (await second.Client.Containers.InspectContainerAsync(exitId, Ct)).State!.Status);

            await second.Client.Containers.StopContainerAsync(keepId, new ContainerStopParameters { WaitBeforeKillSeconds = 2 }, Ct);
            Assert.Equal(143, (await second.Client.Containers.InspectContainerAsync(keepId, Ct)).State!.ExitCode);
        }
        finally
        {
            await second.DisposeAsync();
        }
    }

    /// <summary>An engine killed while the restart policy started a container again: the row says restarting, without a shim, while the runtime runs it.</summary>
    [Fact]
    public async Task Restart_PolicyRestartNotRecorded_RuntimeContainerStoppedRecordedExited()
    {
        var runtime = new FakeOciRuntime();
        var root = TestEngine.NewRoot();
        string id;
        string database;
        var first = await TestEngine.StartAsync(runtime, root);
        {
            id = (await first.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Name = "cut", Cmd = ["sleep", "1"] }, Ct)).ID;
            await first.Client.Containers.StartContainerAsync(id, new ContainerStartParameters(), Ct);
            database = first.Options.DatabasePath;
            await first.StopKeepingFilesAsync();
        }

        // What the database holds when the engine died inside the policy's start, before it recorded the new shim.
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + database + ";Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE containers SET Status = 'restarting', Pid = 0, ShimPid = 0 WHERE Id = $id";
            command.Parameters.AddWithValue("$id", id);
            Assert.Equal(1, await command.ExecuteNonQueryAsync(Ct));
        }

        Assert.NotNull(runtime.Find(id));
        var second = await TestEngine.StartAsync(runtime, root);
        try
        {
            // Killed by the runtime's forced delete (137, when its shim's exit file is there in time) or recorded as lost (255).
            var code = (await second.Client.Containers.WaitContainerAsync(id, Ct)).StatusCode;
            Assert.True(code is 137 or 255, $"exit code {code}");
            Assert.Equal("exited", (await second.Client.Containers.InspectContainerAsync(id, Ct)).State!.Status);
            Assert.Null(runtime.Find(id));
        }
        finally
        {
            await second.DisposeAsync();
        }
    }

    [Fact]
    public async Task Start_QuickExit_FinishedNotBeforeStarted()
    {
        await using var engine = await TestEngine.StartAsync();
        // The fake runtime's "exit" ends the container inside the start call, before the runtime has returned.
        var id = (await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Cmd = ["exit", "0"] }, Ct)).ID;
        var before = DateTimeOffset.UtcNow;
        await engine.Client.Containers.StartContainerAsync(id, new ContainerStartParameters(), Ct);
        await engine.Client.Containers.WaitContainerAsync(id, Ct);
        var state = (await engine.Manager.Store.GetContainerAsync(id, Ct))!.State;
        Assert.True(state.StartedAt >= before.AddMilliseconds(-1), $"{state.StartedAt:O} < {before:O}");
        Assert.True(state.FinishedAt >= state.StartedAt, $"finished {state.FinishedAt:O} before started {state.StartedAt:O}");
    }
}
