using System.Diagnostics;
using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;

namespace Dashboard.Engine.Tests.Api;

/// <summary>The real <c>docker</c> CLI client against the engine (fake runtime): it negotiates the API version down and gets shapes it parses.</summary>
public sealed class DockerCliTests : IAsyncLifetime
{
    private TestEngine _engine = null!;

    public async ValueTask InitializeAsync() => _engine = await TestEngine.StartAsync();

    public async ValueTask DisposeAsync() => await _engine.DisposeAsync();

    private async Task<(int Code, string Stdout, string Stderr)> DockerAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(Requires.FindTool("docker")!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-H");
        psi.ArgumentList.Add("unix://" + _engine.Socket);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOCKER_CONFIG"] = Path.Combine(_engine.Root, "docker-config");
        psi.Environment.Remove("DOCKER_HOST");
        psi.Environment.Remove("DOCKER_CONTEXT");
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Version_NegotiatesDownTo143()
    {
        Requires.Tool("docker");
        // The CLI negotiates with a ping it gives up on after a short timeout, then reports its own newest version: on a
        // loaded machine one slow answer is no failure to negotiate, so a few runs get the chance.
        var (code, stdout, stderr) = (0, "", "");
        for (var attempt = 0; attempt < 3 && stdout.Trim() != "1.43 1.43"; attempt++)
        {
            (code, stdout, stderr) = await DockerAsync("version", "--format", "{{.Server.APIVersion}} {{.Client.APIVersion}}");
            Assert.True(code == 0, stderr);
        }

        Assert.Equal("1.43 1.43", stdout.Trim());
    }

    [Fact]
    public async Task CreatePsLogsRm_RoundTrip()
    {
        Requires.Tool("docker");
        var create = await DockerAsync("create", "--name", "cli1", "--label", "k=v", "busybox", "echo", "hi", "there");
        Assert.True(create.Code == 0, create.Stderr);
        var id = create.Stdout.Trim();
        Assert.Matches("^[0-9a-f]{64}$", id);

        var ps = await DockerAsync("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.Status}} {{.Label \"k\"}}");
        Assert.True(ps.Code == 0, ps.Stderr);
        Assert.Equal($"{id} cli1 Created v", ps.Stdout.Trim());

        var start = await DockerAsync("start", "cli1");
        Assert.True(start.Code == 0, start.Stderr);
        var wait = await DockerAsync("wait", "cli1");
        Assert.Equal("0", wait.Stdout.Trim());
        var logs = await DockerAsync("logs", "cli1");
        Assert.True(logs.Code == 0, logs.Stderr);
        Assert.Equal("hi there\n", logs.Stdout);

        var inspect = await DockerAsync("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}} {{.Name}}", "cli1");
        Assert.Equal("exited 0 /cli1", inspect.Stdout.Trim());

        var dup = await DockerAsync("create", "--name", "cli1", "busybox", "true");
        Assert.NotEqual(0, dup.Code);
        Assert.Contains("is already in use", dup.Stderr);

        var rm = await DockerAsync("rm", "cli1");
        Assert.True(rm.Code == 0, rm.Stderr);
        Assert.Equal("cli1", rm.Stdout.Trim());
        var gone = await DockerAsync("ps", "-aq");
        Assert.Equal("", gone.Stdout.Trim());
    }

    [Fact]
    public async Task RunDetachedStopRm_ExitCodeFromSignal()
    {
        Requires.Tool("docker");
        var run = await DockerAsync("run", "-d", "--name", "svc", "busybox", "sleep", "1000");
        Assert.True(run.Code == 0, run.Stderr);
        var ps = await DockerAsync("ps", "--format", "{{.Names}} {{.State}}");
        Assert.Equal("svc running", ps.Stdout.Trim());
        var stop = await DockerAsync("stop", "-t", "2", "svc");
        Assert.True(stop.Code == 0, stop.Stderr);
        var inspect = await DockerAsync("inspect", "--format", "{{.State.ExitCode}}", "svc");
        Assert.Equal("143", inspect.Stdout.Trim());
        var rm = await DockerAsync("rm", "-f", "svc");
        Assert.True(rm.Code == 0, rm.Stderr);
    }

    [Fact]
    public async Task Info_Prints()
    {
        Requires.Tool("docker");
        var (code, stdout, stderr) = await DockerAsync("info", "--format", "{{.ServerVersion}} {{.OSType}} {{.DockerRootDir}}");
        Assert.True(code == 0, stderr);
        Assert.Equal($"0.1.0 linux {_engine.Options.DataRoot}", stdout.Trim());
    }
}
