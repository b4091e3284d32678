using Dashboard.Engine.Hosting;

namespace Dashboard.Engine.Tests.Hosting;

public sealed class PeerPolicyTests : IDisposable
{
    private readonly string _proc = Path.Combine(Path.GetTempPath(), "dep-" + Guid.NewGuid().ToString("N")[..10]);

    public PeerPolicyTests()
    {
        Directory.CreateDirectory(Path.Combine(_proc, "4242"));
        File.WriteAllText(Path.Combine(_proc, "4242", "status"), "Name:\tcli\nUid:\t1000\t1000\t1000\t1000\nGroups:\t24 27 990 \n");
    }

    public void Dispose() => Directory.Delete(_proc, recursive: true);

    [Fact]
    public void IsAllowed_RootEngineUserAndGroupMembers()
    {
        var policy = new PeerPolicy(engineUid: 0, groupId: 990, procRoot: _proc);
        Assert.True(policy.IsAllowed(new PeerCredentials(1, 0, 0)));
        Assert.True(policy.IsAllowed(new PeerCredentials(99, 1001, 990)));
        Assert.True(policy.IsAllowed(new PeerCredentials(4242, 1000, 1000)));
        Assert.False(policy.IsAllowed(new PeerCredentials(77, 1000, 1000)));
    }

    [Fact]
    public void IsAllowed_NoGroup_OnlyRootAndEngineUser()
    {
        var policy = new PeerPolicy(engineUid: 1500, groupId: null, procRoot: _proc);
        Assert.True(policy.IsAllowed(new PeerCredentials(5, 1500, 1500)));
        Assert.False(policy.IsAllowed(new PeerCredentials(4242, 1000, 1000)));
    }

    [Fact]
    public void LookupGroup_ReadsGroupFile()
    {
        var file = Path.Combine(_proc, "group");
        File.WriteAllText(file, "root:x:0:\ndashboard:x:990:alice,bob\n");
        Assert.Equal(990u, PeerPolicy.LookupGroup("dashboard", file));
        Assert.Null(PeerPolicy.LookupGroup("dash", file));
    }

    [Fact]
    public async Task FromSocket_ConnectedUnixPair_ReportsThisProcess()
    {
        var path = Path.Combine(_proc, "s.sock");
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        listener.Listen();
        using var client = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        await client.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(path), TestContext.Current.CancellationToken);
        using var server = await listener.AcceptAsync(TestContext.Current.CancellationToken);
        var peer = PeerCredentials.FromSocket(server);
        Assert.Equal(Environment.ProcessId, peer.Pid);
        Assert.Equal((uint)Tmds.Linux.LibC.geteuid(), peer.Uid);
    }
}
