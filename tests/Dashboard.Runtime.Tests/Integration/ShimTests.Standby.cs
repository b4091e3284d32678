using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Dashboard.Runtime.Shim;
using Process = System.Diagnostics.Process;

namespace Dashboard.Runtime.Tests.Integration;

/// <summary>
/// <c>shim --standby</c>: spawned by the engine ahead of need; the flags and id it would have taken on the
/// command line arrive on stdin (NUL-separated) when a container starts.
/// </summary>
public sealed partial class ShimTests
{
    [Fact]
    public void Shim_Standby_RequestOnStdin_StartsAndSupervisesLikeTheCommandLine()
    {
        var bundle = _rt.Bundle("sh", "-c", "echo standby-out; echo standby-err >&2; exit 3");
        var id = RuntimeHarness.NewId();
        var dir = _rt.NewDir("shim");
        using var shim = StartStandby();

        // It waits for its request: nothing is created meanwhile.
        Thread.Sleep(200);
        Assert.False(shim.HasExited);
        Assert.False(_rt.StateLeft(id));

        string[] request = ["--bundle", bundle, "--log-path", Path.Combine(dir, "log"), "--exit-file", Path.Combine(dir, "exit.json"),
            "--control-socket", Path.Combine(dir, "ctl.sock"), id];
        shim.StandardInput.BaseStream.Write(Encoding.UTF8.GetBytes(string.Join('\0', request)));
        shim.StandardInput.Close();
        var line = shim.StandardOutput.ReadLine();
        Assert.NotNull(line);
        var ready = JsonSerializer.Deserialize(line, ShimJsonContext.Default.ShimReady)!;
        Assert.True(ready.Error is null, ready.Error);
        Assert.True(ready.Pid > 0);

        var exit = WaitExit(dir);
        Assert.Equal(3, exit.ExitCode);
        var log = File.ReadAllLines(Path.Combine(dir, "log"));
        Assert.Contains(log, l => l.EndsWith(" stdout F standby-out", StringComparison.Ordinal));
        Assert.Contains(log, l => l.EndsWith(" stderr F standby-err", StringComparison.Ordinal));
        Assert.True(shim.WaitForExit(20_000));
        Assert.Equal(0, _rt.Run("delete", id).ExitCode);
    }

    [Fact]
    public void Shim_Standby_StdinClosedWithoutRequest_ExitsQuietlyLeavingNothing()
    {
        var before = Directory.Exists(_rt.StateRoot) ? Directory.GetFileSystemEntries(_rt.StateRoot).Length : 0;
        using var shim = StartStandby();
        shim.StandardInput.Close();
        Assert.True(shim.WaitForExit(20_000));
        Assert.Equal(0, shim.ExitCode);
        Assert.Equal("", shim.StandardError.ReadToEnd());
        Assert.Equal(before, Directory.Exists(_rt.StateRoot) ? Directory.GetFileSystemEntries(_rt.StateRoot).Length : 0);
    }

    [Theory]
    [InlineData("--bundle\0/nonexistent", "\"shim\" requires a container id")]
    [InlineData("--standby\0x", "cannot ask for --standby")]
    public void Shim_Standby_BadRequest_FailsWithAClearMessage(string request, string message)
    {
        using var shim = StartStandby();
        shim.StandardInput.BaseStream.Write(Encoding.UTF8.GetBytes(request));
        shim.StandardInput.Close();
        Assert.True(shim.WaitForExit(20_000));
        Assert.Equal(1, shim.ExitCode);
        Assert.Contains(message, shim.StandardError.ReadToEnd(), StringComparison.Ordinal);
    }

    private Process StartStandby()
    {
        var psi = new ProcessStartInfo(_rt.Binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in (string[])["--root", _rt.StateRoot, "shim", "--standby"])
        {
            psi.ArgumentList.Add(a);
        }

        return Process.Start(psi)!;
    }
}
