using System.Text.Json;
using Dashboard.Testing;

namespace Dashboard.Runtime.Tests.Integration;

/// <summary>The same bundle under runc and under ours: exit status, state JSON shape and what the probe reports.</summary>
[Trait("Requires", "root")]
public sealed class DifferentialTests : IDisposable
{
    private readonly RuntimeHarness _ours = new();
    private readonly RuntimeHarness _runc;

    public DifferentialTests()
    {
        Requires.Tool("runc");
        _runc = new RuntimeHarness(Requires.FindTool("runc"));
    }

    public void Dispose()
    {
        _ours.Dispose();
        _runc.Dispose();
    }

    public static TheoryData<string> Probes => new()
    {
        "id",
        "hostname",
        "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp)' /proc/self/status",
        "ulimit -n; ulimit -Hn",
        "wc -c < /proc/kcore; ls /proc/acpi 2>/dev/null | wc -l",
        "echo 1 > /proc/sysrq-trigger 2>/dev/null; echo $?",
        "ls /dev | sort | tr '\\n' ' '",
        "for l in /dev/ptmx /dev/fd /dev/stdin; do readlink $l; done",
        "exit 42",
        "kill -TERM $$",
        "cat /proc/self/cgroup | wc -l",
        "pwd; echo $PATH; echo $TERM",
        "touch /sys/x 2>/dev/null; echo $?",
    };

    [Theory]
    [MemberData(nameof(Probes))]
    public void Probe_SameResultUnderRuncAndOurs(string script)
    {
        var ours = _ours.RunContainer(_ours.Bundle("sh", "-c", script));
        var runc = _runc.RunContainer(_runc.Bundle("sh", "-c", script));
        Assert.Equal(runc.ExitCode, ours.ExitCode);
        Assert.Equal(runc.Stdout, ours.Stdout);
    }

    [Fact]
    public void State_SameShapeUnderRuncAndOurs()
    {
        string Shape(RuntimeHarness rt)
        {
            var id = RuntimeHarness.NewId();
            Assert.Equal(0, rt.Run("create", "--bundle", rt.Bundle("sleep", "30"), id).ExitCode);
            using var doc = JsonDocument.Parse(rt.Run("state", id).Stdout);
            var shape = string.Join(',', doc.RootElement.EnumerateObject().Select(p => $"{p.Name}:{p.Value.ValueKind}").Order(StringComparer.Ordinal));
            var status = doc.RootElement.GetProperty("status").GetString();
            Assert.Equal(0, rt.Run("delete", "--force", id).ExitCode);
            return shape.Replace("created:String,", "", StringComparison.Ordinal).Replace("owner:String,", "", StringComparison.Ordinal).Replace("rootfs:String,", "", StringComparison.Ordinal) + "|" + status;
        }

        Assert.Equal(Shape(_runc), Shape(_ours));
    }
}
