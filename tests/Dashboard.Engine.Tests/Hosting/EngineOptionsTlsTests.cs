using Dashboard.Engine.Hosting;

namespace Dashboard.Engine.Tests.Hosting;

public sealed class EngineOptionsTlsTests
{
    private static string? NoFile(string path) => null;

    [Fact]
    public void Parse_TlsFlags_Set()
    {
        var o = EngineOptions.Parse(["--tls-listen", "127.0.0.1:2376", "--tls-cert", "/etc/d/cert.pem", "--tls-key=/etc/d/key.pem", "--tls-ca", "/etc/d/ca.pem"], NoFile);
        Assert.Equal("127.0.0.1:2376", o.TlsListen);
        Assert.Equal("/etc/d/cert.pem", o.TlsCert);
        Assert.Equal("/etc/d/key.pem", o.TlsKey);
        Assert.Equal("/etc/d/ca.pem", o.TlsCa);
    }

    [Fact]
    public void Parse_DockerAliases_Set()
    {
        var o = EngineOptions.Parse(["--tlsverify", "--tlscacert", "/c/ca.pem", "--tlscert", "/c/cert.pem", "--tlskey", "/c/key.pem", "-H", "tcp://0.0.0.0:2376", "-H", "unix:///tmp/x.sock"], NoFile);
        Assert.Equal("0.0.0.0:2376", o.TlsListen);
        Assert.Equal("/c/ca.pem", o.TlsCa);
        Assert.Equal("/c/cert.pem", o.TlsCert);
        Assert.Equal("/c/key.pem", o.TlsKey);
        Assert.Equal("/tmp/x.sock", o.Socket);
    }

    [Fact]
    public void Parse_ConfigKeys_Set()
    {
        var o = EngineOptions.Parse(["--config", "/e.json"], _ => """{"tls-listen":"[::1]:2376","tls-cert":"/a","tls-key":"/b","tls-ca":"/c"}""");
        Assert.Equal("[::1]:2376", o.TlsListen);
        Assert.True(EngineOptions.TryParseEndPoint(o.TlsListen!, out var ep));
        Assert.Equal(2376, ep.Port);
    }

    [Theory]
    [InlineData("--tls-listen", "127.0.0.1:2376")]
    [InlineData("--tls-cert", "/a.pem")]
    [InlineData("--tls-listen", "example.com:2376")]
    [InlineData("--tls-listen", "2376")]
    [InlineData("-H", "http://127.0.0.1:2375")]
    [InlineData("--tlsverify=false", "--tls-listen=127.0.0.1:1")]
    public void Parse_IncompleteOrPlaintext_InvalidArgument(string flag, string value)
    {
        var e = Assert.Throws<EngineException>(() => EngineOptions.Parse([flag, value], NoFile));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
    }
}
