using Dashboard.Testing;

namespace Dashboard.Runtime.Tests.Integration;

/// <summary>
/// <c>run</c> removes the container once its init is reaped, trying rmdir on each cgroup first: what the
/// kernel refuses as busy must still be killed and removed, and nothing may survive the run.
/// </summary>
[Trait("Requires", "root")]
public sealed class RunDeleteTests : IDisposable
{
    private readonly RuntimeHarness _rt = new();

    public void Dispose() => _rt.Dispose();

    [Fact]
    public void Run_HostPidNamespaceProcessOutlivesInit_IsKilledAndCgroupsRemoved()
    {
        Requires.Root();
        string? cgroupsPath = null;
        var marker = "31" + Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var bundle = _rt.Bundle(s =>
        {
            // Without its own pid namespace the init's death does not take the rest with it (security.md A13).
            s.Linux!.Namespaces = [.. s.Linux.Namespaces!.Where(n => n.Type != "pid")];
            s.Process!.Args = ["sh", "-c", $"sleep {marker} </dev/null >/dev/null 2>&1 & sleep 0.2; exit 4"];
            cgroupsPath = s.Linux.CgroupsPath;
        });
        var id = RuntimeHarness.NewId();

        var result = _rt.RunContainer(bundle, id);

        Assert.Equal(4, result.ExitCode);
        Assert.Empty(SleepersWith(marker));
        foreach (var controller in new[] { "memory", "pids", "freezer", "unified" })
        {
            Assert.False(Directory.Exists(RuntimeHarness.HostCgroupDir(controller, cgroupsPath!)), controller);
        }

        Assert.False(_rt.StateLeft(id));
    }

    [Fact]
    public void Run_OwnPidNamespace_RemovesCgroupsAndState()
    {
        Requires.Root();
        string? cgroupsPath = null;
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["sh", "-c", "sleep 100 </dev/null >/dev/null 2>&1 & exit 0"];
            cgroupsPath = s.Linux!.CgroupsPath;
        });
        var id = RuntimeHarness.NewId();

        Assert.Equal(0, _rt.RunContainer(bundle, id).ExitCode);

        Assert.False(Directory.Exists(RuntimeHarness.HostCgroupDir("memory", cgroupsPath!)));
        Assert.False(Directory.Exists(RuntimeHarness.HostCgroupDir("unified", cgroupsPath!)));
        Assert.False(_rt.StateLeft(id));
    }

    [Fact]
    public void Run_CgroupsPathOfALiveContainer_FailsAndLeavesThatContainerAlone()
    {
        Requires.Root();
        string? cgroupsPath = null;
        var first = _rt.Bundle(s =>
        {
            s.Process!.Args = ["sleep", "60"];
            cgroupsPath = s.Linux!.CgroupsPath;
        });
        var second = _rt.Bundle(s =>
        {
            s.Process!.Args = ["true"];
            s.Linux!.CgroupsPath = cgroupsPath;
        });
        var id = RuntimeHarness.NewId();
        Assert.Equal(0, _rt.Run("run", "-d", "--bundle", first, id).ExitCode);
        try
        {
            var other = RuntimeHarness.NewId();
            var result = _rt.RunContainer(second, other);

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("not empty", result.Stderr, StringComparison.Ordinal);
            Assert.Equal("running", Oci.Runtime.RuntimeJson.ParseState(_rt.Run("state", id).Stdout).Status);
            Assert.True(Directory.Exists(RuntimeHarness.HostCgroupDir("memory", cgroupsPath!)));
            Assert.False(_rt.StateLeft(other));
        }
        finally
        {
            Assert.Equal(0, _rt.Run("delete", "--force", id).ExitCode);
        }

        Assert.False(Directory.Exists(RuntimeHarness.HostCgroupDir("memory", cgroupsPath!)));
    }

    private static List<int> SleepersWith(string marker)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (cmdline.Contains("sleep\0" + marker, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process exited while the list was read.
            }
        }

        return found;
    }
}
