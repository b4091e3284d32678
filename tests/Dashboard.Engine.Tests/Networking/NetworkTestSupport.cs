using System.Diagnostics;
using Dashboard.Engine.Networking;
using Dashboard.Engine.Tests.Fakes;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Networking;

/// <summary>Leak checks and small helpers for the networking tests (real engine, root).</summary>
internal static class NetworkTestSupport
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static string[] NetnsFiles(RealEngine engine)
    {
        var dir = Path.Combine(engine.Engine.Options.StateRoot, "netns");
        return Directory.Exists(dir) ? Directory.GetFiles(dir) : [];
    }

    /// <summary>Host-side veth names enslaved to the bridge of a network.</summary>
    public static string[] BridgePorts(string networkId)
    {
        var dir = Path.Combine("/sys/class/net", NetworkManager.BridgeName(networkId), "brif");
        return Directory.Exists(dir) ? Directory.GetDirectories(dir).Select(Path.GetFileName).OfType<string>().ToArray() : [];
    }

    public static bool LinkExists(string name) => Directory.Exists(Path.Combine("/sys/class/net", name));

    public static async Task<string> IptablesSaveAsync()
    {
        var psi = new ProcessStartInfo("iptables-save") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var (code, stdout, stderr) = await RealEngine.RunAsync(psi, null);
        Assert.True(code == 0, stderr);
        return stdout;
    }

    /// <summary>Nothing of the container is left on the host: no namespace file, none of its veths, no iptables rule naming it.</summary>
    public static async Task AssertNoLeftoversAsync(RealEngine engine, IEnumerable<string> containerIds, IEnumerable<string> veths)
    {
        Assert.Empty(NetnsFiles(engine));
        foreach (var veth in veths)
        {
            Assert.False(LinkExists(veth), $"veth {veth} left behind");
        }

        var rules = await IptablesSaveAsync();
        foreach (var id in containerIds)
        {
            Assert.DoesNotContain(id, rules, StringComparison.Ordinal);
        }
    }

    /// <summary>Runs a bb container to its end and returns exit code and stdout.</summary>
    public static async Task<(long Code, string Stdout)> RunToEndAsync(RealEngine engine, string name, IList<string> cmd, HostConfig? host = null, NetworkingConfig? networking = null)
    {
        var c = await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "bb", Name = name, Cmd = cmd, HostConfig = host, NetworkingConfig = networking }, Ct);
        await engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var wait = await engine.Client.Containers.WaitContainerAsync(c.ID, timeout.Token);
        using var logs = await engine.Client.Containers.GetContainerLogsAsync(c.ID, new ContainerLogsParameters { ShowStdout = true, ShowStderr = true }, Ct);
        var (stdout, stderr) = await logs.ReadOutputToEndAsync(Ct);
        return (wait.StatusCode, stdout + stderr);
    }

    /// <summary>Interface names listed in a <c>/proc/net/dev</c> text.</summary>
    public static string[] Interfaces(string procNetDev) =>
        procNetDev.Split('\n').Where(l => l.Contains(':', StringComparison.Ordinal)).Select(l => l.Split(':')[0].Trim()).Where(n => n.Length > 0).ToArray();
}
