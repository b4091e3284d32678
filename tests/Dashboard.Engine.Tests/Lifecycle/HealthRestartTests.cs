using Dashboard.Engine.Tests.Fakes;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Lifecycle;

/// <summary>Health state survives an engine SIGKILL and the probes resume (security.md E1), with the published engine (DASHBOARD_BIN).</summary>
public sealed class HealthRestartTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<Health> HealthAsync(DockerClient client, string id) =>
        (await client.Containers.InspectContainerAsync(id, Ct)).State!.Health!;

    [Fact]
    public async Task SigkillEngine_UnhealthyStreakAndLogsKept_ProbesResumeAndRecover()
    {
        EngineProcess.Binary();
        var root = TestEngine.NewRoot();
        EngineProcess? engine = null;
        try
        {
            engine = await EngineProcess.StartAsync(root);
            await engine.Client.Images.LoadImageAsync(new ImageLoadParameters { Quiet = true }, new MemoryStream(TestImages.RealBusybox("bb:latest")), new Progress<JSONMessage>(), Ct);
            var id = (await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Image = "bb",
                Name = "probed",
                Cmd = ["sleep", "1000"],
                HostConfig = new HostConfig { NetworkMode = "none" },
                Healthcheck = new HealthcheckConfig
                {
                    Test = ["CMD-SHELL", "test -f /tmp/ok && echo fine || { echo missing; exit 1; }"],
                    Interval = TimeSpan.FromMilliseconds(300),
                    Timeout = TimeSpan.FromSeconds(3),
                    Retries = 2,
                },
            }, Ct)).ID;
            await engine.Client.Containers.StartContainerAsync(id, new ContainerStartParameters(), Ct);
            var client = engine.Client;
            await Poll.UntilAsync(async () => (await HealthAsync(client, id)) is { Status: "unhealthy", FailingStreak: >= 3 }, TimeSpan.FromSeconds(30), "unhealthy");

            engine.Kill();
            engine = null;
            var died = await File.ReadAllTextAsync(Path.Combine(root, "data", "containers", id, "health.json"), Ct);
            engine = await EngineProcess.StartAsync(root);
            client = engine.Client;

            var restored = await HealthAsync(client, id);
            Assert.Equal("unhealthy", restored.Status);
            Assert.True(restored.FailingStreak >= 3, $"streak {restored.FailingStreak}");
            Assert.NotEmpty(restored.Log);
            Assert.All(restored.Log, l => Assert.Equal(("missing\n", 1L), (l.Output, l.ExitCode)));
            Assert.Contains("\"unhealthy\"", died, StringComparison.Ordinal);

            // The probes continue: the streak grows, then a passing probe makes the container healthy.
            var streak = restored.FailingStreak;
            await Poll.UntilAsync(async () => (await HealthAsync(client, id)).FailingStreak > streak, TimeSpan.FromSeconds(30), "a probe after the restart");
            var exec = await client.Exec.CreateContainerExecAsync(id, new ContainerExecCreateParameters { Cmd = ["touch", "/tmp/ok"], AttachStdout = true, AttachStderr = true }, Ct);
            using (var stream = await client.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), Ct))
            {
                await stream.ReadOutputToEndAsync(Ct);
            }

            await Poll.UntilAsync(async () => (await HealthAsync(client, id)).Status == "healthy", TimeSpan.FromSeconds(30), "healthy after the restart");
            Assert.Equal(("fine\n", 0), ((await HealthAsync(client, id)).Log[^1].Output, (await HealthAsync(client, id)).FailingStreak));
        }
        finally
        {
            await EngineRestartTests.CleanUpAsync(root, engine);
        }
    }
}
