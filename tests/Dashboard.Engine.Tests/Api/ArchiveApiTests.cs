using System.Formats.Tar;
using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;
using Dashboard.Testing.Images;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Api;

/// <summary>archive GET/HEAD/PUT, export and changes on a container's overlay rootfs (fake runtime), and docker cp both ways.</summary>
public sealed class ArchiveApiTests : IAsyncLifetime
{
    private TestEngine _engine = null!;
    private string _sentinel = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _engine = await TestEngine.StartAsync();
        _sentinel = Directory.CreateTempSubdirectory("det-sentinel-").FullName;
        File.WriteAllText(Path.Combine(_sentinel, "secret"), "host secret\n");
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        Directory.Delete(_sentinel, recursive: true);
    }

    private static Dictionary<string, string> ReadTar(Stream response)
    {
        var stream = new MemoryStream();
        response.CopyToAsync(stream, Ct).GetAwaiter().GetResult();
        stream.Position = 0;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        using var reader = new TarReader(stream);
        while (reader.GetNextEntry() is { } entry)
        {
            using var buffer = new MemoryStream();
            entry.DataStream?.CopyTo(buffer);
            result[entry.Name] = entry.EntryType == TarEntryType.SymbolicLink ? "-> " + entry.LinkName : System.Text.Encoding.UTF8.GetString(buffer.ToArray());
        }

        return result;
    }

    [Fact]
    public async Task PutGetExportChanges_RoundTrip()
    {
        var c = await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox" }, Ct);
        var tar = new TestTar().Dir("new/").File("new/hello.txt", "hello\n", 0x1A4, 33, 33).ToArray();
        await _engine.Client.Containers.ExtractArchiveToContainerAsync(c.ID, new CopyToContainerParameters { Path = "/data" }, new MemoryStream(tar), Ct);

        var get = await _engine.Client.Containers.GetArchiveFromContainerAsync(c.ID, new ContainerPathStatParameters { Path = "/data" }, statOnly: false, Ct);
        Assert.Equal("data", get.Stat.Name);
        var files = ReadTar(get.Stream!);
        Assert.Equal("hello\n", files["data/new/hello.txt"]);
        Assert.Equal("from the image\n", files["data/seed.txt"]);

        await using var export = await _engine.Client.Containers.ExportContainerAsync(c.ID, Ct);
        var all = ReadTar(export);
        Assert.Contains("www:x:33:33", all["etc/passwd"]);
        Assert.Equal("hello\n", all["data/new/hello.txt"]);

        File.Delete(Path.Combine(_engine.Manager.ContainerDir(c.ID), "rootfs", "data", "seed.txt"));
        var changes = await _engine.Client.Containers.InspectChangesAsync(c.ID, Ct);
        var byPath = changes.ToDictionary(x => x.Path, x => (int)x.Kind);
        Assert.Equal(0, byPath["/data"]);
        Assert.Equal(1, byPath["/data/new"]);
        Assert.Equal(1, byPath["/data/new/hello.txt"]);
        Assert.Equal(2, byPath["/data/seed.txt"]);
        Assert.DoesNotContain("/etc/passwd", byPath.Keys);

        await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => _engine.Client.Containers.GetArchiveFromContainerAsync(c.ID, new ContainerPathStatParameters { Path = "/nope" }, statOnly: true, Ct));
    }

    [Fact]
    public async Task SymlinkToHostPath_ResolvedInsideContainer_HostSentinelUntouched()
    {
        var c = await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox" }, Ct);
        // The container plants link -> <the host's sentinel directory>, absolute and relative forms.
        var planted = new TestTar().Symlink("link", _sentinel).Symlink("up", "../../../../../../../.." + _sentinel).ToArray();
        await _engine.Client.Containers.ExtractArchiveToContainerAsync(c.ID, new CopyToContainerParameters { Path = "/data" }, new MemoryStream(planted), Ct);

        foreach (var path in new[] { "/data/link/secret", "/data/up/secret" })
        {
            await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => _engine.Client.Containers.GetArchiveFromContainerAsync(c.ID, new ContainerPathStatParameters { Path = path }, statOnly: false, Ct));
        }

        var write = new TestTar().File("secret", "overwritten\n").File("planted", "x").ToArray();
        var rootfs = Path.Combine(_engine.Manager.ContainerDir(c.ID), "rootfs");
        Directory.CreateDirectory(rootfs + _sentinel);
        await _engine.Client.Containers.ExtractArchiveToContainerAsync(c.ID, new CopyToContainerParameters { Path = "/data/link" }, new MemoryStream(write), Ct);
        var escape = new TestTar().File("../../../../../../.." + _sentinel + "/dotdot", "x").ToArray();
        await _engine.Client.Containers.ExtractArchiveToContainerAsync(c.ID, new CopyToContainerParameters { Path = "/data" }, new MemoryStream(escape), Ct);

        Assert.Equal("host secret\n", File.ReadAllText(Path.Combine(_sentinel, "secret")));
        Assert.Equal(["secret"], Directory.GetFiles(_sentinel).Select(Path.GetFileName));
        Assert.Equal("overwritten\n", File.ReadAllText(rootfs + _sentinel + "/secret"));
        Assert.True(File.Exists(rootfs + "/data" + _sentinel + "/dotdot"));
    }

    [Fact]
    public async Task DockerCp_BothWays()
    {
        Requires.Tool("docker");
        var run = await DockerCli.RunAsync(_engine, "create", "--name", "box", "busybox");
        Assert.True(run.Code == 0, run.Stderr);
        var local = Path.Combine(_engine.Root, "in.txt");
        File.WriteAllText(local, "copied in\n");
        var cpIn = await DockerCli.RunAsync(_engine, "cp", local, "box:/data/in.txt");
        Assert.True(cpIn.Code == 0, cpIn.Stderr);
        var outDir = Path.Combine(_engine.Root, "out");
        Directory.CreateDirectory(outDir);
        var cpOut = await DockerCli.RunAsync(_engine, "cp", "box:/data", outDir);
        Assert.True(cpOut.Code == 0, cpOut.Stderr);
        Assert.Equal("copied in\n", File.ReadAllText(Path.Combine(outDir, "data", "in.txt")));
        Assert.Equal("from the image\n", File.ReadAllText(Path.Combine(outDir, "data", "seed.txt")));
    }
}
