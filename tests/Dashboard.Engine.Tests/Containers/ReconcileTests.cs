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
}
