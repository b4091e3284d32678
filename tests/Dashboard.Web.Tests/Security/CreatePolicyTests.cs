using Dashboard.Web.Engines;
using Dashboard.Web.Model;
using Dashboard.Web.Security;

namespace Dashboard.Web.Tests.Security;

public class CreatePolicyTests
{
    private static readonly ContainerCreateRequest s_plain = new() { Image = "busybox" };

    public static TheoryData<string, ContainerCreateRequest> Dangerous() => new()
    {
        { "privileged", s_plain with { Privileged = true } },
        { "host network namespace", s_plain with { NetworkMode = "host" } },
        { "host network namespace", s_plain with { NetworkMode = " HOST " } },
        { "network namespace of another container", s_plain with { NetworkMode = "container:abc" } },
        { "host pid namespace", s_plain with { PidMode = "Host" } },
        { "pid namespace of another container", s_plain with { PidMode = "container:abc" } },
        { "host ipc namespace", s_plain with { IpcMode = "host" } },
        { "host uts namespace", s_plain with { UtsMode = "host" } },
        { "bind mount /:/host", s_plain with { Mounts = [new MountSpec("bind", "/", "/host", false)] } },
        { "bind mount /etc:/x", s_plain with { Mounts = [new MountSpec("volume", "/etc", "/x", true)] } },
        { "bind mount ../x:/x", s_plain with { Mounts = [new MountSpec("volume", "../x", "/x", false)] } },
        { "bind mount data:/x", s_plain with { Mounts = [new MountSpec("BIND", "data", "/x", false)] } },
        { "devices", s_plain with { Devices = [new DeviceSpec("/dev/sda", "/dev/sda", "rwm")] } },
        { "capability SYS_ADMIN", s_plain with { CapAdd = ["sys_admin"] } },
        { "capability SYS_PTRACE", s_plain with { CapAdd = ["CAP_SYS_PTRACE"] } },
        { "capability ALL", s_plain with { CapAdd = ["ALL"] } },
        { "security options", s_plain with { SecurityOpt = ["seccomp=unconfined"] } },
    };

    [Theory]
    [MemberData(nameof(Dangerous))]
    public void DangerousOptions_Field_Named(string expected, ContainerCreateRequest request)
    {
        Assert.Contains(expected, CreatePolicy.DangerousOptions(request));
    }

    [Fact]
    public void DangerousOptions_OrdinaryRequest_None()
    {
        var request = s_plain with
        {
            NetworkMode = "bridge",
            Mounts = [new MountSpec("volume", "data", "/data", false)],
            CapAdd = ["NET_BIND_SERVICE", "cap_chown"],
            CapDrop = ["ALL"],
            Ports = [new PortPublish(80, "tcp", "127.0.0.1", 8080)],
            MemoryBytes = 64 << 20,
            ReadOnlyRootfs = true,
            User = "1000",
        };

        Assert.Empty(CreatePolicy.DangerousOptions(request));
    }

    [Fact]
    public void FormVolumes_HostPathSyntax_BecomesBindAndIsRefused()
    {
        var (request, errors) = new ContainerForm { Image = "busybox", Volumes = "/var/run/docker.sock:/sock\ndata:/data:ro" }.ToRequest();

        Assert.Empty(errors);
        Assert.Equal([new MountSpec("bind", "/var/run/docker.sock", "/sock", false), new MountSpec("volume", "data", "/data", true)], request!.Mounts);
        Assert.Equal(["bind mount /var/run/docker.sock:/sock"], CreatePolicy.DangerousOptions(request));
    }
}
