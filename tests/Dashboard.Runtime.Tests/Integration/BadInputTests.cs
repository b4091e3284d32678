using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Tests.Integration;

/// <summary>Bad input gets a clear error and a non-zero exit, and leaves no state, cgroup, mount or process behind.</summary>
[Trait("Requires", "root")]
public sealed class BadInputTests : IDisposable
{
    private readonly RuntimeHarness _rt = new();

    public void Dispose() => _rt.Dispose();

    private void AssertFailsCleanly(string bundle, string expected, string? id = null, string? cgroupsPath = null)
    {
        id ??= RuntimeHarness.NewId();
        var result = _rt.Run("create", "--bundle", bundle, id);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        if (Directory.Exists(_rt.StateRoot) && id.Length < 256 && !id.Contains('/', StringComparison.Ordinal) && id is not ("" or ".." or "."))
        {
            Assert.False(_rt.StateLeft(id), "state left behind");
        }

        if (cgroupsPath is not null)
        {
            Assert.False(Directory.Exists(RuntimeHarness.HostCgroupDir("memory", cgroupsPath)), "cgroup left behind");
        }

        // Other tests and other users of the machine mount and unmount meanwhile: only mounts that involve this test's paths count.
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), l => l.Contains(bundle, StringComparison.Ordinal) || l.Contains(_rt.StateRoot, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("../x", "invalid container id")]
    [InlineData("a/b", "invalid container id")]
    [InlineData("..", "invalid container id")]
    [InlineData("-x", "flag provided but not defined")]
    public void BadIds_AreRejected(string id, string expected) => AssertFailsCleanly(_rt.Bundle("true"), expected, id);

    [Fact]
    public void EmptyAndHugeIds_AreRejected()
    {
        AssertFailsCleanly(_rt.Bundle("true"), "container id cannot be empty", "");
        AssertFailsCleanly(_rt.Bundle("true"), "invalid container id", new string('a', 1000));
    }

    [Fact]
    public void DuplicateId_IsRejected_AndTheFirstSurvives()
    {
        var id = RuntimeHarness.NewId();
        Assert.Equal(0, _rt.Run("create", "--bundle", _rt.Bundle("sleep", "30"), id).ExitCode);
        var second = _rt.Run("create", "--bundle", _rt.Bundle("true"), id);
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("already exists", second.Stderr, StringComparison.Ordinal);
        Assert.Equal("created", RuntimeJson.ParseState(_rt.Run("state", id).Stdout).Status);
        Assert.Equal(0, _rt.Run("delete", "-f", id).ExitCode);
    }

    [Fact]
    public void MalformedOrUnknownVersionConfig_IsRejected()
    {
        var bundle = _rt.Bundle("true");
        File.WriteAllText(Path.Combine(bundle, "config.json"), "{\"ociVersion\": \"1.0.0\", \"process\": ");
        AssertFailsCleanly(bundle, "config.json");

        var bundle2 = _rt.Bundle(s => s.OciVersion = "2.0.0");
        AssertFailsCleanly(bundle2, "unsupported spec version");

        var bundle3 = _rt.Bundle("true");
        File.WriteAllText(Path.Combine(bundle3, "config.json"), "{\"ociVersion\":\"1.0.0\",\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"}}");
        AssertFailsCleanly(bundle3, "config.json");
    }

    [Fact]
    public void MissingRootfs_IsRejected()
    {
        var bundle = _rt.Bundle("true");
        Directory.Delete(Path.Combine(bundle, "rootfs"), recursive: true);
        AssertFailsCleanly(bundle, "rootfs");
    }

    [Fact]
    public void UnknownCapability_IsAnError()
    {
        AssertFailsCleanly(_rt.Bundle(s => s.Process!.Capabilities!.Bounding!.Add("CAP_NOT_A_THING")), "unknown capability \"CAP_NOT_A_THING\"");
    }

    [Theory]
    [InlineData("kernel.core_pattern")]
    [InlineData("vm.overcommit_memory")]
    [InlineData("fs.file-max")]
    [InlineData("kernel/../core_pattern")]
    public void NonNamespacedSysctl_IsRejected(string key)
    {
        AssertFailsCleanly(_rt.Bundle(s => s.Linux!.Sysctl = new Dictionary<string, string> { [key] = "|/tmp/x" }), "sysctl");
        Assert.DoesNotContain("/tmp/x", File.ReadAllText("/proc/sys/kernel/core_pattern"), StringComparison.Ordinal);
    }

    [Fact]
    public void NetSysctlInHostNetns_IsRejected() =>
        AssertFailsCleanly(_rt.Bundle(s =>
        {
            s.Linux!.Namespaces!.RemoveAll(n => n.Type == "network");
            s.Linux.Sysctl = new Dictionary<string, string> { ["net.ipv4.ip_forward"] = "1" };
        }), "host's network namespace");

    [Fact]
    public void MountInsideProc_IsRejected() =>
        AssertFailsCleanly(_rt.Bundle(s => s.Mounts!.Add(new Mount { Destination = "/proc/sys/kernel", Type = "bind", Source = "/tmp", Options = ["bind"] })), "inside /proc");

    [Fact]
    public void MissingExecutable_FailsAtCreate()
    {
        string? cgroupsPath = null;
        AssertFailsCleanly(_rt.Bundle(s =>
        {
            s.Process!.Args = ["no-such-program"];
            cgroupsPath = s.Linux!.CgroupsPath;
        }), "executable file not found in $PATH", cgroupsPath: cgroupsPath);
    }

    [Fact]
    public void LimitTheKernelRefuses_LeavesNoCgroupInAnyHierarchy()
    {
        // cpuset.cpus names CPUs the host does not have: the write fails after every hierarchy's directory was made.
        string? cgroupsPath = null;
        AssertFailsCleanly(_rt.Bundle(s =>
        {
            s.Linux!.Resources = new Resources { Cpu = new CpuResources { Cpus = "4095" } };
            cgroupsPath = s.Linux.CgroupsPath;
        }), "failed to write \"4095\"", cgroupsPath: cgroupsPath);
        foreach (var hierarchy in Directory.GetDirectories("/sys/fs/cgroup"))
        {
            Assert.False(Directory.Exists(hierarchy + cgroupsPath), $"cgroup {hierarchy}{cgroupsPath} left behind");
        }
    }

    [Fact]
    public void RlimitSoftAboveHard_IsRejected() =>
        AssertFailsCleanly(_rt.Bundle(s => s.Process!.Rlimits = [new Rlimit { Type = "RLIMIT_NOFILE", Soft = 10, Hard = 5 }]), "soft limit");

    [Fact]
    public void DeviceOutsideDev_IsRejected() =>
        AssertFailsCleanly(_rt.Bundle(s => s.Linux!.Devices = [new Device { Path = "/dev/../etc/x", Type = "c", Major = 1, Minor = 3 }]), "must be inside /dev");

    [Fact]
    public void EscapingCgroupsPath_IsRejected() =>
        AssertFailsCleanly(_rt.Bundle(s => s.Linux!.CgroupsPath = "/../../sys"), "cgroupsPath");
}
