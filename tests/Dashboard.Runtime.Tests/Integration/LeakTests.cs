using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Tests.Integration;

[Trait("Requires", "root")]
public sealed class LeakTests : IDisposable
{
    private readonly RuntimeHarness _rt = new();

    public void Dispose() => _rt.Dispose();

    /// <summary>500 create/start/kill/delete cycles leave no mounts, cgroups, zombies or state directories.</summary>
    [Fact]
    public void CreateStartKillDelete_500Cycles_LeaveNothingBehind()
    {
        var parent = "/sys/fs/cgroup/memory/dashboard-test-leak";
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["sleep", "60"];
            s.Linux!.CgroupsPath = null;
        });
        var mountsBefore = File.ReadAllLines("/proc/self/mountinfo").Length;
        var cgroupsBefore = Directory.Exists("/sys/fs/cgroup/memory/dashboard") ? Directory.GetDirectories("/sys/fs/cgroup/memory/dashboard").Length : 0;
        for (var i = 0; i < 500; i++)
        {
            var id = $"leak{i}";
            Assert.Equal(0, _rt.Run("create", "--bundle", bundle, id).ExitCode);
            Assert.Equal(0, _rt.Run("start", id).ExitCode);
            Assert.Equal(0, _rt.Run("kill", id, "KILL").ExitCode);
            Assert.Equal(0, _rt.Run("delete", "--force", id).ExitCode);
        }

        Assert.Empty(Directory.GetDirectories(_rt.StateRoot));
        Assert.Equal(mountsBefore, File.ReadAllLines("/proc/self/mountinfo").Length);
        Assert.Equal(cgroupsBefore, Directory.Exists("/sys/fs/cgroup/memory/dashboard") ? Directory.GetDirectories("/sys/fs/cgroup/memory/dashboard").Length : 0);
        // Each verb is a short-lived process, so its fds cannot pile up; what reaches the container is checked in SecurityTests.
        var zombies = Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _))
            .Select(d => Linux.Native.ProcFs.ReadStat(int.Parse(Path.GetFileName(d))))
            .Count(s => s is { State: 'Z' } stat && stat.Ppid == Environment.ProcessId);
        Assert.Equal(0, zombies);
        Assert.False(Directory.Exists(parent));
    }
}
