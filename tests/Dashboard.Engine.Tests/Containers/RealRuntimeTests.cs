using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Containers;

/// <summary>The engine driving the published <c>dashboard-runtime</c> (DASHBOARD_BIN) on a busybox image loaded into the store (overlay rootfs), as root.</summary>
public sealed partial class RealRuntimeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BusyboxContainer_StartLogsTopStopRemove()
    {
        Requires.Root();
        var bin = Environment.GetEnvironmentVariable("DASHBOARD_BIN");
        var runtime = string.IsNullOrEmpty(bin) ? "" : Path.Combine(bin, "dashboard-runtime");
        if (!File.Exists(runtime))
        {
            Requires.Unmet("needs DASHBOARD_BIN with a published dashboard-runtime (tests/run-all.sh sets it)");
        }

        if (!File.Exists("/bin/busybox"))
        {
            Requires.Unmet("needs busybox-static (/bin/busybox)");
        }

        var parent = "/dashboard-test/engine-" + Guid.NewGuid().ToString("N")[..8];
        await using var engine = await TestEngine.StartWithRuntimeBinaryAsync(runtime, parent);
        try
        {
            var c = await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Name = "real-bb", Cmd = ["sh", "-c", "echo hello from busybox; sleep 30"] }, Ct);
            await engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
            Assert.True((await engine.Client.Containers.InspectContainerAsync(c.ID, Ct)).State!.Running);

            var stdout = "";
            for (var deadline = DateTime.UtcNow.AddSeconds(30); stdout.Length == 0 && DateTime.UtcNow < deadline;)
            {
                using var logs = await engine.Client.Containers.GetContainerLogsAsync(c.ID, new ContainerLogsParameters { ShowStdout = true }, Ct);
                stdout = (await logs.ReadOutputToEndAsync(Ct)).stdout;
                await Task.Delay(100, Ct);
            }

            Assert.Equal("hello from busybox\n", stdout);
            var top = await engine.Client.Containers.ListProcessesAsync(c.ID, new ContainerListProcessesParameters(), Ct);
            Assert.Contains(top.Processes, p => p[7].Contains("sleep 30", StringComparison.Ordinal));

            await engine.Client.Containers.StopContainerAsync(c.ID, new ContainerStopParameters { WaitBeforeKillSeconds = 2 }, Ct);
            var stopped = await engine.Client.Containers.InspectContainerAsync(c.ID, Ct);
            Assert.Equal("exited", stopped.State!.Status);
            Assert.True(stopped.State.ExitCode >= 128, $"exit code {stopped.State.ExitCode}");

            await engine.Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters(), Ct);
            Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(engine.Options.StateRoot), e => Path.GetFileName(e).Contains(c.ID, StringComparison.Ordinal));
            Assert.False(Directory.Exists($"/sys/fs/cgroup/memory{parent}/{c.ID}"));
        }
        finally
        {
            RealEngine.RemoveCgroups(parent);
        }
    }
}
