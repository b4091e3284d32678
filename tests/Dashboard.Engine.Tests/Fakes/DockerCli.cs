using System.Diagnostics;
using Dashboard.Testing;

namespace Dashboard.Engine.Tests.Fakes;

/// <summary>Runs the real <c>docker</c> client against a test engine's socket, with its own config dir and no inherited context.</summary>
public static class DockerCli
{
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(TestEngine engine, IReadOnlyList<string> args, byte[]? stdin = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(Requires.FindTool("docker")!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-H");
        psi.ArgumentList.Add("unix://" + engine.Socket);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOCKER_CONFIG"] = Path.Combine(engine.Root, "docker-config");
        psi.Environment.Remove("DOCKER_HOST");
        psi.Environment.Remove("DOCKER_CONTEXT");
        using var process = Process.Start(psi)!;
        var ct = TestContext.Current.CancellationToken;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        if (stdin is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(stdin, ct);
            process.StandardInput.Close();
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    public static Task<(int Code, string Stdout, string Stderr)> RunAsync(TestEngine engine, params string[] args) => RunAsync(engine, args, null);
}
