using Dashboard.Engine.Policy;
using Dashboard.Oci.Runtime;

namespace Dashboard.Engine.Tests.Policy;

/// <summary>The policy on hand-made runtime specs: the parts the API cannot express yet (devices, joined namespaces, propagation, hooks).</summary>
public sealed class EnginePolicyTests
{
    private static Spec Baseline() => new()
    {
        Process = new Process { Capabilities = new Capabilities { Bounding = ["CAP_CHOWN"], Effective = ["CAP_CHOWN"], Permitted = ["CAP_CHOWN"] } },
        Mounts = [new Mount { Destination = "/proc", Type = "proc", Source = "proc" }],
        Linux = new Dashboard.Oci.Runtime.Linux
        {
            Namespaces = [new() { Type = "mount" }, new() { Type = "network" }, new() { Type = "pid" }, new() { Type = "ipc" }, new() { Type = "uts" }],
            MaskedPaths = ["/proc/kcore"],
            Seccomp = Dashboard.Engine.Containers.SeccompOptions.ForContainer(null, false, ["CAP_CHOWN"]),
            Resources = new Resources { Devices = [new DeviceCgroup { Allow = false, Access = "rwm" }, new DeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rwm" }] },
        },
    };

    private static readonly string[] s_noManagedRoots = [];

    [Fact]
    public void Check_Baseline_NoViolations() =>
        Assert.Empty(EnginePolicy.Parse("{}", "test").Check(Baseline(), s_noManagedRoots));

    [Fact]
    public void Check_DeviceNodeAndExtraDeviceRule_Refused()
    {
        var spec = Baseline();
        spec.Linux!.Devices = [new Device { Path = "/dev/sda", Type = "b", Major = 8, Minor = 0 }];
        spec.Linux.Resources!.Devices!.Add(new DeviceCgroup { Allow = true, Type = "b", Major = 8, Minor = 0, Access = "rwm" });
        var violations = EnginePolicy.Parse("{}", "test").Check(spec, s_noManagedRoots);
        Assert.Contains("device /dev/sda is not allowed", violations);
        Assert.Contains("device access b 8:0 rwm is not allowed", violations);
        Assert.Empty(EnginePolicy.Parse("""{"devices":true}""", "test").Check(spec, s_noManagedRoots));
    }

    [Theory]
    [InlineData("unconfined")]
    [InlineData("custom")]
    [InlineData("capability")]
    public void Check_OtherThanDefaultSeccomp_RefusedUnlessAllowed(string variant)
    {
        var spec = Baseline();
        spec.Linux!.Seccomp = variant switch
        {
            "unconfined" => null,
            "custom" => new Seccomp { DefaultAction = "SCMP_ACT_ALLOW" },
            _ => Dashboard.Engine.Containers.SeccompOptions.ForContainer(null, false, ["CAP_CHOWN", "CAP_SYS_ADMIN"]),
        };

        Assert.Contains("seccomp profiles other than the default are not allowed", EnginePolicy.Parse("{}", "test").Check(spec, s_noManagedRoots));
        Assert.Empty(EnginePolicy.Parse("""{"seccompProfiles":true}""", "test").Check(spec, s_noManagedRoots));
    }

    [Fact]
    public void Check_AllowAllDeviceRule_IsPrivileged()
    {
        var spec = Baseline();
        spec.Linux!.Resources!.Devices = [new DeviceCgroup { Allow = true, Access = "rwm" }];
        Assert.Contains("privileged mode is not allowed", EnginePolicy.Parse("{}", "test").Check(spec, s_noManagedRoots));
    }

    [Fact]
    public void Check_EmptyMaskedPaths_IsPrivileged()
    {
        var spec = Baseline();
        spec.Linux!.MaskedPaths = [];
        Assert.Contains("privileged mode is not allowed", EnginePolicy.Parse("{}", "test").Check(spec, s_noManagedRoots));
    }

    [Theory]
    [InlineData("network", "/proc/1/ns/net")]
    [InlineData("pid", "/proc/self/ns/pid")]
    [InlineData("user", "/proc/1/ns/user")]
    public void Check_JoiningTheHostsNamespaceByPath_Refused(string type, string path)
    {
        var spec = Baseline();
        spec.Linux!.Namespaces!.RemoveAll(n => n.Type == type);
        spec.Linux.Namespaces.Add(new Namespace { Type = type, Path = path });
        Assert.Contains($"sharing the host's {type} namespace is not allowed", EnginePolicy.Parse("{}", "test").Check(spec, s_noManagedRoots));
    }

    [Fact]
    public void Check_SharedPropagationAndHooks_Refused()
    {
        var spec = Baseline();
        spec.Mounts!.Add(new Mount { Destination = "/x", Type = "tmpfs", Source = "tmpfs", Options = ["rshared"] });
        spec.Hooks = new Hooks();
        var violations = EnginePolicy.Parse("{}", "test").Check(spec, s_noManagedRoots);
        Assert.Contains("mount /x: shared propagation is not allowed", violations);
        Assert.Contains("OCI hooks are not allowed", violations);
    }

    [Fact]
    public void Check_BindWithoutTypeButBindOption_CheckedAsBind()
    {
        var spec = Baseline();
        spec.Mounts!.Add(new Mount { Destination = "/x", Type = "none", Source = "/etc", Options = ["rbind", "ro"] });
        Assert.Contains("bind mount of host path /etc is not allowed", EnginePolicy.Parse("{}", "test").Check(spec, s_noManagedRoots));
        Assert.Empty(EnginePolicy.Parse("{}", "test").Check(spec, ["/etc"]));
    }

    [Fact]
    public void Check_SysctlPrefixEntry_AllowsItsFamily()
    {
        var spec = Baseline();
        spec.Linux!.Sysctl = new Dictionary<string, string> { ["net.ipv4.tcp_rmem"] = "1 2 3" };
        Assert.NotEmpty(EnginePolicy.Parse("{}", "test").Check(spec, s_noManagedRoots));
        Assert.Empty(EnginePolicy.Parse("""{"sysctls":["net.ipv4.*"]}""", "test").Check(spec, s_noManagedRoots));
    }

    [Theory]
    [InlineData("""{"privileged":true,"privileged":false}""")]
    [InlineData("""{"hostNamespaces":["mnt"]}""")]
    [InlineData("""{"bindMountPrefixes":["srv"]}""")]
    [InlineData("""{"Privileged":true}""")]
    public void Parse_BadDocument_Refused(string json) =>
        Assert.Equal(ErrorKind.Internal, Assert.Throws<EngineException>(() => EnginePolicy.Parse(json, "test")).Kind);

    [Fact]
    public void Resolve_SymlinkAndDotDot_RealPath()
    {
        var dir = Directory.CreateTempSubdirectory("policy-").FullName;
        try
        {
            File.CreateSymbolicLink(Path.Combine(dir, "root"), "/");
            File.CreateSymbolicLink(Path.Combine(dir, "rel"), "sub/../root/etc");
            Directory.CreateDirectory(Path.Combine(dir, "sub"));
            Assert.Equal("/etc", HostPath.Resolve(Path.Combine(dir, "root", "etc")));
            Assert.Equal("/etc", HostPath.Resolve(Path.Combine(dir, "rel")));
            Assert.Equal("/etc", HostPath.Resolve(dir + "/sub/../../../../../etc"));
            Assert.Equal(dir + "/missing/x", HostPath.Resolve(dir + "/missing/x"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
