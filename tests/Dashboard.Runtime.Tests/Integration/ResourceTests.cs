using System.Diagnostics;
using Process = System.Diagnostics.Process;
using System.Text.Json;
using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Shim;

namespace Dashboard.Runtime.Tests.Integration;

[Trait("Requires", "root")]
public sealed class ResourceTests : IDisposable
{
    private readonly RuntimeHarness _rt = new();

    public void Dispose() => _rt.Dispose();

    [Fact]
    public void PidsLimit_Holds()
    {
        string? cgroupsPath = null;
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 30 & done 2>/tmp/err; sleep 30"];
            s.Linux!.Resources = new Resources { Pids = new PidsResources { Limit = 10 } };
            cgroupsPath = s.Linux.CgroupsPath;
        });
        var id = RuntimeHarness.NewId();
        Assert.Equal(0, _rt.Run("run", "-d", "--bundle", bundle, id).ExitCode);
        var errors = Path.Combine(bundle, "rootfs/tmp/err");
        LifecycleTests.WaitFor(() => File.Exists(errors) && new FileInfo(errors).Length > 0);
        var current = int.Parse(File.ReadAllText(RuntimeHarness.HostCgroupDir("pids", cgroupsPath!) + "/pids.current").Trim());
        Assert.InRange(current, 1, 10);
        Assert.Equal(0, _rt.Run("delete", "-f", id).ExitCode);
    }

    [Fact]
    public void MemoryLimit_OomKill_IsReportedByTheShimAndEvents()
    {
        var bundle = _rt.Bundle(s =>
        {
            // The allocation waits for the test's go file, so events is watching before the OOM happens.
            s.Process!.Args = ["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; dd if=/dev/zero of=/dev/null bs=200M count=1"];
            s.Linux!.Resources = new Resources { Memory = new MemoryResources { Limit = 32 << 20, Swap = 32 << 20 } };
        });
        var id = RuntimeHarness.NewId();
        var dir = _rt.NewDir("shim");
        var ready = Shim(id, bundle, dir);
        Assert.True(ready.Pid > 0);

        // events sees the OOM while the container lives.
        var events = Process.Start(new ProcessStartInfo(_rt.Binary, ["--root", _rt.StateRoot, "events", "--interval", "100ms", id]) { RedirectStandardOutput = true })!;
        var first = events.StandardOutput.ReadLine();
        Assert.Contains("\"type\":\"stats\"", first, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(bundle, "rootfs/tmp/go"), "");
        var exitFile = Path.Combine(dir, "exit.json");
        LifecycleTests.WaitFor(() => File.Exists(exitFile), 20_000);
        var exit = JsonSerializer.Deserialize(File.ReadAllText(exitFile), ShimJsonContext.Default.ExitRecord)!;
        Assert.True(exit.OomKilled);
        Assert.Equal(137, exit.ExitCode);
        Assert.True(events.WaitForExit(10_000));
        var output = events.StandardOutput.ReadToEnd();
        Assert.Contains("\"type\":\"oom\"", output, StringComparison.Ordinal);
        Assert.Equal(0, _rt.Run("delete", id).ExitCode);
    }

    [Fact]
    public void Update_ChangesLimitsLive_AndEventsStatsReportThem()
    {
        var bundle = _rt.Bundle("sleep", "30");
        var id = RuntimeHarness.NewId();
        Assert.Equal(0, _rt.Run("run", "-d", "--bundle", bundle, id).ExitCode);
        Assert.Equal(0, _rt.Run("update", "--memory", "64m", "--pids-limit", "42", id).ExitCode);
        using var stats = JsonDocument.Parse(_rt.Run("events", "--stats", id).Stdout);
        var data = stats.RootElement.GetProperty("data");
        Assert.Equal(64L << 20, data.GetProperty("memory").GetProperty("usage").GetProperty("limit").GetInt64());
        Assert.Equal(42, data.GetProperty("pids").GetProperty("limit").GetInt64());
        Assert.Equal(0, _rt.Run("delete", "-f", id).ExitCode);
    }

    [Fact]
    public void Shim_WritesCriLogAndExitFile()
    {
        var bundle = _rt.Bundle("sh", "-c", "echo out; echo err >&2; exit 7");
        var id = RuntimeHarness.NewId();
        var dir = _rt.NewDir("shim");
        Shim(id, bundle, dir);
        var exitFile = Path.Combine(dir, "exit.json");
        LifecycleTests.WaitFor(() => File.Exists(exitFile), 10_000);
        var exit = JsonSerializer.Deserialize(File.ReadAllText(exitFile), ShimJsonContext.Default.ExitRecord)!;
        Assert.Equal(7, exit.ExitCode);
        var log = File.ReadAllLines(Path.Combine(dir, "log"));
        Assert.Contains(log, l => l.EndsWith(" stdout F out", StringComparison.Ordinal));
        Assert.Contains(log, l => l.EndsWith(" stderr F err", StringComparison.Ordinal));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z std(out|err) F ", log[0]);
        Assert.Equal(0, _rt.Run("delete", id).ExitCode);
    }

    private ShimReady Shim(string id, string bundle, string dir)
    {
        var psi = new ProcessStartInfo(_rt.Binary, ["--root", _rt.StateRoot, "shim", "--bundle", bundle, "--log-path", Path.Combine(dir, "log"), "--exit-file", Path.Combine(dir, "exit.json"), "--control-socket", Path.Combine(dir, "ctl.sock"), id])
        {
            RedirectStandardOutput = true,
        };
        using var shim = Process.Start(psi)!;
        var line = shim.StandardOutput.ReadLine();
        Assert.NotNull(line);
        var ready = JsonSerializer.Deserialize(line, ShimJsonContext.Default.ShimReady)!;
        Assert.True(ready.Error is null, ready.Error);
        return ready;
    }
}
