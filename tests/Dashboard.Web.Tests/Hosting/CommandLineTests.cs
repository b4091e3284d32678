using Dashboard.Web.Engines;
using Dashboard.Web.Hosting;
using Microsoft.Extensions.Configuration;

namespace Dashboard.Web.Tests.Hosting;

public class CommandLineTests
{
    [Fact]
    public void Normalize_RepeatedEngine_KeepsEveryValueInOrder()
    {
        var args = CommandLine.Normalize(["--urls", "http://127.0.0.1:1", "--engine", "unix:///a.sock", "--engine=remote=tcp://h:2376", "--data-dir", "/d", "--bootstrap-secret-file", "/s"]);
        var config = new ConfigurationBuilder().AddCommandLine(args).Build();
        var options = config.GetSection(DashboardOptions.Section).Get<DashboardOptions>()!;

        Assert.Equal("http://127.0.0.1:1", config["urls"]);
        Assert.Equal(["unix:///a.sock", "remote=tcp://h:2376"], options.Engines);
        Assert.Equal("/d", options.DataDir);
        Assert.Equal("/s", options.BootstrapSecretFile);
    }

    [Fact]
    public void Normalize_InsecureHttpSwitch_SetsOption()
    {
        var config = new ConfigurationBuilder().AddCommandLine(CommandLine.Normalize(["--insecure-http"])).Build();

        Assert.True(config.GetSection(DashboardOptions.Section).Get<DashboardOptions>()!.AllowInsecureHttp);
    }

    [Fact]
    public void Normalize_FlagWithoutValue_Throws()
    {
        Assert.Throws<ArgumentException>(() => CommandLine.Normalize(["--engine"]));
    }

    [Theory]
    [InlineData("unix:///run/dashboard/engine.sock", 0, "local", "unix:///run/dashboard/engine.sock")]
    [InlineData("lab=tcp://10.0.0.5:2376", 1, "lab", "tcp://10.0.0.5:2376")]
    [InlineData("tcp://host.example:2376", 1, "host.example", "tcp://host.example:2376")]
    public void EngineEndpointParse_ValidValues_NameAndUri(string value, int index, string name, string uri)
    {
        var endpoint = EngineEndpoint.Parse(value, index);

        Assert.Equal(name, endpoint.Name);
        Assert.Equal(new Uri(uri), endpoint.Uri);
    }

    [Theory]
    [InlineData("/run/engine.sock")]
    [InlineData("ftp://x")]
    [InlineData("unix://")]
    [InlineData("bad name=unix:///x.sock")]
    public void EngineEndpointParse_InvalidValues_Throw(string value)
    {
        Assert.Throws<FormatException>(() => EngineEndpoint.Parse(value, 0));
    }
}
