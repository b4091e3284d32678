using System.Text.Json;
using Dashboard.Oci.Runtime;
using Dashboard.Testing;

namespace Dashboard.Runtime.Tests.Integration;

/// <summary>Id-mapped bind mounts (runtime-spec mounts[].uidMappings/gidMappings, options idmap/ridmap).</summary>
[Trait("Requires", "root")]
public sealed class IdmapTests : IDisposable
{
    private readonly RuntimeHarness _rt = new();

    public void Dispose() => _rt.Dispose();

    private static void UserNamespace(Spec s)
    {
        s.Linux!.Namespaces!.Add(new Namespace { Type = "user" });
        s.Linux.UidMappings = [new IdMapping { ContainerId = 0, HostId = 100000, Size = 65536 }];
        s.Linux.GidMappings = [new IdMapping { ContainerId = 0, HostId = 100000, Size = 65536 }];
    }

    /// <summary>A host directory whose file and the directory itself belong to <paramref name="uid"/>.</summary>
    private string Source(uint uid)
    {
        var dir = _rt.NewDir("idsrc");
        File.WriteAllText(Path.Combine(dir, "file"), "x");
        Assert.Equal(0, RuntimeHarness.RunWith("chown", ["-R", $"{uid}:{uid}", dir]).ExitCode);
        return dir;
    }

    private string[] Run(Action<Spec> configure, string script)
    {
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["sh", "-c", script];
            configure(s);
        });

        // Root of a user namespace cannot create mount points in a rootfs owned by host root.
        Directory.CreateDirectory(Path.Combine(bundle, "rootfs/mnt/idm"));
        Directory.CreateDirectory(Path.Combine(bundle, "rootfs/mnt/plain"));
        var result = _rt.RunContainer(bundle);
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stderr}{result.Stdout}");
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static (uint Uid, uint Gid) Owner(string path)
    {
        var st = Linux.Native.Sys.TryStat(path, follow: false, out var s) ? s : throw new FileNotFoundException(path);
        return (st.Uid, st.Gid);
    }

    [Fact]
    public void IdmappedBind_HostUid1000_AppearsAsRoot_InAUserNamespacedContainer()
    {
        var source = Source(1000);
        var output = Run(
            s =>
            {
                UserNamespace(s);
                s.Mounts!.Add(new Mount
                {
                    Destination = "/mnt/idm", Type = "bind", Source = source, Options = ["bind"],
                    UidMappings = [new IdMapping { ContainerId = 1000, HostId = 100000, Size = 1 }],
                    GidMappings = [new IdMapping { ContainerId = 1000, HostId = 100000, Size = 1 }],
                });
                s.Mounts.Add(new Mount { Destination = "/mnt/plain", Type = "bind", Source = source, Options = ["bind"] });
            },
            "busybox stat -c %u:%g /mnt/idm/file /mnt/plain/file; touch /mnt/idm/new && busybox stat -c %u:%g /mnt/idm/new");
        Assert.Equal(["0:0", "65534:65534", "0:0"], output);

        // Written as container root through the mapping, the new file belongs to host uid 1000.
        Assert.Equal((1000u, 1000u), Owner(Path.Combine(source, "new")));
    }

    [Fact]
    public void IdmapOption_WithoutMappings_UsesTheContainersUserNamespace()
    {
        var source = Source(0);
        var output = Run(
            s =>
            {
                UserNamespace(s);
                s.Mounts!.Add(new Mount { Destination = "/mnt/idm", Type = "bind", Source = source, Options = ["rbind", "ridmap"] });
            },
            "busybox stat -c %u:%g /mnt/idm/file");
        Assert.Equal(["0:0"], output);
    }

    [Fact]
    public void IdmappedBind_WithoutUserNamespace_ShowsTheMappedIds_AndKeepsItsFlags()
    {
        var source = Source(1000);
        var output = Run(
            s => s.Mounts!.Add(new Mount
            {
                Destination = "/mnt/idm", Type = "bind", Source = source, Options = ["bind", "ro"],
                UidMappings = [new IdMapping { ContainerId = 1000, HostId = 2000, Size = 10 }],
                GidMappings = [new IdMapping { ContainerId = 1000, HostId = 3000, Size = 10 }],
            }),
            "busybox stat -c %u:%g /mnt/idm/file; touch /mnt/idm/new 2>/dev/null && echo writable || echo read-only");
        Assert.Equal(["2000:3000", "read-only"], output);
    }

    [Fact]
    public void IdmappedBind_OnAFilesystemWithoutSupport_FailsWithAClearError()
    {
        // ramfs has no FS_ALLOW_IDMAP on any kernel. It is mounted in a private mount namespace that
        // the runtime runs in, so the host's mount table (which other tests compare) never changes.
        Requires.Tool("unshare");
        var dir = _rt.NewDir("ramfs");
        var bundle = _rt.Bundle(s =>
        {
            UserNamespace(s);
            s.Mounts!.Add(new Mount { Destination = "/mnt/idm", Type = "bind", Source = dir, Options = ["bind", "idmap"] });
        });
        var id = RuntimeHarness.NewId();
        var result = RuntimeHarness.RunWith(
            Requires.FindTool("unshare")!,
            ["-m", "--propagation", "private", "sh", "-c", $"mount -t ramfs ramfs {dir} && exec \"$0\" \"$@\"", _rt.Binary, "--root", _rt.StateRoot, "create", "--bundle", bundle, id]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"mount {dir} to /mnt/idm: ramfs does not support id-mapped mounts on kernel ", result.Stderr, StringComparison.Ordinal);
        Assert.False(_rt.StateLeft(id));
    }

    [Fact]
    public void IdmappedBind_WithOnlyUidMappings_IsRejected()
    {
        var bundle = _rt.Bundle(s => s.Mounts!.Add(new Mount
        {
            Destination = "/mnt/idm", Type = "bind", Source = _rt.NewDir("idsrc"), Options = ["bind"],
            UidMappings = [new IdMapping { ContainerId = 0, HostId = 1000, Size = 1 }],
        }));
        var result = _rt.Run("create", "--bundle", bundle, RuntimeHarness.NewId());
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("needs both uidMappings and gidMappings", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Features_AdvertiseIdmap_WhereTheKernelHasMountSetattr()
    {
        var release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim().Split('.', '-');
        var kernel = new Version(int.Parse(release[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(release[1], System.Globalization.CultureInfo.InvariantCulture));
        var result = _rt.Run("features");
        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        var enabled = json.RootElement.GetProperty("linux").GetProperty("mountExtensions").GetProperty("idmap").GetProperty("enabled").GetBoolean();
        Assert.Equal(kernel >= new Version(5, 12), enabled);
        Assert.Contains("idmap", json.RootElement.GetProperty("mountOptions").EnumerateArray().Select(e => e.GetString()));
    }
}
