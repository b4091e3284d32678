using System.Text.Json;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Tests.Integration;

[Trait("Requires", "root")]
public class LifecycleTests : IDisposable
{
    private readonly RuntimeHarness _rt;

    public LifecycleTests()
        : this(new RuntimeHarness())
    {
    }

    protected LifecycleTests(RuntimeHarness harness) => _rt = harness;

    public void Dispose()
    {
        _rt.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void Run_ExitStatus_IsTheProcessStatus()
    {
        Assert.Equal(0, _rt.RunContainer(_rt.Bundle("true")).ExitCode);
        Assert.Equal(3, _rt.RunContainer(_rt.Bundle("sh", "-c", "exit 3")).ExitCode);
        Assert.Equal(137, _rt.RunContainer(_rt.Bundle("sh", "-c", "sh -c 'kill -9 $$'; exit $?")).ExitCode);
    }

    [Fact]
    public void CreateStartStateKillDelete_FromSeparateProcesses_FollowTheSpecStatuses()
    {
        var bundle = _rt.Bundle("sleep", "60");
        var id = RuntimeHarness.NewId();
        var pidFile = Path.Combine(_rt.NewDir("pid"), "pid");
        Assert.Equal(0, _rt.Run("create", "--bundle", bundle, "--pid-file", pidFile, id).ExitCode);

        var created = RuntimeJson.ParseState(_rt.Run("state", id).Stdout);
        Assert.Equal("created", created.Status);
        Assert.Equal(int.Parse(File.ReadAllText(pidFile)), created.Pid);
        Assert.Equal(bundle, created.Bundle);
        Assert.True(File.Exists(_rt.StateFile(id, "exec.fifo")));

        Assert.Equal(0, _rt.Run("start", id).ExitCode);
        Assert.Equal("running", RuntimeJson.ParseState(_rt.Run("state", id).Stdout).Status);
        Assert.False(File.Exists(_rt.StateFile(id, "exec.fifo")));

        var delete = _rt.Run("delete", id);
        Assert.Equal(1, delete.ExitCode);
        Assert.Contains("not stopped", delete.Stderr, StringComparison.Ordinal);

        Assert.Equal(0, _rt.Run("kill", id, "KILL").ExitCode);
        WaitFor(() => RuntimeJson.ParseState(_rt.Run("state", id).Stdout).Status == "stopped");
        Assert.Equal(0, RuntimeJson.ParseState(_rt.Run("state", id).Stdout).Pid ?? 0);
        Assert.Equal(0, _rt.Run("delete", id).ExitCode);
        Assert.False(_rt.StateLeft(id));
        Assert.Equal(1, _rt.Run("state", id).ExitCode);
    }

    [Fact]
    public void State_OutputShape_MatchesTheSpecSchemaFields()
    {
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["sleep", "30"];
            s.Annotations = new Dictionary<string, string> { ["org.example.key"] = "value" };
        });
        var id = RuntimeHarness.NewId();
        _rt.Run("run", "-d", "--bundle", bundle, id);
        using var doc = JsonDocument.Parse(_rt.Run("state", id).Stdout);
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["annotations", "bundle", "id", "ociVersion", "pid", "status"], names);
        Assert.Equal("value", doc.RootElement.GetProperty("annotations").GetProperty("org.example.key").GetString());
        Assert.Equal(0, _rt.Run("delete", "--force", id).ExitCode);
    }

    [Fact]
    public void PauseResume_FreezeAndThawTheContainer()
    {
        var bundle = _rt.Bundle("sleep", "60");
        var id = RuntimeHarness.NewId();
        Assert.Equal(0, _rt.Run("run", "-d", "--bundle", bundle, id).ExitCode);
        Assert.Equal(0, _rt.Run("pause", id).ExitCode);
        var state = RuntimeJson.ParseState(_rt.Run("state", id).Stdout);
        Assert.Equal("paused", state.Status);
        Assert.Contains("FROZEN", FreezerState(id), StringComparison.Ordinal);
        Assert.Equal(0, _rt.Run("resume", id).ExitCode);
        Assert.Equal("running", RuntimeJson.ParseState(_rt.Run("state", id).Stdout).Status);
        Assert.Equal(0, _rt.Run("delete", "--force", id).ExitCode);
    }

    private string FreezerState(string id)
    {
        var record = File.ReadAllText(_rt.StateFile(id, "state.json"));
        using var doc = JsonDocument.Parse(record);
        var path = doc.RootElement.GetProperty("cgroupPaths").GetProperty("freezer").GetString()!;
        return File.ReadAllText(Path.Combine(path, "freezer.state"));
    }

    [Fact]
    public void Delete_AfterDeath_RemovesCgroupAndState()
    {
        string? cgroupsPath = null;
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["true"];
            cgroupsPath = s.Linux!.CgroupsPath;
        });
        var id = RuntimeHarness.NewId();
        Assert.Equal(0, _rt.Run("run", "-d", "--bundle", bundle, id).ExitCode);
        WaitFor(() => RuntimeJson.ParseState(_rt.Run("state", id).Stdout).Status == "stopped");
        Assert.True(Directory.Exists(RuntimeHarness.HostCgroupDir("memory", cgroupsPath!)));
        Assert.Equal(0, _rt.Run("delete", id).ExitCode);
        Assert.False(Directory.Exists(RuntimeHarness.HostCgroupDir("memory", cgroupsPath!)));
        Assert.False(Directory.Exists(RuntimeHarness.HostCgroupDir("pids", cgroupsPath!)));
        Assert.False(_rt.StateLeft(id));
    }

    [Fact]
    public void List_ShowsContainersAsJson()
    {
        var id = RuntimeHarness.NewId();
        _rt.Run("run", "-d", "--bundle", _rt.Bundle("sleep", "30"), id);
        var list = JsonDocument.Parse(_rt.Run("list", "--format", "json").Stdout);
        var entry = list.RootElement.EnumerateArray().Single(e => e.GetProperty("id").GetString() == id);
        Assert.Equal("running", entry.GetProperty("status").GetString());
        Assert.Equal(0, _rt.Run("delete", "-f", id).ExitCode);
    }

    [Fact]
    public void SessionKeyring_IsTheContainersOwn_UnlessNoNewKeyring()
    {
        // /proc/keys lists the keyrings the reader possesses; it is masked by default, so unmask it here.
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["cat", "/proc/keys"];
            s.Linux!.MaskedPaths = [.. s.Linux.MaskedPaths!.Where(p => p != "/proc/keys")];
        });
        var id = RuntimeHarness.NewId();
        var own = _rt.Run("run", "--bundle", bundle, id);
        Assert.Equal(0, own.ExitCode);
        Assert.Contains($"_ses.{id}:", own.Stdout, StringComparison.Ordinal);

        var other = RuntimeHarness.NewId();
        var inherited = _rt.Run("run", "--no-new-keyring", "--bundle", bundle, other);
        Assert.Equal(0, inherited.ExitCode);
        Assert.DoesNotContain($"_ses.{other}", inherited.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void StartWithoutProcess_Fails()
    {
        var bundle = _rt.Bundle(s => s.Process!.Args = ["sleep", "30"]);
        var id = RuntimeHarness.NewId();
        Assert.Equal(0, _rt.Run("create", "--bundle", bundle, id).ExitCode);
        var configPath = _rt.StateFile(id, "config.json");
        var spec = RuntimeJson.ParseSpec(File.ReadAllText(configPath));
        spec.Process = null;
        File.WriteAllText(configPath, RuntimeJson.Serialize(spec));
        var start = _rt.Run("start", id);
        Assert.Equal(1, start.ExitCode);
        Assert.Contains("no process", start.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, _rt.Run("delete", "--force", id).ExitCode);
    }

    internal static void WaitFor(Func<bool> condition, int timeoutMs = 10_000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < deadline, "condition not met in time");
            Thread.Sleep(20);
        }
    }
}

/// <summary>The same tests with a writable runtime binary: init re-executes a sealed memfd copy.</summary>
[Trait("Requires", "root")]
public sealed class LifecycleReexecTests : LifecycleTests
{
    public LifecycleReexecTests()
        : base(new RuntimeHarness(RuntimeHarness.FindPublishedRuntime()))
    {
    }
}
