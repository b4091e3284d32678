using Dashboard.Images.RuntimeSpec;
using Dashboard.Oci.Image;
using Dashboard.Oci.Runtime;

namespace Dashboard.Images.Tests.RuntimeSpec;

public sealed class RuntimeSpecBuilderTests : IDisposable
{
    private readonly string _base = Directory.CreateTempSubdirectory("dashboard-spec-").FullName;
    private readonly string _rootfs;

    public RuntimeSpecBuilderTests()
    {
        _rootfs = Path.Combine(_base, "rootfs");
        Directory.CreateDirectory(Path.Combine(_rootfs, "etc"));
        File.WriteAllText(Path.Combine(_rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\n");
        File.WriteAllText(Path.Combine(_rootfs, "etc", "group"), "root:x:0:\nwww:x:33:\nwheel:x:10:www\naudio:x:29:www,root\n");
        Directory.CreateDirectory(Path.Combine(_base, "host"));
        File.WriteAllText(Path.Combine(_base, "host", "passwd"), "evil:x:0:0::/:/bin/sh\n");
    }

    public void Dispose() => Directory.Delete(_base, recursive: true);

    [Fact]
    public void Build_ImageDefaults_ArgsEnvCwdUserAndSafeDefaults()
    {
        var image = Image(new ContainerConfig { Entrypoint = ["/entry"], Cmd = ["run", "x"], Env = ["PATH=/bin", "A=1"], WorkingDir = "/srv/../app", User = "www" });

        var spec = RuntimeSpecBuilder.Build(image, _rootfs);

        Assert.Equal(["/entry", "run", "x"], spec.Process!.Args);
        Assert.Equal(["PATH=/bin", "A=1", "HOME=/var/www"], spec.Process.Env);
        Assert.Equal("/app", spec.Process.Cwd);
        Assert.Equal((33u, 33u), (spec.Process.User.Uid, spec.Process.User.Gid));
        Assert.Equal([10u, 29u], spec.Process.User.AdditionalGids);
        Assert.Equal(_rootfs, spec.Root!.Path);
        Assert.Contains("CAP_CHOWN", spec.Process.Capabilities!.Bounding!);
        Assert.Null(spec.Process.Capabilities.Inheritable);
        Assert.True(spec.Process.NoNewPrivileges);
        Assert.Contains("/proc/kcore", spec.Linux!.MaskedPaths!);
        Assert.Contains(spec.Mounts!, m => m.Destination == "/proc" && m.Type == "proc");
        Assert.Contains(spec.Linux.Namespaces!, n => n.Type == "pid");
        Assert.Contains("\"ociVersion\"", RuntimeJson.Serialize(spec), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_Overrides_ReplaceImageValues()
    {
        var image = Image(new ContainerConfig { Entrypoint = ["/entry"], Cmd = ["dropped"], Env = ["A=1", "B=2"] });
        var overrides = new SpecOverrides { Entrypoint = ["/bin/sh"], Env = ["B=3"], User = "1000:1000", WorkingDir = "work", Terminal = true, Hostname = "h" };

        var spec = RuntimeSpecBuilder.Build(image, _rootfs, overrides);

        Assert.Equal(["/bin/sh"], spec.Process!.Args);
        Assert.Contains("B=3", spec.Process.Env!);
        Assert.Contains("A=1", spec.Process.Env!);
        Assert.Contains("TERM=xterm", spec.Process.Env!);
        Assert.Contains(spec.Process.Env!, e => e.StartsWith("PATH=", StringComparison.Ordinal));
        Assert.Equal((1000u, 1000u), (spec.Process.User.Uid, spec.Process.User.Gid));
        Assert.Equal("/work", spec.Process.Cwd);
        Assert.Equal("h", spec.Hostname);
    }

    [Theory]
    [InlineData("www:wheel", 33u, 10u)]
    [InlineData("33", 33u, 33u)]
    [InlineData("4242", 4242u, 0u)]
    [InlineData("root:29", 0u, 29u)]
    [InlineData("", 0u, 0u)]
    public void ResolveUser_Forms_Resolved(string user, uint uid, uint gid)
    {
        using var root = Linux.Fs.SafeRoot.Open(_rootfs);
        var resolved = RuntimeSpecBuilder.ResolveUser(root, user);
        Assert.Equal((uid, gid), (resolved.Uid, resolved.Gid));
    }

    [Fact]
    public void ResolveUser_PasswdSymlinkToHost_ReadsInsideRoot()
    {
        File.Delete(Path.Combine(_rootfs, "etc", "passwd"));
        File.CreateSymbolicLink(Path.Combine(_rootfs, "etc", "passwd"), Path.Combine(_base, "host", "passwd"));
        using var root = Linux.Fs.SafeRoot.Open(_rootfs);
        var e = Assert.Throws<ImageException>(() => RuntimeSpecBuilder.ResolveUser(root, "evil"));
        Assert.Contains("unable to find user evil", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/proc/self/fd/7")]
    [InlineData("/../proc/1/cwd")]
    public void Build_WorkingDirInProc_Rejected(string workingDir)
    {
        var e = Assert.Throws<ImageException>(() => RuntimeSpecBuilder.Build(Image(new ContainerConfig { Cmd = ["sh"], WorkingDir = workingDir }), _rootfs));
        Assert.Equal(ImageErrorKind.InvalidSpec, e.Kind);
    }

    [Fact]
    public void Build_NoCommand_Rejected()
    {
        Assert.Throws<ImageException>(() => RuntimeSpecBuilder.Build(Image(new ContainerConfig()), _rootfs));
    }

    [Fact]
    public void Build_HugeEnv_Rejected()
    {
        var image = Image(new ContainerConfig { Cmd = ["sh"], Env = ["BIG=" + new string('x', 10 << 20)] });
        Assert.Throws<ImageException>(() => RuntimeSpecBuilder.Build(image, _rootfs));
    }

    [Theory]
    [InlineData("/../../../../etc")]
    [InlineData("../x")]
    [InlineData("/")]
    public void ImageDefaults_EscapingVolume_Rejected(string volume)
    {
        var image = Image(new ContainerConfig { Volumes = new() { [volume] = new EmptyObject() } });
        Assert.Throws<ImageException>(() => ImageDefaults.From(image));
    }

    [Fact]
    public void ImageDefaults_Fields_Validated()
    {
        var image = Image(new ContainerConfig
        {
            StopSignal = "SIGFOO",
            Volumes = new() { ["/data/"] = new EmptyObject() },
            ExposedPorts = new() { ["80/tcp"] = new EmptyObject(), ["53/udp"] = new EmptyObject(), ["0-65535/tcp"] = new EmptyObject() },
        });

        var defaults = ImageDefaults.From(image);

        Assert.Equal("SIGTERM", defaults.StopSignal);
        Assert.Equal(["/data"], defaults.Volumes);
        Assert.Equal([new ExposedPort(80, "tcp"), new ExposedPort(53, "udp")], defaults.ExposedPorts);
        Assert.Equal(2, defaults.Warnings.Count);
        Assert.Equal("SIGQUIT", ImageDefaults.NormalizeSignal("quit"));
    }

    private static ImageConfig Image(ContainerConfig config) => new() { Os = "linux", Architecture = "amd64", Config = config };
}
