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
        var command = $"{Requires.FindTool("docker")} -H unix://{real.Engine.Socket} run -it --name at2 bb sh -c 'echo hi; tty; exit 3'";
        var (code, stdout, stderr) = await ScriptAsync(real, command);
        Assert.True(code == 3, $"exit {code}: {stdout} {stderr}");
        Assert.Contains("hi\r\n", stdout, StringComparison.Ordinal);
        Assert.Matches("/dev/pts/[0-9]+\r\n", stdout);
    }

    /// <summary>
    /// The container writes from its first instant and on while the engine connects to its shim, so output written
    /// between any replay and the attach registration would show as a gap (the race issue 4 had), and output both
    /// replayed and streamed as a repeat; 20 runs of <c>docker run -it</c> through a pty.
    /// </summary>
    [Fact]
    public async Task DockerRunIt_WritesFromStart_EveryRunGetsAllOutputOnce()
    {
        Requires.Tool("docker");
        Requires.Tool("script");
        await using var real = await RealEngine.StartAsync();
        var expected = string.Concat(Enumerable.Range(0, Lines).Select(i => $"line{i}\r\n"));
        for (var run = 0; run < 20; run++)
        {
            var command = $"{Requires.FindTool("docker")} -H unix://{real.Engine.Socket} run -it --name it{run} bb sh -c '{Writer}; exit 3'";
            var (code, stdout, stderr) = await ScriptAsync(real, command);
            Assert.True(code == 3, $"run {run}: exit {code}: {stdout} {stderr}");
            Assert.Equal(expected, Numbered(stdout, "\r\n"));
        }
    }

    /// <summary><c>docker run</c> without a terminal, through the API: attach (stream=1) before the start, both streams.</summary>
    [Fact]
    public async Task AttachBeforeStart_WritesFromStart_EveryRunGetsAllOutputOnce()
    {
        await using var real = await RealEngine.StartAsync();
        for (var run = 0; run < 10; run++)
        {
            var c = await real.Client.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Image = "bb",
                Name = $"ab{run}",
                Cmd = ["sh", "-c", $"echo first >&2; {Writer}; echo last >&2"],
                AttachStdout = true,
                AttachStderr = true,
            }, Ct);
            using var stream = await real.Client.Containers.AttachContainerAsync(c.ID, new ContainerAttachParameters { Stream = true, Stdout = true, Stderr = true }, Ct);
            await real.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
            var (stdout, stderr) = await ReadToEndAsync(stream);
            await real.Client.Containers.WaitContainerAsync(c.ID, Ct);
            Assert.Equal(string.Concat(Enumerable.Range(0, Lines).Select(i => $"line{i}\n")), stdout);
            Assert.Equal("first\nlast\n", stderr);
        }
    }

    /// <summary>
    /// <c>logs=1&amp;stream=1</c> while the container writes: the log replay and the live stream meet at the shim's
    /// position, so every line arrives once, in order (the engine's test log rotates every 4 KiB: the replay crosses files).
    /// </summary>
    [Fact]
    public async Task AttachLogsAndStream_WhileWriting_EveryLineExactlyOnce()
    {
        await using var real = await RealEngine.StartAsync();
        for (var run = 0; run < 5; run++)
        {
            var id = await real.RunAsync($"al{run}", ["sh", "-c", Writer], ct: Ct);
            var log = (await real.Engine.Manager.GetAsync(id, Ct)).LogPath;

            // Attach once the container has written some lines, while it writes on.
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (CountRecords(log) < 10 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(5, Ct);
            }

            using var stream = await real.Client.Containers.AttachContainerAsync(id, new ContainerAttachParameters { Logs = true, Stream = true, Stdout = true, Stderr = true }, Ct);
            var (stdout, _) = await ReadToEndAsync(stream);
            await real.Client.Containers.WaitContainerAsync(id, Ct);
            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == Lines && lines.Select((l, i) => l == $"line{i}").All(ok => ok), $"run {run}: {stdout}");
        }
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

    /// <summary>Lines the test containers write.</summary>
    private const int Lines = 120;

    /// <summary>Writes line0 … line119 from the start, 2 ms apart (busybox usleep), so the writing spans the engine's attach.</summary>
    private static string Writer => $"i=0; while [ $i -lt {Lines} ]; do echo line$i; usleep 2000; i=$((i+1)); done";

    /// <summary>The lineN lines of a terminal transcript (script(1) adds nothing else, but the client may print a warning first).</summary>
    private static string Numbered(string transcript, string newline) =>
        string.Concat(transcript.Split(newline).Where(l => l.StartsWith("line", StringComparison.Ordinal)).Select(l => l + newline));

    private static int CountRecords(string log)
    {
        try
        {
            return CriLogFiles(log).Sum(f => File.ReadLines(f).Count());
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static IEnumerable<string> CriLogFiles(string log) => new[] { log + ".2", log + ".1", log }.Where(File.Exists);

    private static async Task<(string Stdout, string Stderr)> ReadToEndAsync(Docker.DotNet.MultiplexedStream stream)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        return await stream.ReadOutputToEndAsync(timeout.Token);
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
