using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;

namespace Dashboard.Engine.Tests.Containers;

/// <summary>Images and volumes with real containers: the docker CLI against the engine driving the published dashboard-runtime, as root.</summary>
public sealed class RealImageTests
{
    private static Task<(int Code, string Stdout, string Stderr)> Docker(RealEngine real, params string[] args) => DockerCli.RunAsync(real.Engine, args);

    private static async Task<string> LogsAsync(RealEngine real, string name, string expected)
    {
        var stdout = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !stdout.Contains(expected, StringComparison.Ordinal) && DateTime.UtcNow < deadline;)
        {
            stdout = (await Docker(real, "logs", name)).Stdout;
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        return stdout;
    }

    [Fact]
    public async Task DockerCli_LoadRunLogsRmRmi_BusyboxFromArchive()
    {
        Requires.Tool("docker");
        await using var real = await RealEngine.StartAsync();
        var archive = Path.Combine(real.Engine.Root, "bb.tar");
        File.WriteAllBytes(archive, TestImages.RealBusybox("bbcli:1", new Dashboard.Oci.Image.ContainerConfig
        {
            Cmd = ["sh"],
            Env = ["PATH=/bin"],
            Labels = new() { ["variant"] = "cli" },
        }));
        var load = await Docker(real, "load", "-i", archive);
        Assert.True(load.Code == 0, load.Stderr);
        Assert.Equal("Loaded image: bbcli:1", load.Stdout.Trim());

        var run = await Docker(real, "run", "-d", "--name", "bb", "bbcli:1", "sh", "-c", "echo hello from $(cat /etc/hostname 2>/dev/null || hostname); id -u; sleep 30");
        Assert.True(run.Code == 0, run.Stderr);
        var logs = await LogsAsync(real, "bb", "\n0\n");
        Assert.StartsWith("hello from ", logs, StringComparison.Ordinal);
        Assert.EndsWith("\n0\n", logs, StringComparison.Ordinal);
        Assert.Equal("running", (await Docker(real, "inspect", "--format", "{{.State.Status}}", "bb")).Stdout.Trim());

        var rmi = await Docker(real, "rmi", "bbcli:1");
        Assert.NotEqual(0, rmi.Code);
        Assert.Contains("must force", rmi.Stderr);

        var rm = await Docker(real, "rm", "-f", "bb");
        Assert.True(rm.Code == 0, rm.Stderr);
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), l => l.Contains(real.Engine.Options.ContainersDir, StringComparison.Ordinal));
        rmi = await Docker(real, "rmi", "bbcli:1");
        Assert.True(rmi.Code == 0, rmi.Stderr);
    }

    [Fact]
    public async Task NamedVolume_FileWrittenByContainer_SurvivesItsRemoval()
    {
        Requires.Tool("docker");
        await using var real = await RealEngine.StartAsync();
        var write = await Docker(real, "run", "-d", "--name", "writer", "-v", "keep:/data", "busybox", "sh", "-c", "echo persisted > /data/file; chown 1:1 /data/file");
        Assert.True(write.Code == 0, write.Stderr);
        Assert.Equal("0", (await Docker(real, "wait", "writer")).Stdout.Trim());
        Assert.Equal(0, (await Docker(real, "rm", "writer")).Code);

        var read = await Docker(real, "run", "-d", "--name", "reader", "-v", "keep:/data:ro", "busybox", "sh", "-c", "cat /data/file; stat -c %u /data/file; touch /data/x || echo read-only");
        Assert.True(read.Code == 0, read.Stderr);
        Assert.Equal("0", (await Docker(real, "wait", "reader")).Stdout.Trim());
        Assert.Equal("persisted\n1\nread-only\n", (await Docker(real, "logs", "reader")).Stdout);
        Assert.Equal(0, (await Docker(real, "rm", "reader")).Code);
        Assert.Equal(0, (await Docker(real, "volume", "rm", "keep")).Code);
    }
}
