using System.Net;
using System.Text.Json;
using Dashboard.Engine.Api;
using Dashboard.Engine.Networking;
using Dashboard.Engine.Tests.Fakes;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Api;

/// <summary><c>GET /containers/json</c> filters network, publish, expose, volume, ancestor, isolation, is-task (moby daemon/list.go).</summary>
public sealed class ContainerListFilterTests : IAsyncLifetime
{
    private TestEngine _engine = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _engine = await TestEngine.StartAsync();

    public async ValueTask DisposeAsync() => await _engine.DisposeAsync();

    private static ContainerSummaryView View(params PortView[] ports) => new()
    {
        Ports = ports.Select(p => JsonSerializer.SerializeToElement(p, DockerJson.Storage)).ToList(),
        HostConfig = new Dictionary<string, string> { ["NetworkMode"] = "default" },
    };

    private static bool Match(ContainerSummaryView view, string filters)
    {
        var parsed = DockerFilters.Parse(filters, ContainerListFilters.Keys);
        return ContainerListFilters.Matches(view, parsed, ContainerListFilters.Compile(parsed));
    }

    [Theory]
    [InlineData("""{"publish":["8080"]}""", true)]
    [InlineData("""{"publish":["8080/tcp"]}""", true)]
    [InlineData("""{"publish":["8000-8090/tcp"]}""", true)]
    [InlineData("""{"publish":["80"]}""", false)]
    [InlineData("""{"publish":["8080/udp"]}""", false)]
    [InlineData("""{"expose":["80"]}""", true)]
    [InlineData("""{"expose":["53/udp"]}""", true)]
    [InlineData("""{"expose":["8080"]}""", false)]
    [InlineData("""{"expose":["1-52/udp"]}""", false)]
    [InlineData("""{"publish":["1"],"expose":["53/udp"]}""", true)]
    public void Matches_PublishHostPortExposeContainerPort(string filters, bool expected)
    {
        var view = View(new PortView("0.0.0.0", 80, 8080, "tcp"), new PortView(null, 53, null, "udp"));

        Assert.Equal(expected, Match(view, filters));
    }

    [Theory]
    [InlineData("""{"network":["web"]}""", true)]
    [InlineData("""{"network":["4f2c"]}""", true)]
    [InlineData("""{"network":["bridge"]}""", false)]
    [InlineData("""{"network":["4f2d"]}""", false)]
    public void Matches_NetworkByNameOrIdPrefix(string filters, bool expected)
    {
        var view = View();
        view.NetworkSettings.Networks["web"] = JsonSerializer.SerializeToElement(new EndpointView { NetworkID = "4f2c00aa" }, DockerJson.Storage);

        Assert.Equal(expected, Match(view, filters));
    }

    [Theory]
    [InlineData("""{"volume":["data"]}""", true)]
    [InlineData("""{"volume":["/var/lib/data"]}""", true)]
    [InlineData("""{"volume":["/host/src"]}""", true)]
    [InlineData("""{"volume":["/src"]}""", true)]
    [InlineData("""{"volume":["/var/lib/dashboard/volumes/data/_data"]}""", false)]
    [InlineData("""{"volume":["other"]}""", false)]
    public void Matches_VolumeByNameBindSourceOrDestination(string filters, bool expected)
    {
        var view = View();
        view.Mounts.Add(new MountPointView { Type = "volume", Name = "data", Source = "/var/lib/dashboard/volumes/data/_data", Destination = "/var/lib/data" });
        view.Mounts.Add(new MountPointView { Type = "bind", Source = "/host/src", Destination = "/src" });

        Assert.Equal(expected, Match(view, filters));
    }

    [Theory]
    [InlineData("""{"publish":["http"]}""")]
    [InlineData("""{"publish":["0"]}""")]
    [InlineData("""{"expose":["90-80"]}""")]
    [InlineData("""{"expose":["80/icmp"]}""")]
    [InlineData("""{"is-task":["maybe"]}""")]
    [InlineData("""{"isolation":["hyperv"]}""")]
    [InlineData("""{"volumes":["x"]}""")]
    [InlineData("""{"health":["sick"]}""")]
    public async Task List_InvalidFilter_BadRequest(string filters)
    {
        using var http = RawHttp.Create(_engine.Socket);

        using var response = await http.GetAsync("/v1.43/containers/json?all=1&filters=" + Uri.EscapeDataString(filters), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"message\"", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    private async Task<IList<string>> NamesAsync(string key, string value)
    {
        var list = await _engine.Client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { [key] = new Dictionary<string, bool> { [value] = true } },
        }, Ct);
        return list.Select(c => c.Names[0]).Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public async Task List_ThroughTheApi_NetworkExposeVolumeAncestorIsolationIsTask()
    {
        var bind = Directory.CreateTempSubdirectory("dashboard-filter-").FullName;
        try
        {
            await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Image = "busybox",
                Name = "web",
                ExposedPorts = new Dictionary<string, EmptyStruct> { ["80/tcp"] = default },
                HostConfig = new Docker.DotNet.Models.HostConfig { Binds = [bind + ":/src:ro"] },
            }, Ct);
            await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Name = "quiet", HostConfig = new Docker.DotNet.Models.HostConfig { NetworkMode = "none" } }, Ct);

            Assert.Equal(["/web"], await NamesAsync("expose", "80"));
            Assert.Equal(["/web"], await NamesAsync("volume", "/src"));
            Assert.Equal(["/web"], await NamesAsync("volume", bind));
            Assert.Equal(["/quiet"], await NamesAsync("network", "none"));
            Assert.Equal(["/web"], await NamesAsync("network", "bridge"));
            Assert.Equal(["/quiet", "/web"], await NamesAsync("ancestor", "busybox:latest"));
            Assert.Equal(["/quiet", "/web"], await NamesAsync("ancestor", "docker.io/library/busybox"));
            Assert.Empty(await NamesAsync("ancestor", "nothing-like-it"));
            Assert.Equal(["/quiet", "/web"], await NamesAsync("isolation", "default"));
            Assert.Equal(["/quiet", "/web"], await NamesAsync("is-task", "false"));
            Assert.Empty(await NamesAsync("is-task", "true"));
            Assert.Empty(await NamesAsync("publish", "80"));
        }
        finally
        {
            Directory.Delete(bind, recursive: true);
        }
    }
}
