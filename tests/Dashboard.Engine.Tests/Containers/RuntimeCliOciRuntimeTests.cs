using System.Globalization;
using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Containers;

/// <summary>
/// The real <c>RuntimeCliOciRuntime</c> driving a shell script that follows the dashboard-runtime contract:
/// real processes for the shim, its pid line, the exit file and the runc-style verbs.
/// </summary>
public sealed class RuntimeCliOciRuntimeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Script([System.Runtime.CompilerServices.CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(source)!, "..", "Fakes", "contract-runtime.sh");

    [Fact]
    public async Task Lifecycle_ThroughShimProcess_StartTopStopRemove()
    {
        Requires.Tool("jq");
        await using var engine = await TestEngine.StartWithRuntimeBinaryAsync(Path.GetFullPath(Script()));
        var c = await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Name = "real", Cmd = ["sleep", "1000"] }, Ct);
        await engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
        var inspect = await engine.Client.Containers.InspectContainerAsync(c.ID, Ct);
        Assert.True(inspect.State!.Running);
        var pid = (int)inspect.State.Pid;
        Assert.Contains("sleep", File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline"));

        var top = await engine.Client.Containers.ListProcessesAsync(c.ID, new ContainerListProcessesParameters(), Ct);
        Assert.Equal("sleep 1000", Assert.Single(top.Processes)[7]);

        using (var logs = await engine.Client.Containers.GetContainerLogsAsync(c.ID, new ContainerLogsParameters { ShowStdout = true }, Ct))
        {
            Assert.Equal("started\n", (await logs.ReadOutputToEndAsync(Ct)).stdout);
        }

        await engine.Client.Containers.StopContainerAsync(c.ID, new ContainerStopParameters { WaitBeforeKillSeconds = 5 }, Ct);
        var stopped = await engine.Client.Containers.InspectContainerAsync(c.ID, Ct);
        Assert.Equal(143, stopped.State!.ExitCode);
        Assert.False(Directory.Exists($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}"));
        await engine.Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters(), Ct);
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(engine.Options.StateRoot), e => Path.GetFileName(e).Contains(c.ID, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_ShimReportsError_BadRequestWithRuntimeMessage()
    {
        Requires.Tool("jq");
        await using var engine = await TestEngine.StartWithRuntimeBinaryAsync(Path.GetFullPath(Script()));
        var c = await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Name = "nope", Cmd = ["nosuchcmd"] }, Ct);
        var e = await Assert.ThrowsAsync<DockerApiException>(() => engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Contains("executable file not found", e.ResponseBody);
    }
}
