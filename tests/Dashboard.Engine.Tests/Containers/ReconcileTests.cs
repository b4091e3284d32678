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

    /// <summary>
    /// The start intent is durable, the running state after it is not fsync'd on its own: an engine killed between them
    /// (or a power cut that took the running state) leaves "created, StartedAt set, no FinishedAt" while the runtime may run it.
    /// </summary>
    [Fact]
    public async Task Restart_StartIntentWithoutRunningState_RuntimeContainerStoppedRecordedExited()
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

        // What the database holds when only the intent reached it.
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + database + ";Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE containers SET Status = 'created', Pid = 0, ShimPid = 0, FinishedAtNano = NULL WHERE Id = $id";
            command.Parameters.AddWithValue("$id", id);
            Assert.Equal(1, await command.ExecuteNonQueryAsync(Ct));
        }

        Assert.NotNull(runtime.Find(id));
        var second = await TestEngine.StartAsync(runtime, root);
        try
        {
            var inspect = await second.Client.Containers.InspectContainerAsync(id, Ct);
            Assert.Equal("exited", inspect.State!.Status);
            Assert.Equal(255, inspect.State.ExitCode);
            Assert.Contains("interrupted", inspect.State.Error, StringComparison.Ordinal);
            Assert.Null(runtime.Find(id));

            // It starts again normally, and its quick exit is not mistaken for an interrupted start.
            await second.Client.Containers.StartContainerAsync(id, new ContainerStartParameters(), Ct);
            runtime.ExitNow(id, 3);
            Assert.Equal(3, (await second.Client.Containers.WaitContainerAsync(id, Ct)).StatusCode);
            var state = (await second.Manager.Store.GetContainerAsync(id, Ct))!.State;
            Assert.False(Dashboard.Engine.Containers.ContainerManager.IsInterruptedStart(state));
        }
        finally
        {
            await second.DisposeAsync();
        }
    }
}
