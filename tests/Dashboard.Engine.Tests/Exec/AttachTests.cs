using System.Diagnostics;
using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Exec;

/// <summary>Attach and resize through the shim's control socket (root, real runtime): <c>docker run -i</c>, <c>docker run -it</c> on a pty, <c>docker attach</c>.</summary>
public sealed class AttachTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DockerRunInteractive_StdinToContainerAndExitCode()
    {
        Requires.Tool("docker");
        await using var real = await RealEngine.StartAsync();
        var (code, stdout, stderr) = await real.DockerAsync("ping\n", "run", "-i", "--name", "at1", "bb", "sh", "-c", "read line; echo got $line; echo to-err >&2; exit 2");
        Assert.True(code == 2, $"exit {code}: {stderr}");
        Assert.Equal("got ping\n", stdout);
        Assert.Equal("to-err\n", stderr);
    }

    [Fact]
    public async Task DockerRunIt_ThroughPty_OutputAndExitCode()
    {
        Requires.Tool("docker");
        Requires.Tool("script");
        await using var real = await RealEngine.StartAsync();
        // The container waits before it writes: output written in the few milliseconds between the engine's log
        // replay and the shim's attach registration is lost (a known race, README "Not done yet"; the fix is a log
        // position handed over by the shim), and an immediate echo lost that way failed this test under load.
        var command = $"{Requires.FindTool("docker")} -H unix://{real.Engine.Socket} run -it --name at2 bb sh -c 'sleep 2; echo hi; tty; exit 3'";
        var (code, stdout, stderr) = await ScriptAsync(real, command);
        Assert.True(code == 3, $"exit {code}: {stdout} {stderr}");
        Assert.Contains("hi\r\n", stdout, StringComparison.Ordinal);
        Assert.Matches("/dev/pts/[0-9]+\r\n", stdout);
    }

    [Fact]
    public async Task DockerAttach_TtyContainer_InputReachesReaderAndResized()
    {
        Requires.Tool("docker");
        Requires.Tool("script");
        await using var real = await RealEngine.StartAsync();
        var id = await real.RunAsync("at3", ["sh", "-c", "read line; stty size; echo got $line; exit 4"], tty: true, openStdin: true, ct: Ct);
        await real.Client.Containers.ResizeContainerTtyAsync(id, new ContainerResizeParameters { Height = 33, Width = 111 }, Ct);

        // The docker client needs a terminal to attach stdin to a tty container: script(1) gives it one.
        var (code, stdout, stderr) = await ScriptAsync(real, $"{Requires.FindTool("docker")} -H unix://{real.Engine.Socket} attach at3", "hello\n");
        Assert.True(code == 4, $"exit {code}: {stdout} {stderr}");
        Assert.Matches("[1-9][0-9]* [1-9][0-9]*\r\n", stdout); // the size the client's terminal sent through POST /containers/{id}/resize
        Assert.Contains("got hello\r\n", stdout, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> ScriptAsync(RealEngine real, string command, string? input = null)
    {
        var psi = new ProcessStartInfo(Requires.FindTool("script")!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-qec", command, "/dev/null" })
        {
            psi.ArgumentList.Add(a);
        }

        RealEngine.DockerEnvironment(psi, real.Engine.Root);
        return await RealEngine.RunAsync(psi, input, keepStdinOpen: true);
    }
}
