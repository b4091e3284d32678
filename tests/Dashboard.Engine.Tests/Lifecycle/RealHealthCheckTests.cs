using Dashboard.Engine.Tests.Fakes;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Lifecycle;

/// <summary>Health checks run through the published runtime's exec inside a busybox container (root, DASHBOARD_BIN).</summary>
public sealed class RealHealthCheckTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CmdShell_InContainer_HealthyWithOutputThenTimeoutCounted()
    {
        await using var engine = await RealEngine.StartAsync();
        var id = (await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = "bb",
            Name = "probed",
            Cmd = ["sleep", "1000"],
            Healthcheck = new HealthcheckConfig
            {
                Test = ["CMD-SHELL", "echo probe-$HOSTNAME; test ! -f /tmp/hang || sleep 5"],
                Interval = TimeSpan.FromMilliseconds(200),
                Timeout = TimeSpan.FromMilliseconds(700),
                Retries = 1,
            },
            Hostname = "box",
        }, Ct)).ID;
        await engine.Client.Containers.StartContainerAsync(id, new ContainerStartParameters(), Ct);

        async Task<Health?> Health() => (await engine.Client.Containers.InspectContainerAsync(id, Ct)).State!.Health;
        await Poll.UntilAsync(async () => (await Health())?.Status == "healthy", TimeSpan.FromSeconds(20), "healthy");
        var healthy = (await Health())!;
        Assert.Equal("probe-box\n", healthy.Log[^1].Output);
        Assert.Equal(0, healthy.Log[^1].ExitCode);

        var exec = await engine.Client.Exec.CreateContainerExecAsync(id, new ContainerExecCreateParameters { Cmd = ["touch", "/tmp/hang"], AttachStdout = true, AttachStderr = true }, Ct);
        using (var stream = await engine.Client.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), Ct))
        {
            await stream.ReadOutputToEndAsync(Ct);
        }

        await Poll.UntilAsync(async () => (await Health())?.Status == "unhealthy", TimeSpan.FromSeconds(20), "unhealthy after a timeout");
        var last = (await Health())!.Log[^1];
        Assert.Equal(-1, last.ExitCode);
        Assert.Contains("Health check exceeded timeout", last.Output);
    }
}
