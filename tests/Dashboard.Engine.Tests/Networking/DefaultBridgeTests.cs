using Dashboard.Engine.Hosting;
using Dashboard.Engine.Images;
using Dashboard.Engine.Networking;
using Dashboard.Engine.Tests.Fakes;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using static Dashboard.Engine.Tests.Networking.NetworkTestSupport;

namespace Dashboard.Engine.Tests.Networking;

/// <summary>The default bridge is up from engine start and stays: containers coming and going and engine restarts change no host address.</summary>
public sealed class DefaultBridgeTests
{
    /// <summary>The bridge's interface index and its addresses (IPv4 and IPv6), as the host's address trackers see them.</summary>
    private static async Task<string> BridgeIdentityAsync(string bridge)
    {
        var ifindex = (await File.ReadAllTextAsync(Path.Combine("/sys/class/net", bridge, "ifindex"), Ct)).Trim();
        var psi = new System.Diagnostics.ProcessStartInfo("ip") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-o", "addr", "show", "dev", bridge })
        {
            psi.ArgumentList.Add(a);
        }

        var (code, stdout, stderr) = await RealEngine.RunAsync(psi, null);
        Assert.True(code == 0, stderr);
        var addresses = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]).Order(StringComparer.Ordinal);
        return ifindex + " " + string.Join(",", addresses);
    }

    private static EngineOptions Options(string root, string runtime, string parent) => new()
    {
        DataRoot = Path.Combine(root, "data"),
        StateRoot = Path.Combine(root, "state"),
        Socket = Path.Combine(root, "engine.sock"),
        SocketGroup = "dashboard-test-no-such-group",
        RuntimePath = runtime,
        CgroupParent = parent,
    };

    private static DockerClient Client(EngineOptions options) =>
        new DockerClientBuilder().WithEndpoint(new Uri("unix://" + options.Socket)).WithApiVersion(new System.Version(1, 43)).Build();

    [Fact]
    public async Task EngineStart_BridgeUpWithGateway_ContainersAndRestartsChangeNoAddress()
    {
        var runtime = RealEngine.RuntimeBinary();
        var root = TestEngine.NewRoot();
        var parent = "/dashboard-test/engine-" + Guid.NewGuid().ToString("N")[..8];
        var options = Options(root, runtime, parent);
        WebApplication? app = null;
        try
        {
            app = EngineHost.Build(options, null, _ => { });
            await EngineHost.StartAsync(app, Ct);
            await app.Services.GetRequiredService<ImageService>().LoadAsync(new MemoryStream(TestImages.RealBusybox("bb:latest")), Ct);
            using var client = Client(options);
            var network = await client.Networks.InspectNetworkAsync("bridge", Ct);
            var bridge = NetworkManager.BridgeName(network.ID);
            var gateway = Assert.Single(network.IPAM.Config).Gateway;

            // Up before any container, with its gateway address and no IPv6 link-local address to come later.
            Assert.True(LinkExists(bridge), "no default bridge after engine start");
            var identity = await BridgeIdentityAsync(bridge);
            Assert.Contains(gateway + "/", identity, StringComparison.Ordinal);
            Assert.DoesNotContain("fe80", identity, StringComparison.Ordinal);

            var c = await client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "bb", Cmd = ["sleep", "300"] }, Ct);
            await client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
            var veths = BridgePorts(network.ID);
            Assert.Single(veths);
            Assert.Equal(identity, await BridgeIdentityAsync(bridge));
            await client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true }, Ct);
            Assert.Equal(identity, await BridgeIdentityAsync(bridge));
            Assert.Empty(BridgePorts(network.ID));
            foreach (var veth in veths)
            {
                Assert.False(LinkExists(veth), $"veth {veth} left behind");
            }

            Assert.DoesNotContain(c.ID, await IptablesSaveAsync(), StringComparison.Ordinal);
            var leases = Directory.GetFiles(Path.Combine(options.StateRoot, "cni", "networks", NetworkManager.CniName(network.ID))).Select(Path.GetFileName).ToList();
            Assert.All(leases, f => Assert.True(f!.StartsWith("last_reserved_ip", StringComparison.Ordinal) || f == "lock", $"IPAM lease {f} left behind"));

            // The engine stops and starts again on the same directories: the same device, untouched.
            await app.StopAsync(Ct);
            await app.DisposeAsync();
            app = null;
            Assert.Equal(identity, await BridgeIdentityAsync(bridge));
            app = EngineHost.Build(options, null, _ => { });
            await EngineHost.StartAsync(app, Ct);
            Assert.Equal(identity, await BridgeIdentityAsync(bridge));
            await app.StopAsync(Ct);
            await app.DisposeAsync();
            app = null;

            // The explicit cleanup removes it.
            Assert.Equal([bridge], await NetworkManager.RemoveHostBridgesAsync(options.StateRoot, Ct));
            Assert.False(LinkExists(bridge));
        }
        finally
        {
            if (app is not null)
            {
                await app.StopAsync(CancellationToken.None);
                await app.DisposeAsync();
            }

            TestEngine.RemoveAll(root);
            RealEngine.RemoveCgroups(parent);
        }
    }
}
