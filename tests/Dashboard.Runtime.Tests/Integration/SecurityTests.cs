using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Tests.Integration;

/// <summary>security.md A1–A3: nothing of the host reaches the container.</summary>
[Trait("Requires", "root")]
public sealed class SecurityTests : IDisposable
{
    private readonly RuntimeHarness _rt = new();

    public void Dispose() => _rt.Dispose();

    [Fact]
    public void LeakedCallerFds_DoNotReachTheContainer_PreservedOnesDo()
    {
        var bundle = _rt.Bundle("sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '");
        // fds 3 and 4 are left open (not close-on-exec) by the caller; with --preserve-fds 1 only fd 3 may pass.
        var script = $"exec 3</etc/hostname 4</etc/hostname 7</etc/hostname 9</etc/passwd; exec {_rt.Binary} --root {_rt.StateRoot} run --preserve-fds 1 --bundle {bundle} {RuntimeHarness.NewId()}";
        var result = RuntimeHarness.RunWith("/bin/sh", ["-c", script]);
        Assert.Equal(0, result.ExitCode);
        // ls itself holds one fd for the directory it lists.
        var fds = result.Stdout.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        Assert.Equal([0, 1, 2, 3], fds.Where(fd => fd != fds.Max()).ToArray());
        Assert.True(fds.Max() <= 4);
    }

    [Fact]
    public void ReexecutedInit_RunsFromASealedMemfd_NotTheHostBinary()
    {
        using var rt = new RuntimeHarness(RuntimeHarness.FindPublishedRuntime());
        var id = RuntimeHarness.NewId();
        Assert.Equal(0, rt.Run("create", "--bundle", rt.Bundle("true"), id).ExitCode);
        var pid = RuntimeJson.ParseState(rt.Run("state", id).Stdout).Pid!.Value;
        var exe = File.ResolveLinkTarget($"/proc/{pid}/exe", false)!.ToString();
        Assert.StartsWith("/memfd:dashboard-runtime", exe, StringComparison.Ordinal);

        var fd = Sys.Open($"/proc/{pid}/exe", OpenFlags.O_RDONLY);
        try
        {
            Assert.Equal(ExeSeal.AllBaseSeals, ExeSeal.GetSeals(fd) & ExeSeal.AllBaseSeals);
        }
        finally
        {
            Sys.Close(fd);
        }

        AssertInitHoldsNothingOfTheHost(rt, pid);
        AssertExeCannotBeReopenedForWriting(rt, id, pid);
    }

    [Fact]
    public void InProcessInit_RunsFromTheImmutableBinary_WhichCannotBeWritten()
    {
        var id = RuntimeHarness.NewId();
        Assert.Equal(0, _rt.Run("create", "--bundle", _rt.Bundle("true"), id).ExitCode);
        var pid = RuntimeJson.ParseState(_rt.Run("state", id).Stdout).Pid!.Value;
        Assert.Equal(_rt.Binary, File.ResolveLinkTarget($"/proc/{pid}/exe", false)!.ToString());
        Assert.True(ExeSeal.SelfIsProtected($"/proc/{pid}/exe"));
        AssertInitHoldsNothingOfTheHost(_rt, pid);
        AssertExeCannotBeReopenedForWriting(_rt, id, pid);
    }

    [Fact]
    public void MutableBinary_IsNotTakenForProtected()
    {
        Assert.False(ExeSeal.SelfIsProtected(RuntimeHarness.FindPublishedRuntime()));
    }

    private static void AssertInitHoldsNothingOfTheHost(RuntimeHarness rt, int pid)
    {
        var status = File.ReadAllText($"/proc/{pid}/status");
        Assert.Contains("NoNewPrivs:\t0", status, StringComparison.Ordinal);
        var links = Directory.GetFileSystemEntries($"/proc/{pid}/fd").Select(p => File.ResolveLinkTarget(p, false)?.ToString() ?? "").ToArray();
        // The waiting init holds nothing of the host but the exec fifo handle (and stdio).
        Assert.DoesNotContain(links, l => l.StartsWith("/sys/fs/cgroup", StringComparison.Ordinal)
            || (l.StartsWith(rt.StateRoot, StringComparison.Ordinal) && !l.EndsWith("@exec.fifo", StringComparison.Ordinal)));
        Assert.True(links.Length <= 6, string.Join(", ", links));
    }

    // CVE-2019-5736's last step, done as host root: an O_PATH handle on /proc/<pid>/exe taken while
    // the process ran is reopened for writing after it exited. Seals or the immutable flag refuse it.
    private static void AssertExeCannotBeReopenedForWriting(RuntimeHarness rt, string id, int pid)
    {
        var handle = Sys.Open($"/proc/{pid}/exe", OpenFlags.O_PATH);
        try
        {
            Assert.False(CanWrite($"/proc/{pid}/exe"));
            Assert.Equal(0, rt.Run("delete", "-f", id).ExitCode);
            Assert.False(CanWrite($"/proc/self/fd/{handle}"));
        }
        finally
        {
            Sys.Close(handle);
        }
    }

    // A sealed memfd may be opened for writing, but every write fails; an immutable file refuses the open.
    private static bool CanWrite(string path)
    {
        var fd = Sys.TryOpen(path, OpenFlags.O_WRONLY);
        if (fd < 0)
        {
            return false;
        }

        try
        {
            Sys.WriteAll(fd, "x"u8, path);
            return true;
        }
        catch (Linux.SyscallException)
        {
            return false;
        }
        finally
        {
            Sys.Close(fd);
        }
    }

    [Fact]
    public void CwdThroughProcFd_InConfig_FailsStart()
    {
        for (var fd = 3; fd <= 8; fd++)
        {
            var bundle = _rt.Bundle(s =>
            {
                s.Process!.Args = ["pwd"];
                s.Process.Cwd = $"/proc/self/fd/{fd}";
            });
            var result = _rt.RunContainer(bundle);
            Assert.NotEqual(0, result.ExitCode);
        }
    }

    [Fact]
    public void ContainerMountinfo_HasNoHostRoot_AndMountingProcIsRefused()
    {
        var bundle = _rt.Bundle("sh", "-c", "cat /proc/self/mountinfo; mkdir -p /tmp/p; mount -t proc proc /tmp/p 2>/dev/null && echo mounted || echo refused");
        var result = _rt.RunContainer(bundle);
        Assert.Equal(0, result.ExitCode);
        Assert.EndsWith("refused", result.Stdout.Trim(), StringComparison.Ordinal);
        Assert.DoesNotContain(" / / ", result.Stdout.Split('\n').Where(l => l.Contains("/proc", StringComparison.Ordinal) && l.Contains(" - proc ", StringComparison.Ordinal) && !l.Contains(" /proc ", StringComparison.Ordinal)), StringComparer.Ordinal);
        var hostMounts = File.ReadAllLines("/proc/self/mountinfo").Length;
        Assert.True(result.Stdout.Split('\n').Length < hostMounts + 30);
    }
}
