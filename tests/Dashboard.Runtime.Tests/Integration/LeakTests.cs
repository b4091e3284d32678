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
                Assert.False(_rt.StateLeft(id), $"cycle {i}: state left behind");
                foreach (var hierarchy in hierarchies)
                {
                    Assert.False(Directory.Exists(hierarchy + cgroupsPath), $"cycle {i}: cgroup {hierarchy}{cgroupsPath} left behind");
                }
            }

            Assert.Empty(Directory.GetFileSystemEntries(_rt.StateRoot));
            // Other tests and other users of the machine mount and unmount meanwhile: mounts that involve
            // our paths must all be gone, and the whole table must not have grown by anything near one per cycle.
            var mountsAfter = Settled(() => File.ReadAllLines("/proc/self/mountinfo").Length, mountsBefore);
            Assert.True(mountsAfter - mountsBefore < Cycles / 10, $"host mounts grew from {mountsBefore} to {mountsAfter}");
            Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), l => l.Contains(bundle, StringComparison.Ordinal) || l.Contains(_rt.StateRoot, StringComparison.Ordinal));
            // Tests of other classes run in this process meanwhile and hold fds for a while; a leak per cycle would be hundreds.
            var fdsAfter = Settled(() => Directory.GetFileSystemEntries("/proc/self/fd").Length, fdsBefore);
            Assert.True(fdsAfter - fdsBefore < Cycles / 10, $"fds of the test process grew from {fdsBefore} to {fdsAfter}");
            foreach (var hierarchy in hierarchies.Where(h => Directory.Exists(h + parent)))
            {
                Assert.Empty(Directory.GetDirectories(hierarchy + parent));
            }

            // A child that another test of this process just ran is a zombie until .NET reaps it (on SIGCHLD, on
            // another thread, later under load); a leaked one stays: only zombies still there after a bounded wait count.
            var zombies = ZombieChildren();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (zombies.Count > 0 && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
                zombies.IntersectWith(ZombieChildren());
            }

            Assert.Empty(zombies);
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

    /// <summary>
    /// The count once it is within the bound of <paramref name="before"/>, or the last count after 20 s: what other
    /// tests hold for a while goes away, a leak of one per cycle does not.
    /// </summary>
    private static int Settled(Func<int> count, int before)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var now = count();
        while (now - before >= Cycles / 10 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(200);
            now = count();
        }

        return now;
    }

    private static HashSet<(int Pid, ulong StartTime)> ZombieChildren() =>
        Directory.GetDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0)
            .Select(pid => (Pid: pid, Stat: Linux.Native.ProcFs.ReadStat(pid)))
            .Where(p => p.Stat is { State: 'Z' } stat && stat.Ppid == Environment.ProcessId)
            .Select(p => (p.Pid, p.Stat!.Value.StartTime))
            .ToHashSet();

    private void Cycle(string bundle, string id)
    {
        Assert.Equal(0, _rt.Run("create", "--bundle", bundle, id).ExitCode);
        Assert.Equal(0, _rt.Run("start", id).ExitCode);
        Assert.Equal(0, _rt.Run("kill", id, "KILL").ExitCode);
        Assert.Equal(0, _rt.Run("delete", "--force", id).ExitCode);
    }
}
