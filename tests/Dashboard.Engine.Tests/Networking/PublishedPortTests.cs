using System.Net.Http;
using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;
using Docker.DotNet.Models;
using static Dashboard.Engine.Tests.Networking.NetworkTestSupport;

namespace Dashboard.Engine.Tests.Networking;

/// <summary>Published ports through the portmap plugin on the default bridge network, driven by the docker CLI (root, real runtime).</summary>
public sealed class PublishedPortTests
{
    private const string Serve = "mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 80 -h /www";

    [Fact]
    public async Task DockerRun_PublishedPort_ServesHostAndConflictsAreRefused()
    {
        Requires.Tool("docker");
        Requires.Tool("iptables-save");
        await using var engine = await RealEngine.StartAsync();
        var run = await engine.DockerAsync(null, "run", "-d", "--name", "web", "-p", "127.0.0.1:18080:80", "busybox", "sh", "-c", Serve);
        Assert.True(run.Code == 0, run.Stderr);
        var id = run.Stdout.Trim();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var body = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(30); body.Length == 0 && DateTime.UtcNow < deadline;)
        {
            try
            {
                body = await http.GetStringAsync("http://127.0.0.1:18080/index.html", Ct);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                await Task.Delay(100, Ct);
            }
        }

        Assert.Equal("hello-from-web\n", body);

        var ps = await engine.DockerAsync(null, "ps", "--format", "{{.Names}} {{.Ports}}");
        Assert.Contains("web 127.0.0.1:18080->80/tcp", ps.Stdout, StringComparison.Ordinal);
        var inspect = await engine.Client.Containers.InspectContainerAsync(id, Ct);
        var binding = Assert.Single(inspect.NetworkSettings!.Ports["80/tcp"]);
        Assert.Equal("127.0.0.1", binding.HostIP);
        Assert.Equal("18080", binding.HostPort);
        var endpoint = inspect.NetworkSettings.Networks["bridge"];
        Assert.False(string.IsNullOrEmpty(endpoint.IPAddress));
        Assert.True(endpoint.IPPrefixLen > 0);
        Assert.False(string.IsNullOrEmpty(endpoint.Gateway));
        Assert.Matches("^([0-9a-f]{2}:){5}[0-9a-f]{2}$", endpoint.MacAddress);
        var bridge = await engine.Client.Networks.InspectNetworkAsync("bridge", Ct);
        var veths = BridgePorts(bridge.ID);
        Assert.NotEmpty(veths);

        // Same port again: refused with Docker's wording, and the refused container leaves nothing behind.
        var clash = await engine.DockerAsync(null, "run", "-d", "--name", "web2", "-p", "127.0.0.1:18080:80", "busybox", "sh", "-c", Serve);
        Assert.NotEqual(0, clash.Code);
        Assert.Contains("port is already allocated", clash.Stderr, StringComparison.Ordinal);
        Assert.Single(NetnsFiles(engine));
        Assert.Equal(veths, BridgePorts(bridge.ID));

        // A port a host process holds: the userland proxy's error.
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 18081);
        holder.Start();
        var held = await engine.DockerAsync(null, "run", "-d", "--name", "web3", "-p", "127.0.0.1:18081:80", "busybox", "true");
        Assert.NotEqual(0, held.Code);
        Assert.Contains("address already in use", held.Stderr, StringComparison.Ordinal);
        holder.Stop();

        var web2 = (await engine.Client.Containers.InspectContainerAsync("web2", Ct)).ID;
        var web3 = (await engine.Client.Containers.InspectContainerAsync("web3", Ct)).ID;
        var rm = await engine.DockerAsync(null, "rm", "-f", "web", "web2", "web3");
        Assert.True(rm.Code == 0, rm.Stderr);
        await AssertNoLeftoversAsync(engine, [id, web2, web3], veths);
        Assert.True(LinkExists(Dashboard.Engine.Networking.NetworkManager.BridgeName(bridge.ID)), "the default bridge stays up");
        Assert.Empty(BridgePorts(bridge.ID));
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetStringAsync("http://127.0.0.1:18080/index.html", Ct));
    }

    [Fact]
    public async Task PublishAllPorts_ExposedPort_GetsHostPortReportedInListAndInspect()
    {
        await using var engine = await RealEngine.StartAsync();
        var c = await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = "bb",
            Name = "pall",
            Cmd = ["sh", "-c", Serve],
            ExposedPorts = new Dictionary<string, EmptyStruct> { ["80/tcp"] = default },
            HostConfig = new HostConfig
            {
                PublishAllPorts = true,
                PortBindings = new Dictionary<string, IList<PortBinding>> { ["8080/tcp"] = [new PortBinding { HostIP = "127.0.0.1", HostPort = "18082" }] },
            },
        }, Ct);
        await engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);

        var inspect = await engine.Client.Containers.InspectContainerAsync(c.ID, Ct);
        var random = Assert.Single(inspect.NetworkSettings!.Ports["80/tcp"]);
        Assert.Equal("0.0.0.0", random.HostIP);
        var port = int.Parse(random.HostPort, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(port, 1024, 65535);
        Assert.Equal("18082", Assert.Single(inspect.NetworkSettings.Ports["8080/tcp"]).HostPort);

        var listed = Assert.Single(await engine.Client.Containers.ListContainersAsync(new ContainersListParameters(), Ct));
        Assert.Contains(listed.Ports, p => p.PrivatePort == 80 && p.PublicPort == port && p.Type == "tcp" && p.IP == "0.0.0.0");
        Assert.Contains(listed.Ports, p => p.PrivatePort == 8080 && p.PublicPort == 18082 && p.IP == "127.0.0.1");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var body = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(30); body.Length == 0 && DateTime.UtcNow < deadline;)
        {
            try
            {
                body = await http.GetStringAsync($"http://127.0.0.1:{port}/index.html", Ct);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                await Task.Delay(100, Ct);
            }
        }

        Assert.Equal("hello-from-web\n", body);
        await engine.Client.Containers.StopContainerAsync(c.ID, new ContainerStopParameters { WaitBeforeKillSeconds = 1 }, Ct);
        var stopped = await engine.Client.Containers.InspectContainerAsync(c.ID, Ct);
        Assert.Null(stopped.NetworkSettings!.Ports["80/tcp"]);
        Assert.Empty(NetnsFiles(engine));
        Assert.DoesNotContain(c.ID, await IptablesSaveAsync(), StringComparison.Ordinal);
    }
}
