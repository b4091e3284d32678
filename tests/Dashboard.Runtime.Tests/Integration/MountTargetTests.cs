using System.Diagnostics;
using Dashboard.Linux.Fs;
using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Init;
using Dashboard.Testing;

namespace Dashboard.Runtime.Tests.Integration;

/// <summary>
/// Symlinked and racing mount targets (security.md A4–A8, A5 in particular): every mount lands
/// inside the rootfs, whatever the image's symlinks say and whatever a concurrent renamer does.
/// </summary>
[Trait("Requires", "root")]
public class MountTargetTests : IDisposable
{
    private readonly RuntimeHarness _rt;

    public MountTargetTests()
        : this(new RuntimeHarness())
    {
    }

    protected MountTargetTests(RuntimeHarness harness) => _rt = harness;

    /// <summary>Whether the runtime resolves mount targets with openat2 in this class's runs.</summary>
    protected virtual bool ExpectOpenat2 => true;

    protected RuntimeHarness Runtime => _rt;

    public void Dispose()
    {
        _rt.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Host mounts that involve a path of this test (other tests and other users of the machine
    /// mount and unmount things meanwhile, so the whole table is not compared).
    /// </summary>
    private static int HostMountsUnder(params string[] paths) =>
        File.ReadAllLines("/proc/self/mountinfo").Count(l => paths.Any(p => l.Contains(p, StringComparison.Ordinal)));

    private void AssertFailsCleanly(string bundle, string expected, string? cgroupsPath = null)
    {
        var id = RuntimeHarness.NewId();
        var result = _rt.Run("create", "--bundle", bundle, id);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.False(_rt.StateLeft(id), "state left behind");
        if (cgroupsPath is not null)
        {
            Assert.False(Directory.Exists(RuntimeHarness.HostCgroupDir("memory", cgroupsPath)), "cgroup left behind");
        }

        Assert.Equal(0, HostMountsUnder(bundle, _rt.StateRoot));
    }

    /// <summary>One line of /proc/pid/mountinfo: root of the mount in its filesystem, mount point, per-mount options, type, superblock options.</summary>
    private sealed record MountInfo(string Root, string MountPoint, string Options, string FsType, string SuperOptions);

    private static List<MountInfo> ReadMountInfo(string path) =>
        File.ReadAllLines(path).Select(line =>
        {
            var dash = line.IndexOf(" - ", StringComparison.Ordinal);
            var left = line[..dash].Split(' ');
            var right = line[(dash + 3)..].Split(' ');
            return new MountInfo(Unescape(left[3]), Unescape(left[4]), left[5], right[0], right.Length > 2 ? right[2] : "");
        }).ToList();

    private static string Unescape(string field) => field.Replace("\\040", " ", StringComparison.Ordinal);

    [Fact]
    public void ProcSymlinkedInRootfs_FailsStart()
    {
        string? cgroupsPath = null;
        var bundle = _rt.Bundle(s => cgroupsPath = s.Linux!.CgroupsPath);
        var proc = Path.Combine(bundle, "rootfs/proc");
        Directory.Delete(proc);
        Directory.CreateDirectory(Path.Combine(bundle, "rootfs/bad-proc"));
        File.CreateSymbolicLink(proc, "/bad-proc");
        AssertFailsCleanly(bundle, "must be mounted on ordinary directory", cgroupsPath);
    }

    [Fact]
    public void MaskedPathSymlink_IsRejected()
    {
        var bundle = _rt.Bundle(s =>
        {
            s.Linux!.MaskedPaths = ["/etc/secret"];
            s.Mounts!.RemoveAll(m => m.Destination == "/sys/fs/cgroup");
        });
        File.CreateSymbolicLink(Path.Combine(bundle, "rootfs/etc/secret"), "/etc/passwd");
        AssertFailsCleanly(bundle, "is a symlink");
    }

    [Fact]
    public void DevNullSymlinkedToProcFile_IsRefused()
    {
        // No /dev tmpfs, so the image's /dev stays; its /dev/null points at a procfs file (CVE-2025-31133).
        var bundle = _rt.Bundle(s => s.Mounts!.RemoveAll(m => m.Destination.StartsWith("/dev", StringComparison.Ordinal)));
        File.CreateSymbolicLink(Path.Combine(bundle, "rootfs/dev/null"), "/proc/sys/kernel/core_pattern");
        var before = File.ReadAllText("/proc/sys/kernel/core_pattern");
        AssertFailsCleanly(bundle, "/dev/null is invalid");
        Assert.Equal(before, File.ReadAllText("/proc/sys/kernel/core_pattern"));
    }

    [Fact]
    public void DevSymlinkedToHostLookingPath_StaysInsideTheRootfs()
    {
        var bundle = _rt.Bundle("sh", "-c", "ls /dev/null");
        var rootfs = Path.Combine(bundle, "rootfs");
        Directory.Delete(Path.Combine(rootfs, "dev"));
        Directory.CreateDirectory(Path.Combine(rootfs, "etc/fakedev"));
        File.CreateSymbolicLink(Path.Combine(rootfs, "dev"), "../../../../etc/fakedev");
        var hostEtc = Directory.GetFileSystemEntries("/etc").Length;
        var result = _rt.RunContainer(bundle);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(hostEtc, Directory.GetFileSystemEntries("/etc").Length);
        Assert.False(File.Exists("/etc/null"));
    }

    [Fact]
    public void MountDestinationThroughAbsoluteSymlink_LandsInsideTheRootfs()
    {
        // The image's /data points at a path that exists on the host; in-root it names <rootfs><host>.
        var host = _rt.NewDir("hosttarget");
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["cat", "/proc/self/mountinfo"];
            s.Mounts!.Add(new Mount { Destination = "/data/x", Type = "tmpfs", Source = "tmpfs", Options = ["size=2048k"] });
        });
        File.CreateSymbolicLink(Path.Combine(bundle, "rootfs/data"), host);
        var result = _rt.RunContainer(bundle);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains($" {host}/x ", result.Stdout, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(host));
        Assert.True(Directory.Exists(Path.Combine(bundle, "rootfs", host.TrimStart('/'), "x")));
    }

    [Fact]
    public void MountDestinationThroughDotDotSymlink_StaysInsideTheRootfs()
    {
        var name = "dashrt-escape-" + Guid.NewGuid().ToString("N")[..8];
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["cat", "/proc/self/mountinfo"];
            s.Mounts!.Add(new Mount { Destination = $"/etc/up/{name}/y", Type = "tmpfs", Source = "tmpfs", Options = ["size=2048k"] });
        });
        File.CreateSymbolicLink(Path.Combine(bundle, "rootfs/etc/up"), "../../../../../../../..");
        var result = _rt.RunContainer(bundle);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains($" /{name}/y ", result.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists("/" + name));
        Assert.True(Directory.Exists(Path.Combine(bundle, "rootfs", name, "y")));
    }

    /// <summary>The switch DASHBOARD_RUNTIME_NO_OPENAT2=1 really takes the userspace walker: strace counts the openat2 calls.</summary>
    [Fact]
    public void MountTargetResolver_UsesOpenat2_UnlessSwitchedOff()
    {
        Requires.Tool("strace");
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["true"];
            s.Mounts!.Add(new Mount { Destination = "/vol/a/b", Type = "tmpfs", Source = "tmpfs", Options = ["size=1024k"] });
        });
        var trace = Path.Combine(_rt.NewDir("strace"), "trace");
        var result = RuntimeHarness.RunWith(
            Requires.FindTool("strace")!,
            ["-f", "-qq", "-e", "trace=openat2", "-o", trace, _rt.Binary, "--root", _rt.StateRoot, "run", "--bundle", bundle, RuntimeHarness.NewId()],
            environment: _rt.ExtraEnvironment);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var calls = File.ReadAllLines(trace).Count(l => l.Contains("openat2(", StringComparison.Ordinal));
        if (ExpectOpenat2)
        {
            Assert.True(calls > 0, "no openat2 call was made");
        }
        else
        {
            Assert.Equal(0, calls);
        }
    }

    /// <summary>
    /// security.md A5 (CVE-2021-30465): while a racer swaps <c>vol/dir</c> with <c>vol/link</c> (a
    /// symlink to a host path) through renameat2(RENAME_EXCHANGE), containers are created with a
    /// tmpfs under <c>/vol/dir</c>, a read-only bind under <c>/vol/dir</c>, a decoy tmpfs where the
    /// symlink leads, and an rbind of the host path. Every create succeeds with every mount inside
    /// the rootfs, or fails: the tmpfs never shows up under the host path's rbind (it would, had it
    /// been mounted on the host path), the read-only bind is always read-only (a remount redirected
    /// by the race would have hit the decoy), and nothing is created in the host directories.
    /// </summary>
    [Fact]
    public void RenameExchangeRace_NeverMountsOutsideTheRootfs()
    {
        var escape = _rt.NewDir("escape");
        Directory.CreateDirectory(Path.Combine(escape, "x"));
        var readOnlySource = _rt.NewDir("rosrc");
        File.WriteAllText(Path.Combine(readOnlySource, "file"), "host");
        var marker = 4 * (300 + Random.Shared.Next(700)); // tmpfs rounds its size to pages
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["true"];
            s.Mounts!.Add(new Mount { Destination = escape + "/ro", Type = "tmpfs", Source = "tmpfs", Options = ["size=512k"] });
            s.Mounts.Add(new Mount { Destination = "/vol/dir/x", Type = "tmpfs", Source = "tmpfs", Options = [$"size={marker}k"] });
            s.Mounts.Add(new Mount { Destination = "/vol/dir/ro", Type = "bind", Source = readOnlySource, Options = ["bind", "ro"] });
            s.Mounts.Add(new Mount { Destination = "/other", Type = "bind", Source = escape, Options = ["rbind"] });
        });
        var vol = Path.Combine(bundle, "rootfs/vol");
        Directory.CreateDirectory(Path.Combine(vol, "dir"));
        File.CreateSymbolicLink(Path.Combine(vol, "link"), escape);

        using var stop = new CancellationTokenSource();
        long swaps = 0;
        var racer = new Thread(() =>
        {
            using var dir = FileCalls.Open(vol, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
            while (!stop.IsCancellationRequested)
            {
                FileCalls.RenameAt(dir, "dir", dir, "link", FileCalls.RENAME_EXCHANGE);
                swaps++;
            }
        })
        { IsBackground = true };
        racer.Start();

        int created = 0, failed = 0, iterations = 0;
        var clock = Stopwatch.StartNew();
        try
        {
            for (; iterations < 120 && clock.Elapsed < TimeSpan.FromSeconds(45); iterations++)
            {
                var id = RuntimeHarness.NewId();
                var result = _rt.Run("create", "--bundle", bundle, id);
                if (result.ExitCode != 0)
                {
                    failed++;
                    Assert.False(_rt.StateLeft(id), "state left behind");
                    continue;
                }

                created++;
                try
                {
                    var pid = RuntimeJson.ParseState(_rt.Run("state", id).Stdout).Pid!.Value;
                    var mounts = ReadMountInfo($"/proc/{pid}/mountinfo");
                    var tmpfs = mounts.Where(m => m.FsType == "tmpfs" && m.SuperOptions.Contains($"size={marker}k", StringComparison.Ordinal)).ToList();
                    Assert.True(tmpfs.Count == 1, $"iteration {iterations}: tmpfs for /vol/dir/x: {string.Join(", ", tmpfs.Select(m => m.MountPoint))}");
                    Assert.False(tmpfs[0].MountPoint.StartsWith("/other", StringComparison.Ordinal), $"tmpfs landed on the host path: {tmpfs[0].MountPoint}");
                    var binds = mounts.Where(m => m.Root == readOnlySource).ToList();
                    Assert.NotEmpty(binds);
                    Assert.All(binds, m => Assert.True(m.Options.Split(',')[0] == "ro", $"iteration {iterations}: bind at {m.MountPoint} is {m.Options}"));
                }
                finally
                {
                    Assert.Equal(0, _rt.Run("delete", "--force", id).ExitCode);
                }
            }
        }
        finally
        {
            stop.Cancel();
            racer.Join();
        }

        Assert.True(iterations >= 20, $"only {iterations} iterations ran");
        Assert.True(swaps > iterations, $"the racer swapped only {swaps} times");
        Assert.True(created > 0, $"no create succeeded ({failed} failed)");
        Assert.Equal(["x"], Directory.GetFileSystemEntries(escape).Select(e => Path.GetFileName(e) ?? "").ToArray());
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(escape, "x")));
        Assert.Equal(["file"], Directory.GetFileSystemEntries(readOnlySource).Select(e => Path.GetFileName(e) ?? "").ToArray());
        Assert.Equal(0, HostMountsUnder(bundle, escape, readOnlySource, _rt.StateRoot));
    }
}

/// <summary>The same tests with openat2 switched off: mount targets go through the O_PATH|O_NOFOLLOW component walker.</summary>
[Trait("Requires", "root")]
public sealed class MountTargetNoOpenat2Tests : MountTargetTests
{
    public MountTargetNoOpenat2Tests()
        : base(new RuntimeHarness())
    {
        Runtime.ExtraEnvironment[RootfsSetup.NoOpenat2Variable] = "1";
    }

    protected override bool ExpectOpenat2 => false;
}

/// <summary>The same tests with bind mounts made as on kernels without mount_setattr (bind, reopen, verify, remount).</summary>
[Trait("Requires", "root")]
public sealed class MountTargetNoMountSetattrTests : MountTargetTests
{
    public MountTargetNoMountSetattrTests()
        : base(new RuntimeHarness())
    {
        Runtime.ExtraEnvironment[RootfsSetup.NoMountSetattrVariable] = "1";
    }
}
