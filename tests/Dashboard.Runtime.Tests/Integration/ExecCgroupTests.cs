using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Tests.Integration;

/// <summary>exec --cgroup (runc's flag): the exec'd process joins an existing sub-cgroup of the container.</summary>
[Trait("Requires", "root")]
public sealed class ExecCgroupTests : IDisposable
{
    private readonly RuntimeHarness _rt = new();

    public void Dispose() => _rt.Dispose();

    private (string Id, string CgroupsPath) StartSleeper()
    {
        string cgroupsPath = "";
        var bundle = _rt.Bundle(spec =>
        {
            spec.Process!.Args = ["sleep", "60"];
            cgroupsPath = spec.Linux!.CgroupsPath!;
        });
        var id = RuntimeHarness.NewId();
        Assert.Equal(0, _rt.Run("run", "-d", "--bundle", bundle, id).ExitCode);
        return (id, cgroupsPath);
    }

    private Dictionary<string, string> CgroupsOf(string id, params string[] flags)
    {
        var result = _rt.Run(["exec", .. flags, id, "cat", "/proc/self/cgroup"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        // "N:controllers:/path" per hierarchy; the cgroup2 line has empty controllers.
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(':', 3))
            .Where(p => p[1] is "" or "memory" or "pids" or "cpu" or "devices" or "freezer")
            .ToDictionary(p => p[1], p => p[2]);
    }

    [Fact]
    public void ExecCgroup_AllHierarchies_JoinsTheSubgroup()
    {
        var (id, path) = StartSleeper();
        foreach (var controller in Directory.GetDirectories("/sys/fs/cgroup").Where(d => Directory.Exists(d + path)))
        {
            var sub = Directory.CreateDirectory(controller + path + "/sub").FullName;
            foreach (var file in new[] { "cpuset.cpus", "cpuset.mems" }.Where(f => File.Exists(Path.Combine(sub, f))))
            {
                // A new v1 cpuset takes no tasks until its cpus and mems are set.
                File.WriteAllText(Path.Combine(sub, file), File.ReadAllText(Path.Combine(controller + path, file)).Trim());
            }
        }

        // The container has its own cgroup namespace (runc's default spec), rooted at its cgroup.
        var cgroups = CgroupsOf(id, "--cgroup", "sub");
        Assert.NotEmpty(cgroups);
        Assert.All(cgroups, c => Assert.Equal("/sub", c.Value));
        Assert.All(CgroupsOf(id), c => Assert.Equal("/", c.Value));
        Assert.Equal(0, _rt.Run("delete", "-f", id).ExitCode);
        Assert.False(Directory.Exists(RuntimeHarness.HostCgroupDir("memory", path)));
    }

    [Fact]
    public void ExecCgroup_ControllerSpecific_JoinsOnlyThatHierarchy()
    {
        var (id, path) = StartSleeper();
        if (!Directory.Exists(RuntimeHarness.HostCgroupDir("memory", path)))
        {
            Assert.Skip("needs a cgroup v1 memory hierarchy (this host is cgroup v2 only)");
        }

        Directory.CreateDirectory(RuntimeHarness.HostCgroupDir("memory", path) + "/m");
        var cgroups = CgroupsOf(id, "--cgroup", "memory:m");
        Assert.Equal("/m", cgroups["memory"]);
        Assert.Equal("/", cgroups["pids"]);
        Assert.Equal(0, _rt.Run("delete", "-f", id).ExitCode);
    }

    [Theory]
    [InlineData("../../../system.slice")]
    [InlineData("/sub")]
    [InlineData("a/../../b")]
    [InlineData("missing")]
    [InlineData("memory,memory:sub")]
    public void ExecCgroup_EscapingOrMissing_IsRejected(string value)
    {
        var (id, _) = StartSleeper();
        var result = _rt.Run("exec", "--cgroup", value, id, "true");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("cgroup", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("running", RuntimeJson.ParseState(_rt.Run("state", id).Stdout).Status);
        Assert.Equal(0, _rt.Run("delete", "-f", id).ExitCode);
    }
}
