using System.Diagnostics;
using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Exec;

/// <summary>Exec through the real runtime (root): Docker.DotNet, the docker CLI with pipes, and <c>docker exec -it</c> on a pty.</summary>
public sealed class ExecTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DotNetExec_NoTty_SeparatesStreamsAndRecordsExitCode()
    {
        await using var real = await RealEngine.StartAsync();
        var id = await real.RunAsync("ex1", ["sleep", "300"], ct: Ct);
        var exec = await real.Client.Exec.CreateContainerExecAsync(id, new ContainerExecCreateParameters
        {
            AttachStdout = true,
            AttachStderr = true,
            Env = ["GREETING=hello"],
            Cmd = ["sh", "-c", "echo $GREETING out; echo err >&2; exit 3"],
        }, Ct);
        using (var stream = await real.Client.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), Ct))
        {
            var (stdout, stderr) = await stream.ReadOutputToEndAsync(Ct);
            Assert.Equal("hello out\n", stdout);
            Assert.Equal("err\n", stderr);
        }

        var inspect = await real.Client.Exec.InspectContainerExecAsync(exec.ID, Ct);
        Assert.False(inspect.Running);
        Assert.Equal(3, inspect.ExitCode);
        Assert.True(inspect.Pid > 0);
        Assert.Equal(id, inspect.ContainerID);

        var again = await Assert.ThrowsAnyAsync<DockerApiException>(() => real.Client.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), Ct));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task DotNetExec_Tty_OnePtyStreamWithConsoleSize()
    {
        await using var real = await RealEngine.StartAsync();
        var id = await real.RunAsync("ex2", ["sleep", "300"], ct: Ct);
        var exec = await real.Client.Exec.CreateContainerExecAsync(id, new ContainerExecCreateParameters
        {
            AttachStdout = true,
            AttachStderr = true,
            TTY = true,
            ConsoleSize = new ConsoleSize { Height = 30, Width = 100 },
            Cmd = ["sh", "-c", "tty; stty size; echo to-stderr >&2"],
        }, Ct);
        using (var stream = await real.Client.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters { TTY = true }, Ct))
        {
            var (stdout, stderr) = await stream.ReadOutputToEndAsync(Ct);
            Assert.Equal("", stderr);
            var lines = stdout.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            Assert.Matches("^/dev/pts/[0-9]+$", lines[0]);
            Assert.Equal("30 100", lines[1]);
            Assert.Equal("to-stderr", lines[2]);
        }

        Assert.Equal(0, (await real.Client.Exec.InspectContainerExecAsync(exec.ID, Ct)).ExitCode);
    }

    [Fact]
    public async Task Exec_StoppedContainerOrMissingCommand_Refused()
    {
        await using var real = await RealEngine.StartAsync();
        var c = await real.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "bb", Cmd = ["true"] }, Ct);
        var notRunning = await Assert.ThrowsAnyAsync<DockerApiException>(() => real.Client.Exec.CreateContainerExecAsync(c.ID, new ContainerExecCreateParameters { Cmd = ["true"] }, Ct));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, notRunning.StatusCode);

        var id = await real.RunAsync("ex3", ["sleep", "300"], ct: Ct);
        var exec = await real.Client.Exec.CreateContainerExecAsync(id, new ContainerExecCreateParameters { AttachStdout = true, Cmd = ["/no/such/binary"] }, Ct);
        var missing = await Assert.ThrowsAnyAsync<DockerApiException>(() => real.Client.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), Ct));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("no such file", missing.ResponseBody, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task DockerCliExec_StdinForwardedAndExitCode()
    {
        Requires.Tool("docker");
        await using var real = await RealEngine.StartAsync();
        await real.RunAsync("ex4", ["sleep", "300"], ct: Ct);
        var (code, stdout, stderr) = await real.DockerAsync("ping\npong\n", "exec", "-i", "ex4", "sh", "-c", "cat; echo done >&2; exit 3");
        Assert.True(code == 3, $"exit {code}: {stderr}");
        Assert.Equal("ping\npong\n", stdout);
        Assert.Equal("done\n", stderr);

        var detached = await real.DockerAsync(null, "exec", "-d", "ex4", "sh", "-c", "echo x > /tmp/marker");
        Assert.True(detached.Code == 0, detached.Stderr);
        var marker = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(30); marker.Length == 0 && DateTime.UtcNow < deadline;)
        {
            marker = (await real.DockerAsync(null, "exec", "ex4", "cat", "/tmp/marker")).Stdout;
            await Task.Delay(50, Ct);
        }

        Assert.Equal("x\n", marker);
    }

    [Fact]
    public async Task DockerCliExecIt_ThroughPty_ExitCode3()
    {
        Requires.Tool("docker");
        Requires.Tool("script");
        await using var real = await RealEngine.StartAsync();
        await real.RunAsync("ex5", ["sleep", "300"], ct: Ct);

        // script(1) gives the docker client a terminal, so -t is accepted and the client goes raw.
        var command = $"{Requires.FindTool("docker")} -H unix://{real.Engine.Socket} exec -it ex5 sh -c 'echo hi; tty; exit 3'";
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
        var (code, stdout, stderr) = await RealEngine.RunAsync(psi, null, keepStdinOpen: true);
        Assert.True(code == 3, $"exit {code}: {stdout} {stderr}");
        Assert.Contains("hi\r\n", stdout, StringComparison.Ordinal);
        Assert.Matches("/dev/pts/[0-9]+\r\n", stdout);
    }
}
