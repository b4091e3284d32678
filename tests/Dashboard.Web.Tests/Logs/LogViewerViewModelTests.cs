using Dashboard.Web.Engines;
using Dashboard.Web.Logs;
using Dashboard.Web.Model;
using Dashboard.Web.Tests.Fakes;

namespace Dashboard.Web.Tests.Logs;

public class LogViewerViewModelTests
{
    private readonly FakeEngineClient _engine = new();

    [Fact]
    public async Task Start_RequestsTailThenFollows()
    {
        await using var vm = Create(new LogViewerOptions());
        vm.Start();
        await _engine.LogWriter("c1").WriteAsync([Line("first")], TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => vm.Visible.Count == 1);

        await _engine.LogWriter("c1").WriteAsync([Line("second"), Line("third", LogStream.Stderr)], TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => vm.Visible.Count == 3);

        Assert.Equal(1000, Assert.Single(_engine.LogTails));
        Assert.Equal(["first", "second", "third"], vm.Visible.Select(e => e.Html));
    }

    [Fact]
    public async Task Append_ConvertsToSafeHtml()
    {
        await using var vm = Create(new LogViewerOptions());
        vm.Start();

        await _engine.LogWriter("c1").WriteAsync([Line("\x1b[31m<b>x</b>")], TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => vm.Visible.Count == 1);

        Assert.Equal("<span class=\"ansi-fg-1\">&lt;b&gt;x&lt;/b&gt;</span>", vm.Visible[0].Html);
    }

    [Fact]
    public async Task Append_BeyondBufferCapacity_CountsEvicted()
    {
        await using var vm = Create(new LogViewerOptions { BufferCapacity = 5 });
        vm.Start();

        await _engine.LogWriter("c1").WriteAsync(Enumerable.Range(0, 20).Select(i => Line($"l{i}")).ToList(), TestContext.Current.CancellationToken);
        // The eviction count and the visible rows are published one after the other: wait for both.
        await WaitUntilAsync(() => vm.EvictedCount == 15 && vm.Visible.Count == 5);

        Assert.Equal(["l15", "l16", "l17", "l18", "l19"], vm.Visible.Select(e => e.Html));
    }

    [Fact]
    public async Task Append_ReaderFallsBehind_InsertsSkippedMarker()
    {
        await using var vm = Create(new LogViewerOptions { ChannelCapacity = 10, BatchInterval = TimeSpan.FromMilliseconds(300) });
        vm.Start();
        await _engine.LogWriter("c1").WriteAsync([Line("first")], TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => vm.Visible.Count == 1);

        // The drain sleeps for the batch interval now, so 100 lines overflow the 10-line channel.
        await _engine.LogWriter("c1").WriteAsync(Enumerable.Range(0, 100).Select(i => Line($"l{i}")).ToList(), TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => vm.Visible.Any(e => e.Kind == LogEntryKind.Skipped));
        await WaitUntilAsync(() => vm.Visible.Count(e => e.Kind == LogEntryKind.Line) + vm.Visible.Where(e => e.Kind == LogEntryKind.Skipped).Sum(e => e.SkippedCount) == 101);

        Assert.Equal("l99", vm.Visible[^1].Html);
        Assert.True(vm.Visible.Where(e => e.Kind == LogEntryKind.Skipped).Sum(e => e.SkippedCount) >= 90 - 10);
    }

    [Fact]
    public async Task ShowStderr_False_HidesStderrLines()
    {
        await using var vm = Create(new LogViewerOptions());
        vm.Start();
        await _engine.LogWriter("c1").WriteAsync([Line("out"), Line("err", LogStream.Stderr)], TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => vm.Visible.Count == 2);

        vm.ShowStderr = false;

        Assert.Equal(["out"], vm.Visible.Select(e => e.Html));
        vm.ShowStderr = true;
        vm.ShowStdout = false;
        Assert.Equal(["err"], vm.Visible.Select(e => e.Html));
    }

    [Fact]
    public async Task Paused_NewLinesCountedNotShown_UntilResumed()
    {
        await using var vm = Create(new LogViewerOptions());
        vm.Start();
        await _engine.LogWriter("c1").WriteAsync([Line("a")], TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => vm.Visible.Count == 1);

        vm.Paused = true;
        await _engine.LogWriter("c1").WriteAsync([Line("b"), Line("c")], TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => vm.PendingWhilePaused == 2);
        Assert.Single(vm.Visible);

        vm.Paused = false;

        Assert.Equal(["a", "b", "c"], vm.Visible.Select(e => e.Html));
        Assert.Equal(0, vm.PendingWhilePaused);
    }

    [Fact]
    public async Task EngineError_IsExposedAsMessage()
    {
        await using var vm = Create(new LogViewerOptions());
        vm.Start();

        _engine.LogWriter("c1").Complete(new EngineException(EngineErrorKind.NotFound, "logs of container c1: no such container"));
        await WaitUntilAsync(() => vm.Error is not null);

        Assert.Equal("logs of container c1: no such container", vm.Error);
    }

    [Fact]
    public async Task StreamEnd_SetsEnded()
    {
        await using var vm = Create(new LogViewerOptions());
        vm.Start();

        _engine.LogWriter("c1").Complete();
        await WaitUntilAsync(() => vm.Ended);

        Assert.Null(vm.Error);
    }

    private LogViewerViewModel Create(LogViewerOptions options) => new(_engine, "c1", options);

    private static LogLine Line(string text, LogStream stream = LogStream.Stdout) => new(DateTimeOffset.UnixEpoch, stream, text);

    private static Task WaitUntilAsync(Func<bool> condition) => Eventually.UntilAsync(condition);
}
