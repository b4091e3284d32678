using Dashboard.Engine.Api;
using Dashboard.Engine.Networking;

namespace Dashboard.Engine.Tests.Networking;

/// <summary>Pure parts of networking: prefixes, resolv.conf and hosts files, port bindings.</summary>
public sealed class NetworkUnitTests
{
    [Fact]
    public void Ipv4Network_Parse_OverlapAndContains()
    {
        var a = Ipv4Network.Parse("10.89.1.0/24");
        Assert.Equal("10.89.1.0/24", a.ToString());
        Assert.True(a.Overlaps(Ipv4Network.Parse("10.89.0.0/16")));
        Assert.False(a.Overlaps(Ipv4Network.Parse("10.89.2.0/24")));
        Assert.True(Ipv4Network.TryParseAddress("10.89.1.77", out var ip) && a.Contains(ip));
        Assert.False(Ipv4Network.TryParse("10.89.1.0/33", out _));
        Assert.False(Ipv4Network.TryParse("fe80::/64", out _));
        Assert.Throws<EngineException>(() => Ipv4Network.Parse("nonsense"));
    }

    [Fact]
    public void HostRoutes_ProcNetRoute_AreDecoded()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
                + "eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
                + "eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
            var route = Assert.Single(Ipv4Network.HostRoutes(file));
            Assert.Equal(("eth0", "192.168.1.0/24"), (route.Interface, route.Network.ToString()));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void ResolvFile_LoopbackNameservers_AreFilteredWithGoogleFallback()
    {
        var host = "# comment\nnameserver 127.0.0.53\nsearch corp.example\noptions edns0\n";
        var text = EtcFiles.ResolvFile(host, hostNetwork: false, null, null, null);
        Assert.Equal("nameserver 8.8.8.8\nnameserver 8.8.4.4\nsearch corp.example\noptions edns0\n", text);
        Assert.Contains("nameserver 127.0.0.53", EtcFiles.ResolvFile(host, hostNetwork: true, null, null, null), StringComparison.Ordinal);
        var custom = EtcFiles.ResolvFile("nameserver 10.0.0.1\n", false, ["1.1.1.1"], ["a.example"], ["ndots:2"]);
        Assert.Equal("nameserver 1.1.1.1\nsearch a.example\noptions ndots:2\n", custom);
        Assert.Throws<EngineException>(() => EtcFiles.ResolvFile("", false, ["1.1.1.1\nnameserver 6.6.6.6"], null, null));
    }

    [Fact]
    public void HostsFile_OwnNamePeersAndExtraHosts_OneLineEach()
    {
        var text = EtcFiles.HostsFile("10.89.3.2", ["abc123"], [("10.89.3.3", ["db", "0123456789ab", "db"])], ["gw:host-gateway", "x.example:10.1.1.1"], "10.89.3.1");
        Assert.StartsWith("127.0.0.1\tlocalhost\n", text, StringComparison.Ordinal);
        Assert.Contains("10.89.3.1\tgw\n", text, StringComparison.Ordinal);
        Assert.Contains("10.1.1.1\tx.example\n", text, StringComparison.Ordinal);
        Assert.Contains("10.89.3.2\tabc123\n", text, StringComparison.Ordinal);
        Assert.EndsWith("10.89.3.3\tdb 0123456789ab\n", text, StringComparison.Ordinal);
        Assert.Throws<EngineException>(() => EtcFiles.HostsFile(null, [], [], ["bad name:1.2.3.4"], null));
    }

    [Fact]
    public void PortMappings_Parse_BindingsPublishAllAndBadInput()
    {
        var host = new HostConfig
        {
            PortBindings = new Dictionary<string, List<PortBinding>?>
            {
                ["80/tcp"] = [new PortBinding { HostIp = "127.0.0.1", HostPort = "18080" }],
                ["53/udp"] = [new PortBinding { HostPort = "18053" }],
            },
            PublishAllPorts = true,
        };
        var exposed = new Dictionary<string, System.Text.Json.JsonElement> { ["9000"] = default, ["80/tcp"] = default };
        var ports = PortMappings.Parse(host, exposed);
        Assert.Equal(
            [new PortMapping("127.0.0.1", 18080, 80, "tcp"), new PortMapping("0.0.0.0", 18053, 53, "udp"), new PortMapping("0.0.0.0", 0, 9000, "tcp")],
            ports);

        Assert.Throws<EngineException>(() => PortMappings.Parse(new HostConfig { PortBindings = new() { ["80/tcp"] = [new PortBinding { HostPort = "99999" }] } }, null));
        Assert.Throws<EngineException>(() => PortMappings.Parse(new HostConfig { PortBindings = new() { ["http"] = [] } }, null));
        Assert.Throws<EngineException>(() => PortMappings.Parse(new HostConfig { PortBindings = new() { ["80/tcp"] = [new PortBinding { HostIp = "not-an-ip", HostPort = "1" }] } }, null));
        Assert.Throws<EngineException>(() => PortMappings.Parse(new HostConfig
        {
            PortBindings = new() { ["80/tcp"] = [new PortBinding { HostPort = "18090" }], ["81/tcp"] = [new PortBinding { HostPort = "18090" }] },
        }, null));
        Assert.True(PortMappings.Conflicts(new("0.0.0.0", 18080, 80, "tcp"), new("127.0.0.1", 18080, 81, "tcp")));
        Assert.False(PortMappings.Conflicts(new("0.0.0.0", 18080, 80, "tcp"), new("127.0.0.1", 18080, 80, "udp")));
    }
}
