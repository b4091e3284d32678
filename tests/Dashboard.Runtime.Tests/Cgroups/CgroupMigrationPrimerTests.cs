using System.Diagnostics;
using Dashboard.Linux.Native;
using Dashboard.Runtime.Cgroups;
using Dashboard.Testing;

namespace Dashboard.Runtime.Tests.Cgroups;

/// <summary>
/// <see cref="CgroupMigrationPrimer.KeepWarmUntilReadable"/>, as the standby shim runs it while it waits for its
/// request: it ends when the fd is readable or the budget is spent, and moves nothing meanwhile.
/// </summary>
public sealed class CgroupMigrationPrimerTests
{
    [Fact]
    public async Task KeepWarm_DataArrivesLater_ReturnsWithTheDataUnreadAndOurCgroupsUnchanged()
    {
        Requires.Root();
        var host = CgroupHost.Current();
        var cgroupsBefore = File.ReadAllText("/proc/self/cgroup");
        var (read, write) = Sys.Pipe();
        try
        {
            var token = TestContext.Current.CancellationToken;
            var writer = Task.Run(
                async () =>
                {
                    await Task.Delay(100, token);
                    Sys.WriteAll(write, "x"u8);
                },
                token);
            var watch = Stopwatch.StartNew();
            CgroupMigrationPrimer.KeepWarmUntilReadable(host, read, 60_000);

            // Returned because of the data, long before the budget; the data is left for the caller to read.
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"returned after {watch.Elapsed}");
            await writer;
            Assert.Equal(Sys.POLLIN, Sys.PollOne(read, Sys.POLLIN, 0) & Sys.POLLIN);
            Assert.Equal(cgroupsBefore, File.ReadAllText("/proc/self/cgroup"));
        }
        finally
        {
            Sys.Close(read);
            Sys.Close(write);
        }
    }

    [Fact]
    public void KeepWarm_NothingArrives_ReturnsWhenTheBudgetIsSpent()
    {
        Requires.Root();
        var host = CgroupHost.Current();
        var (read, write) = Sys.Pipe();
        try
        {
            var watch = Stopwatch.StartNew();
            CgroupMigrationPrimer.KeepWarmUntilReadable(host, read, 50);
            Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(50), $"returned after {watch.Elapsed}");
            Assert.Equal(0, Sys.PollOne(read, Sys.POLLIN, 0));
        }
        finally
        {
            Sys.Close(read);
            Sys.Close(write);
        }
    }

    [Fact]
    public void KeepWarm_WriterClosed_ReturnsAtOnceOnTheEof()
    {
        var (read, write) = Sys.Pipe();
        Sys.Close(write);
        try
        {
            var watch = Stopwatch.StartNew();
            CgroupMigrationPrimer.KeepWarmUntilReadable(CgroupHost.Current(), read, 60_000);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"returned after {watch.Elapsed}");
        }
        finally
        {
            Sys.Close(read);
        }
    }
}
