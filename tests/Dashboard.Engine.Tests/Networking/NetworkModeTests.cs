using Dashboard.Engine.Tests.Fakes;
using Docker.DotNet.Models;
using static Dashboard.Engine.Tests.Networking.NetworkTestSupport;

namespace Dashboard.Engine.Tests.Networking;

/// <summary>Network modes none, host and container:&lt;id&gt; (root, real runtime).</summary>
public sealed class NetworkModeTests
{
    [Fact]
    public async Task NoneMode_Container_HasOnlyLoopback()
    {
        await using var engine = await RealEngine.StartAsync();
        var (code, stdout) = await RunToEndAsync(engine, "isolated", ["sh", "-c", "cat /proc/net/dev; cat /sys/class/net/lo/operstate"], new HostConfig { NetworkMode = "none" });
        Assert.True(code == 0, stdout);
        Assert.Equal(["lo"], Interfaces(stdout));
        Assert.Contains("unknown", stdout, StringComparison.Ordinal);
        var inspect = await engine.Client.Containers.InspectContainerAsync("isolated", Ct);
        Assert.Equal(["none"], inspect.NetworkSettings!.Networks.Keys);
        Assert.Empty(NetnsFiles(engine));
    }

    [Fact]
    public async Task HostMode_Container_SeesHostInterfaces()
    {
        await using var engine = await RealEngine.StartAsync();
        var (code, stdout) = await RunToEndAsync(engine, "hostnet", ["cat", "/proc/net/dev"], new HostConfig { NetworkMode = "host" });
        Assert.True(code == 0, stdout);
        var host = Interfaces(File.ReadAllText("/proc/net/dev")).Where(n => n != "lo" && !n.StartsWith("veth", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(host);
        Assert.Contains(host[0], Interfaces(stdout));
        Assert.Empty(NetnsFiles(engine));
    }

    [Fact]
    public async Task ContainerMode_SecondContainer_SharesTheFirstsNamespace()
    {
        await using var engine = await RealEngine.StartAsync();
        var first = await engine.RunAsync("first", ["sleep", "60"], ct: Ct);
        var c = await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = "bb",
            Name = "second",
            Cmd = ["sleep", "60"],
            HostConfig = new HostConfig { NetworkMode = "container:first" },
        }, Ct);
        await engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
        var pid1 = (await engine.Client.Containers.InspectContainerAsync(first, Ct)).State!.Pid;
        var pid2 = (await engine.Client.Containers.InspectContainerAsync(c.ID, Ct)).State!.Pid;
        var ns1 = new FileInfo($"/proc/{pid1}/ns/net").LinkTarget;
        var ns2 = new FileInfo($"/proc/{pid2}/ns/net").LinkTarget;
        Assert.NotNull(ns1);
        Assert.Equal(ns1, ns2);
        Assert.NotEqual(new FileInfo("/proc/self/ns/net").LinkTarget, ns1);
        Assert.Single(NetnsFiles(engine));

        // Joining a stopped container is refused.
        await engine.Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true }, Ct);
        await engine.Client.Containers.StopContainerAsync(first, new ContainerStopParameters { WaitBeforeKillSeconds = 0 }, Ct);
        var third = await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = "bb",
            Cmd = ["true"],
            HostConfig = new HostConfig { NetworkMode = "container:" + first },
        }, Ct);
        var error = await Assert.ThrowsAsync<Docker.DotNet.DockerApiException>(() => engine.Client.Containers.StartContainerAsync(third.ID, new ContainerStartParameters(), Ct));
        Assert.Contains("non running container", error.Message, StringComparison.Ordinal);
        Assert.Empty(NetnsFiles(engine));
    }

    [Fact]
    public async Task ContainerMode_JoiningANoneContainer_SharesTheNamespaceTheRuntimeMade()
    {
        await using var engine = await RealEngine.StartAsync();
        var lonely = await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = "bb",
            Name = "lonely",
            Cmd = ["sleep", "60"],
            HostConfig = new HostConfig { NetworkMode = "none" },
        }, Ct);
        await engine.Client.Containers.StartContainerAsync(lonely.ID, new ContainerStartParameters(), Ct);
        var pid1 = (await engine.Client.Containers.InspectContainerAsync(lonely.ID, Ct)).State!.Pid;
        var ns1 = new FileInfo($"/proc/{pid1}/ns/net").LinkTarget;
        Assert.NotNull(ns1);
        Assert.NotEqual(new FileInfo("/proc/self/ns/net").LinkTarget, ns1);

        // No namespace file and no CNI call: the runtime made the namespace with the container.
        Assert.Empty(NetnsFiles(engine));

        var joiner = await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = "bb",
            Name = "joiner",
            Cmd = ["sleep", "60"],
            HostConfig = new HostConfig { NetworkMode = "container:lonely" },
        }, Ct);
        await engine.Client.Containers.StartContainerAsync(joiner.ID, new ContainerStartParameters(), Ct);
        var pid2 = (await engine.Client.Containers.InspectContainerAsync(joiner.ID, Ct)).State!.Pid;
        Assert.Equal(ns1, new FileInfo($"/proc/{pid2}/ns/net").LinkTarget);
        Assert.Single(NetnsFiles(engine));

        // The pin goes with the container whose namespace it holds.
        await engine.Client.Containers.RemoveContainerAsync(joiner.ID, new ContainerRemoveParameters { Force = true }, Ct);
        await engine.Client.Containers.StopContainerAsync(lonely.ID, new ContainerStopParameters { WaitBeforeKillSeconds = 0 }, Ct);
        Assert.Empty(NetnsFiles(engine));
    }
}
