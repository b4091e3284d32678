using System.Text.Json;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Tests.Integration;

[Trait("Requires", "root")]
public sealed class HookTests : IDisposable
{
    private readonly RuntimeHarness _rt = new();

    public void Dispose() => _rt.Dispose();

    private static Hook Recorder(string log, string phase) => new()
    {
        Path = Dashboard.Testing.Requires.FindTool("busybox")!,
        Args = ["sh", "-c", $"printf '{phase} ' >> {log}; cat >> {log}; echo >> {log}"],
    };

    [Fact]
    public void Hooks_RunInOrder_WithTheStateOnStdin()
    {
        var log = Path.Combine(_rt.NewDir("hooks"), "log");
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["true"];
            s.Hooks = new Hooks
            {
                Prestart = [Recorder(log, "prestart")],
                CreateRuntime = [Recorder(log, "createRuntime")],
                CreateContainer = [Recorder(log, "createContainer")],
                StartContainer = [new Hook { Path = "/bin/sh", Args = ["sh", "-c", "echo startContainer-in-container >> /tmp/marker"] }],
                Poststart = [Recorder(log, "poststart")],
                Poststop = [Recorder(log, "poststop")],
            };
        });
        var id = RuntimeHarness.NewId();
        Assert.Equal(0, _rt.Run("run", "--bundle", bundle, id).ExitCode);
        var lines = File.ReadAllLines(log).Where(l => l.Length > 0).ToArray();
        Assert.Equal(["prestart", "createRuntime", "createContainer", "poststart", "poststop"], lines.Select(l => l[..l.IndexOf(' ', StringComparison.Ordinal)]));
        foreach (var line in lines)
        {
            using var state = JsonDocument.Parse(line[(line.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
            Assert.Equal(id, state.RootElement.GetProperty("id").GetString());
            Assert.Equal(bundle, state.RootElement.GetProperty("bundle").GetString());
        }

        // startContainer ran inside the container (its /tmp is the rootfs's).
        Assert.Equal("startContainer-in-container", File.ReadAllText(Path.Combine(bundle, "rootfs/tmp/marker")).Trim());
    }

    [Fact]
    public void HangingHook_TimesOut_AndLeavesNothingBehind()
    {
        string? cgroupsPath = null;
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["true"];
            s.Hooks = new Hooks { CreateRuntime = [new Hook { Path = Dashboard.Testing.Requires.FindTool("busybox")!, Args = ["sleep", "60"], Timeout = 1 }] };
            cgroupsPath = s.Linux!.CgroupsPath;
        });
        var id = RuntimeHarness.NewId();
        var result = _rt.Run("create", "--bundle", bundle, id);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("createRuntime hook", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("timed out", result.Stderr, StringComparison.Ordinal);
        Assert.False(_rt.StateLeft(id));
        Assert.False(Directory.Exists(RuntimeHarness.HostCgroupDir("memory", cgroupsPath!)));
    }

    [Fact]
    public void FailingPrestartHook_FailsCreate()
    {
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["true"];
            s.Hooks = new Hooks { Prestart = [new Hook { Path = "/bin/false" }] };
        });
        var result = _rt.Run("create", "--bundle", bundle, RuntimeHarness.NewId());
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("prestart hook /bin/false: exit status 1", result.Stderr, StringComparison.Ordinal);
    }
}
