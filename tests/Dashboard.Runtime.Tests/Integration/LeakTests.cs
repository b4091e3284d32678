using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Tests.Integration;

[Trait("Requires", "root")]
public sealed class LeakTests : IDisposable
{
    private const int Cycles = 500;

    private readonly RuntimeHarness _rt = new();

    public void Dispose() => _rt.Dispose();

    /// <summary>
    /// issue 2 "Leaks": 500 create/start/kill/delete cycles leave no mounts, cgroups, fds (of this
    /// process, which drives the runtime), zombies or state directories. Every cycle is checked for
    /// its own state directory and cgroups; the totals are compared with a baseline at the end.
    /// </summary>
    [Fact]
    public void CreateStartKillDelete_500Cycles_LeaveNothingBehind()
    {
        var parent = $"/dashboard-test/leak-{Guid.NewGuid():N}"[..36];
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["sleep", "60"];
            s.Linux!.CgroupsPath = parent + "/warmup";
        });
        var config = Path.Combine(bundle, "config.json");
        var spec = RuntimeJson.ParseSpec(File.ReadAllText(config));
        var hierarchies = Directory.GetDirectories("/sys/fs/cgroup");

        try
        {
            // One cycle first, so lazily opened fds of this process (thread pool, epoll) are in the baseline.
            Cycle(bundle, "warmup");
            var mountsBefore = File.ReadAllLines("/proc/self/mountinfo").Length;
            var fdsBefore = Directory.GetFileSystemEntries("/proc/self/fd").Length;

            for (var i = 0; i < Cycles; i++)
            {
                var id = $"leak{i}";
                var cgroupsPath = $"{parent}/{id}";
                spec.Linux!.CgroupsPath = cgroupsPath;
                File.WriteAllText(config, RuntimeJson.Serialize(spec));
                Cycle(bundle, id);
                Assert.False(Directory.Exists(Path.Combine(_rt.StateRoot, id)), $"cycle {i}: state directory left behind");
                foreach (var hierarchy in hierarchies)
                {
                    Assert.False(Directory.Exists(hierarchy + cgroupsPath), $"cycle {i}: cgroup {hierarchy}{cgroupsPath} left behind");
                }
            }

            Assert.Empty(Directory.GetDirectories(_rt.StateRoot));
            // Other tests and other users of the machine mount and unmount meanwhile: mounts that involve
            // our paths must all be gone, and the whole table must not have grown by anything near one per cycle.
            var mountsAfter = File.ReadAllLines("/proc/self/mountinfo").Length;
            Assert.True(mountsAfter - mountsBefore < Cycles / 10, $"host mounts grew from {mountsBefore} to {mountsAfter}");
            Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), l => l.Contains(bundle, StringComparison.Ordinal) || l.Contains(_rt.StateRoot, StringComparison.Ordinal));
            // Tests of other classes run in this process meanwhile and hold fds for a while; a leak per cycle would be hundreds.
            var fdsAfter = Directory.GetFileSystemEntries("/proc/self/fd").Length;
            Assert.True(fdsAfter - fdsBefore < Cycles / 10, $"fds of the test process grew from {fdsBefore} to {fdsAfter}");
            foreach (var hierarchy in hierarchies.Where(h => Directory.Exists(h + parent)))
            {
                Assert.Empty(Directory.GetDirectories(hierarchy + parent));
            }

            var zombies = Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _))
                .Select(d => Linux.Native.ProcFs.ReadStat(int.Parse(Path.GetFileName(d), System.Globalization.CultureInfo.InvariantCulture)))
                .Count(s => s is { State: 'Z' } stat && stat.Ppid == Environment.ProcessId);
            Assert.Equal(0, zombies);
        }
        finally
        {
            foreach (var hierarchy in hierarchies)
            {
                foreach (var dir in new[] { hierarchy + parent + "/warmup", hierarchy + parent })
                {
                    try
                    {
                        Directory.Delete(dir);
                    }
                    catch (IOException)
                    {
                    }
                }
            }
        }
    }

    private void Cycle(string bundle, string id)
    {
        Assert.Equal(0, _rt.Run("create", "--bundle", bundle, id).ExitCode);
        Assert.Equal(0, _rt.Run("start", id).ExitCode);
        Assert.Equal(0, _rt.Run("kill", id, "KILL").ExitCode);
        Assert.Equal(0, _rt.Run("delete", "--force", id).ExitCode);
    }
}
