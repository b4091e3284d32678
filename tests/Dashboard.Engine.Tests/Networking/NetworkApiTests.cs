using Dashboard.Engine.Networking;
using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;
using Docker.DotNet;
using Docker.DotNet.Models;
using static Dashboard.Engine.Tests.Networking.NetworkTestSupport;

namespace Dashboard.Engine.Tests.Networking;

/// <summary>User-defined bridge networks through the docker CLI and Docker.DotNet (root, real runtime); subnets in 10.89.0.0/16.</summary>
public sealed class NetworkApiTests
{
    /// <summary>A shell function <c>get HOST</c> printing the body of <c>GET /ping</c>; busybox-static's wget crashes on glibc's static NSS, its nc does not.</summary>
    private const string GetFunction = "get() { printf 'GET /ping HTTP/1.0\\r\\n\\r\\n' | nc -w 2 \"$1\" 80 | tail -n 1; }; ";

    [Fact]
    public async Task DockerCli_NetworkCreateLsInspectRm_RoundTrip()
    {
        Requires.Tool("docker");
        await using var engine = await RealEngine.StartAsync();
        var create = await engine.DockerAsync(null, "network", "create", "--subnet", "10.89.1.0/24", "--gateway", "10.89.1.254", "--label", "team=net", "clinet");
        Assert.True(create.Code == 0, create.Stderr);
        var id = create.Stdout.Trim();
        Assert.Matches("^[0-9a-f]{64}$", id);

        var ls = await engine.DockerAsync(null, "network", "ls", "--format", "{{.Name}} {{.Driver}}");
        Assert.True(ls.Code == 0, ls.Stderr);
        Assert.Contains("clinet bridge", ls.Stdout, StringComparison.Ordinal);
        Assert.Contains("bridge bridge", ls.Stdout, StringComparison.Ordinal);
        Assert.Contains("host host", ls.Stdout, StringComparison.Ordinal);
        Assert.Contains("none null", ls.Stdout, StringComparison.Ordinal);
        var filtered = await engine.DockerAsync(null, "network", "ls", "-q", "--no-trunc", "--filter", "label=team=net");
        Assert.Equal(id, filtered.Stdout.Trim());

        var inspect = await engine.DockerAsync(null, "network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}", "clinet");
        Assert.True(inspect.Code == 0, inspect.Stderr);
        Assert.Equal("10.89.1.0/24 10.89.1.254", inspect.Stdout.Trim());

        var duplicate = await engine.DockerAsync(null, "network", "create", "clinet");
        Assert.NotEqual(0, duplicate.Code);
        Assert.Contains("already exists", duplicate.Stderr, StringComparison.Ordinal);
        var overlap = await engine.DockerAsync(null, "network", "create", "--subnet", "10.89.1.128/25", "other");
        Assert.NotEqual(0, overlap.Code);
        Assert.Contains("Pool overlaps", overlap.Stderr, StringComparison.Ordinal);
        var builtin = await engine.DockerAsync(null, "network", "rm", "bridge");
        Assert.NotEqual(0, builtin.Code);
        Assert.Contains("pre-defined network", builtin.Stderr, StringComparison.Ordinal);

        var rm = await engine.DockerAsync(null, "network", "rm", "clinet");
        Assert.True(rm.Code == 0, rm.Stderr);
        var gone = await engine.DockerAsync(null, "network", "inspect", "clinet");
        Assert.NotEqual(0, gone.Code);
        Assert.Contains("not found", gone.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UserNetwork_TwoContainers_ReachEachOtherByName()
    {
        await using var engine = await RealEngine.StartAsync();
        var client = engine.Client;
        using var events = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var seen = new List<Message>();
        var monitor = await engine.Engine.MonitorEventsAsync(new ContainerEventsParameters(), m => { lock (seen) { seen.Add(m); } }, events.Token);

        var net = await client.Networks.CreateNetworkAsync(new NetworksCreateParameters
        {
            Name = "apinet",
            IPAM = new IPAM { Config = [new IPAMConfig { Subnet = "10.89.2.0/24" }] },
        }, Ct);
        var server = await client.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = "bb",
            Name = "srv",
            Cmd = ["sh", "-c", "mkdir -p /www && echo pong > /www/ping && exec httpd -f -p 80 -h /www"],
            HostConfig = new HostConfig { NetworkMode = "apinet" },
            NetworkingConfig = new NetworkingConfig { EndpointsConfig = new Dictionary<string, Docker.DotNet.Models.EndpointSettings> { ["apinet"] = new() { Aliases = ["web-alias"] } } },
        }, Ct);
        await client.Containers.StartContainerAsync(server.ID, new ContainerStartParameters(), Ct);
        var ip = (await client.Containers.InspectContainerAsync(server.ID, Ct)).NetworkSettings!.Networks["apinet"].IPAddress;
        Assert.StartsWith("10.89.2.", ip, StringComparison.Ordinal);

        var (code, stdout) = await RunToEndAsync(engine, "cli",
            ["sh", "-c", GetFunction + "for i in $(seq 1 100); do a=$(get srv); b=$(get web-alias); if [ \"$a$b\" = pongpong ] && ping -c 1 -W 2 srv >/dev/null; then echo $a; echo $b; exit 0; fi; sleep 0.1; done; cat /etc/hosts; exit 1"],
            new HostConfig { NetworkMode = "apinet" });
        Assert.True(code == 0, stdout);
        Assert.Equal("pong\npong\n", stdout);

        // The client container has exited, so it is no member any more; the server is.
        var inspect = await client.Networks.InspectNetworkAsync("apinet", Ct);
        Assert.Equal("10.89.2.0/24", Assert.Single(inspect.IPAM.Config).Subnet);
        var member = Assert.Single(inspect.Containers);
        Assert.Equal(server.ID, member.Key);
        Assert.Equal(ip + "/24", member.Value.IPv4Address);

        var inUse = await Assert.ThrowsAsync<DockerApiException>(() => client.Networks.DeleteNetworkAsync("apinet", Ct));
        Assert.Contains("active endpoints", inUse.Message, StringComparison.Ordinal);

        // Connect a running default-network container, then disconnect it again.
        var extra = await engine.RunAsync("extra", ["sleep", "60"], ct: Ct);
        await client.Networks.ConnectNetworkAsync(net.ID, new NetworkConnectParameters { Container = extra }, Ct);
        var connected = await client.Containers.InspectContainerAsync(extra, Ct);
        Assert.StartsWith("10.89.2.", connected.NetworkSettings!.Networks["apinet"].IPAddress, StringComparison.Ordinal);
        Assert.Equal(2, (await client.Networks.InspectNetworkAsync(net.ID, Ct)).Containers.Count);
        await client.Networks.DisconnectNetworkAsync(net.ID, new NetworkDisconnectParameters { Container = extra }, Ct);
        Assert.False((await client.Containers.InspectContainerAsync(extra, Ct)).NetworkSettings!.Networks.ContainsKey("apinet"));

        var veths = BridgePorts(net.ID);
        Assert.Single(veths);
        var ids = (await client.Containers.ListContainersAsync(new ContainersListParameters { All = true }, Ct)).Select(c => c.ID).ToList();
        foreach (var c in ids)
        {
            await client.Containers.RemoveContainerAsync(c, new ContainerRemoveParameters { Force = true }, Ct);
        }

        var pruned = await client.Networks.PruneNetworksAsync(new NetworksDeleteUnusedParameters(), Ct);
        Assert.Equal(["apinet"], pruned.NetworksDeleted);
        Assert.False(LinkExists(NetworkManager.BridgeName(net.ID)));
        await AssertNoLeftoversAsync(engine, ids, veths);
        Assert.Equal(["bridge", "host", "none"], (await client.Networks.ListNetworksAsync(new NetworksListParameters(), Ct)).Select(n => n.Name).Order(StringComparer.Ordinal));

        await Lifecycle.Poll.UntilAsync(
            () =>
            {
                lock (seen)
                {
                    return Task.FromResult(seen.Any(m => m.Type == "network" && m.Actor.ID == net.ID && m.Action == "destroy"));
                }
            },
            TimeSpan.FromSeconds(30),
            "the network's destroy event");
        await events.CancelAsync();
        try
        {
            await monitor;
        }
        catch (OperationCanceledException)
        {
        }

        lock (seen)
        {
            var actions = seen.Where(m => m.Type == "network" && m.Actor.ID == net.ID).Select(m => m.Action).ToList();
            Assert.Equal("create", actions[0]);
            Assert.Contains("connect", actions);
            Assert.Contains("disconnect", actions);
            Assert.Equal("destroy", actions[^1]);
        }
    }
}
