using Dashboard.Engine.Hosting;

namespace Dashboard.Engine.Tests.Hosting;

public sealed class EngineOptionsTests
{
    private static string? NoFile(string path) => null;

    [Fact]
    public void Parse_Flags_OverrideDefaults()
    {
        var o = EngineOptions.Parse(["--data-root", "/tmp/d", "--socket=/tmp/e.sock", "--state-root", "/tmp/s", "--log-max-files", "5"], NoFile);
        Assert.Equal("/tmp/d", o.DataRoot);
        Assert.Equal("/tmp/e.sock", o.Socket);
        Assert.Equal("/tmp/s", o.StateRoot);
        Assert.Equal(5, o.LogMaxFiles);
        Assert.Equal("/tmp/d/engine.db", o.DatabasePath);
    }

    [Fact]
    public void Parse_ConfigFile_FlagsWin()
    {
        var o = EngineOptions.Parse(["--config", "/etc/x.json", "--socket", "/tmp/flag.sock"], path =>
            path == "/etc/x.json" ? """{"data-root":"/srv/d","socket":"/srv/s.sock","log-max-size":1024}""" : null);
        Assert.Equal("/srv/d", o.DataRoot);
        Assert.Equal("/tmp/flag.sock", o.Socket);
        Assert.Equal(1024, o.LogMaxSize);
        Assert.Equal("/etc/x.json", o.ConfigFile);
    }

    [Theory]
    [InlineData("--bogus", "1")]
    [InlineData("--log-max-size", "-3")]
    [InlineData("--log-format", "xml")]
    [InlineData("positional", "x")]
    public void Parse_BadFlags_InvalidArgument(string flag, string value)
    {
        var e = Assert.Throws<EngineException>(() => EngineOptions.Parse([flag, value], NoFile));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public void Parse_ConfigWithDuplicateKey_Refused()
    {
        Assert.ThrowsAny<Exception>(() => EngineOptions.Parse([], _ => """{"socket":"/a","socket":"/b"}"""));
    }

    [Fact]
    public void Parse_MissingExplicitConfig_Refused()
    {
        var e = Assert.Throws<EngineException>(() => EngineOptions.Parse(["--config", "/nope.json"], NoFile));
        Assert.Contains("no such file", e.Message);
    }
}
