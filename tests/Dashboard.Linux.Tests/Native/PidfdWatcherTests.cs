using System.Diagnostics;
using Dashboard.Linux.Native;

namespace Dashboard.Linux.Tests.Native;

public sealed class PidfdWatcherTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task WaitAsync_SeveralProcesses_EachCompletesWhenItsOwnExits()
    {
        using var watcher = new PidfdWatcher();
        using var quick = Start("0.2");
        using var slow = Start("30");
        var quickExit = watcher.WaitAsync(Sys.PidfdOpen(quick.Id));
        var slowExit = watcher.WaitAsync(Sys.PidfdOpen(slow.Id));

        await quickExit.WaitAsync(s_bound, TestContext.Current.CancellationToken);
        Assert.True(quick.WaitForExit(s_bound));
        Assert.False(slowExit.IsCompleted);
        Assert.Equal(1, watcher.Count);

        slow.Kill();
        await slowExit.WaitAsync(s_bound, TestContext.Current.CancellationToken);
        Assert.Equal(0, watcher.Count);
    }

    [Fact]
    public async Task WaitAsync_ProcessAlreadyExited_CompletesAtOnce()
    {
        using var watcher = new PidfdWatcher();
        using var done = Start("30");
        var pidfd = Sys.PidfdOpen(done.Id);
        done.Kill();
        done.WaitForExit();
        await watcher.WaitAsync(pidfd).WaitAsync(s_bound, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Dispose_WhileWaiting_CancelsAndClosesThePidfds()
    {
        using var sleeper = Start("30");
        var pidfd = Sys.PidfdOpen(sleeper.Id);
        Task exit;
        using (var watcher = new PidfdWatcher())
        {
            exit = watcher.WaitAsync(pidfd);
        }

        await Assert.ThrowsAsync<TaskCanceledException>(() => exit.WaitAsync(s_bound, TestContext.Current.CancellationToken));
        Assert.False(IsPidfd(pidfd), "the watcher left the pidfd open");
        sleeper.Kill();
        sleeper.WaitForExit();
    }

    [Fact]
    public void WaitAsync_AfterDispose_ThrowsAndClosesTheFd()
    {
        var watcher = new PidfdWatcher();
        watcher.Dispose();
        var pidfd = Sys.PidfdOpen(Environment.ProcessId);
        Assert.Throws<ObjectDisposedException>(() => { _ = watcher.WaitAsync(pidfd); });
        Assert.False(IsPidfd(pidfd), "the refused pidfd was left open");
    }

    /// <summary>Whether fd is an open pidfd (only this class opens pidfds in this test process, one test at a time).</summary>
    private static bool IsPidfd(int fd)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{fd}").LinkTarget?.Contains("pidfd", StringComparison.Ordinal) == true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static Process Start(string seconds)
    {
        var psi = new ProcessStartInfo("sleep") { ArgumentList = { seconds } };
        return Process.Start(psi)!;
    }
}
