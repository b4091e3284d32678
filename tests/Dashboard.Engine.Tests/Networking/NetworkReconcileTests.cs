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

/// <summary>A container with a published port exits while the engine is down: the restarted engine releases its network (security.md E1).</summary>
public sealed class NetworkReconcileTests
{
    [Fact]
    public async Task EngineRestart_ContainerExitedMeanwhile_NetworkIsReleased()
    {
        var runtime = RealEngine.RuntimeBinary();
        var root = TestEngine.NewRoot();
        var parent = "/dashboard-test/engine-" + Guid.NewGuid().ToString("N")[..8];
        var options = new EngineOptions
        {
            DataRoot = Path.Combine(root, "data"),
            StateRoot = Path.Combine(root, "state"),
            Socket = Path.Combine(root, "engine.sock"),
            SocketGroup = "dashboard-test-no-such-group",
            RuntimePath = runtime,
            CgroupParent = parent,
        };
        WebApplication? app = null;
        try
        {
            app = EngineHost.Build(options, null, _ => { });
            await EngineHost.StartAsync(app, Ct);
            await app.Services.GetRequiredService<ImageService>().LoadAsync(new MemoryStream(TestImages.RealBusybox("bb:latest")), Ct);
            string id;
            int pid;
            using (var client = Client(options))
            {
                var c = await client.Containers.CreateContainerAsync(new CreateContainerParameters
                {
                    Image = "bb",
                    Cmd = ["sleep", "300"],
                    HostConfig = new HostConfig { PortBindings = new Dictionary<string, IList<PortBinding>> { ["80/tcp"] = [new PortBinding { HostIP = "127.0.0.1", HostPort = "18083" }] } },
                }, Ct);
                id = c.ID;
                await client.Containers.StartContainerAsync(id, new ContainerStartParameters(), Ct);
                pid = (int)(await client.Containers.InspectContainerAsync(id, Ct)).State!.Pid;
            }

            Assert.Contains(id, await IptablesSaveAsync(), StringComparison.Ordinal);
            await app.StopAsync(Ct);
            await app.DisposeAsync();
            app = null;

            // The engine is gone; the container keeps running under its shim until killed here.
            System.Diagnostics.Process.GetProcessById(pid).Kill();
            app = EngineHost.Build(options, null, _ => { });
            await EngineHost.StartAsync(app, Ct);
            using (var client = Client(options))
            {
                for (var deadline = DateTime.UtcNow.AddSeconds(30); (await client.Containers.InspectContainerAsync(id, Ct)).State!.Running && DateTime.UtcNow < deadline;)
                {
                    await Task.Delay(100, Ct);
                }

                Assert.False((await client.Containers.InspectContainerAsync(id, Ct)).State!.Running);
                Assert.Empty(Directory.GetFiles(Path.Combine(options.StateRoot, "netns")));
                Assert.DoesNotContain(id, await IptablesSaveAsync(), StringComparison.Ordinal);
                var bridge = await client.Networks.InspectNetworkAsync("bridge", Ct);
                Assert.Empty(bridge.Containers);
                Assert.True(LinkExists(NetworkManager.BridgeName(bridge.ID)), "the default bridge stays up");
                Assert.Empty(BridgePorts(bridge.ID));
                await client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }, Ct);
            }
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

    private static DockerClient Client(EngineOptions options) =>
        new DockerClientBuilder().WithEndpoint(new Uri("unix://" + options.Socket)).WithApiVersion(new System.Version(1, 43)).Build();
}
