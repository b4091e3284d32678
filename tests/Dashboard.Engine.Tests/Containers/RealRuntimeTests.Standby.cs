using System.Globalization;
using Dashboard.Engine.Runtime;
using Dashboard.Engine.Tests.Fakes;
using Dashboard.Engine.Tests.Lifecycle;
using Dashboard.Testing;
using Docker.DotNet.Models;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Engine.Tests.Containers;

/// <summary>The standby shim: spawned on create, handed the start's flags, and gone with the engine.</summary>
public sealed partial class RealRuntimeTests
{
    [Fact]
    public async Task LaterStarts_ServedByTheStandbyShim_NoneOutlivesTheEngine()
    {
        Requires.Root();
        var bin = Environment.GetEnvironmentVariable("DASHBOARD_BIN");
        var runtime = string.IsNullOrEmpty(bin) ? "" : Path.Combine(bin, "dashboard-runtime");
        if (!File.Exists(runtime) || !File.Exists(Path.Combine(bin!, "dashboard-shim")))
        {
            Requires.Unmet("needs DASHBOARD_BIN with a published dashboard-runtime and dashboard-shim (tests/run-all.sh sets it)");
        }

        var parent = "/dashboard-test/engine-" + Guid.NewGuid().ToString("N")[..8];
        int standbyPid;
        await using (var engine = await TestEngine.StartWithRuntimeBinaryAsync(runtime, parent))
        {
            try
            {
                var oci = Assert.IsType<RuntimeCliOciRuntime>(engine.App.Services.GetRequiredService<IOciRuntime>());
                Assert.Null(oci.StandbyPid);
                for (var i = 0; i < 3; i++)
                {
                    var c = await engine.Client.Containers.CreateContainerAsync(
                        new CreateContainerParameters { Image = "busybox", Cmd = ["sh", "-c", $"echo run {i}; exit {i}"] }, Ct);

                    // Spawned in the background by the create.
                    await Poll.UntilAsync(() => Task.FromResult(oci.StandbyPid is not null), TimeSpan.FromSeconds(30), "a standby shim");
                    await engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
                    var exit = await engine.Client.Containers.WaitContainerAsync(c.ID, Ct);
                    Assert.Equal(i, exit.StatusCode);
                    using (var logs = await engine.Client.Containers.GetContainerLogsAsync(c.ID, new ContainerLogsParameters { ShowStdout = true }, Ct))
                    {
                        Assert.Equal($"run {i}\n", (await logs.ReadOutputToEndAsync(Ct)).stdout);
                    }

                    await engine.Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters(), Ct);
                }

                Assert.Equal(3, oci.StandbyStarts);
                Assert.Null(oci.StandbyPid);

                // A created container that is never started leaves its standby waiting.
                await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Cmd = ["true"] }, Ct);
                await Poll.UntilAsync(() => Task.FromResult(oci.StandbyPid is not null), TimeSpan.FromSeconds(30), "a standby shim after a create");
                standbyPid = oci.StandbyPid!.Value;
                Assert.Contains("\0shim\0--standby", File.ReadAllText($"/proc/{standbyPid.ToString(CultureInfo.InvariantCulture)}/cmdline"), StringComparison.Ordinal);
            }
            finally
            {
                RealEngine.RemoveCgroups(parent);
            }
        }

        // Disposing the engine closes the standby's stdin: it exits and is reaped.
        Assert.False(Directory.Exists($"/proc/{standbyPid.ToString(CultureInfo.InvariantCulture)}"), "the standby shim outlived the engine");
    }
}
