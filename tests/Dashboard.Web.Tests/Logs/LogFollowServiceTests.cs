using Dashboard.Web.Engines;
using Dashboard.Web.Logs;
using Dashboard.Web.Model;
using Dashboard.Web.Tests.Fakes;

namespace Dashboard.Web.Tests.Logs;

public class LogFollowServiceTests
{
    private readonly FakeEngineClient _engine = new();
    private readonly LogFollowService _follows = new();

    [Fact]
    public async Task Follow_TwoFollowers_OneEngineStreamBothGetEveryLine()
    {
        var a = new Recorder();
        var b = new Recorder();
        using var subA = _follows.Follow(_engine, "c1", 100, a);
        using var subB = _follows.Follow(_engine, "c1", 100, b);

        await Write("one", "two");
        await WaitUntilAsync(() => a.Texts.Count == 2 && b.Texts.Count == 2);

        Assert.Equal(["one", "two"], a.Texts);
        Assert.Equal(["one", "two"], b.Texts);
        Assert.Equal(100, Assert.Single(_engine.LogTails));
        Assert.Equal(1, _follows.OpenFollows);
    }

    [Fact]
    public async Task Follow_LateFollower_GetsTheNewestTailLinesThenLiveOnes()
    {
        var early = new Recorder();
        using var subEarly = _follows.Follow(_engine, "c1", 3, early);
        await Write("l1", "l2", "l3", "l4", "l5");
        await WaitUntilAsync(() => early.Texts.Count == 5);

        var late = new Recorder();
        using var subLate = _follows.Follow(_engine, "c1", 3, late);
        await Write("l6");
        await WaitUntilAsync(() => late.Texts.Count == 4);

        // What a follow of its own with tail=3 would have sent: the newest three, then what came after.
        Assert.Equal(["l3", "l4", "l5", "l6"], late.Texts);
        Assert.Single(_engine.LogTails);
    }

    [Fact]
    public async Task Follow_DifferentTail_OpensItsOwnStream()
    {
        using var subA = _follows.Follow(_engine, "c1", 10, new Recorder());
        using var subB = _follows.Follow(_engine, "c2", 10, new Recorder());
        using var subC = _follows.Follow(_engine, "c1", 20, new Recorder());
        await WaitUntilAsync(() => _engine.LogTails.Count == 3);

        Assert.Equal(3, _follows.OpenFollows);
    }

    [Fact]
    public async Task LastFollowerLeaves_ClosesTheFollow_NextFollowOpensAFreshStream()
    {
        var a = new Recorder();
        var sub = _follows.Follow(_engine, "c1", 10, a);
        await WaitUntilAsync(() => _engine.LogTails.Count == 1);

        sub.Dispose();
        sub.Dispose();

        Assert.Equal(0, _follows.OpenFollows);
        using var again = _follows.Follow(_engine, "c1", 10, new Recorder());
        await WaitUntilAsync(() => _engine.LogTails.Count == 2);
        Assert.Equal(1, _follows.OpenFollows);
    }

    [Fact]
    public async Task StreamEnds_EveryFollowerIsTold_AndTheFollowIsForgotten()
    {
        var a = new Recorder();
        var b = new Recorder();
        using var subA = _follows.Follow(_engine, "c1", 10, a);
        using var subB = _follows.Follow(_engine, "c1", 10, b);

        _engine.LogWriter("c1").Complete();
        await WaitUntilAsync(() => a.Ended && b.Ended);

        Assert.Null(a.Error);
        Assert.Equal(0, _follows.OpenFollows);
    }

    [Fact]
    public async Task StreamFails_EveryFollowerGetsTheError()
    {
        var a = new Recorder();
        var b = new Recorder();
        using var subA = _follows.Follow(_engine, "c1", 10, a);
        using var subB = _follows.Follow(_engine, "c1", 10, b);

        _engine.LogWriter("c1").Complete(new EngineException(EngineErrorKind.NotFound, "logs of container c1: no such container"));
        await WaitUntilAsync(() => a.Ended && b.Ended);

        Assert.Equal("logs of container c1: no such container", a.Error?.Message);
        Assert.Equal("logs of container c1: no such container", b.Error?.Message);
    }

    [Fact]
    public async Task ViewModels_SharingAFollow_EachKeepTheirOwnBufferAndError()
    {
        await using var first = new LogViewerViewModel(_engine, "c1", new LogViewerOptions { BufferCapacity = 2 }, _follows);
        await using var second = new LogViewerViewModel(_engine, "c1", new LogViewerOptions(), _follows);
        first.Start();
        second.Start();

        await Write("a", "b", "c");
        await WaitUntilAsync(() => first.EvictedCount == 1 && second.Visible.Count == 3);
        _engine.LogWriter("c1").Complete(new EngineException(EngineErrorKind.Unavailable, "logs of container c1: engine local unreachable"));
        await WaitUntilAsync(() => first.Error is not null && second.Error is not null);

        Assert.Equal(["b", "c"], first.Visible.Select(e => e.Html));
        Assert.Equal(["a", "b", "c"], second.Visible.Select(e => e.Html));
        Assert.Equal("logs of container c1: engine local unreachable", second.Error);
        Assert.Single(_engine.LogTails);
    }

    private async Task Write(params string[] texts) =>
        await _engine.LogWriter("c1").WriteAsync(texts.Select(t => new LogLine(null, LogStream.Stdout, t)).ToList(), TestContext.Current.CancellationToken);

    private static Task WaitUntilAsync(Func<bool> condition) => Eventually.UntilAsync(condition);

    private sealed class Recorder : ILogFollower
    {
        private readonly Lock _lock = new();
        private readonly List<string> _texts = [];
        private volatile bool _ended;

        public List<string> Texts
        {
            get
            {
                lock (_lock)
                {
                    return [.. _texts];
                }
            }
        }

        public bool Ended => _ended;

        public Exception? Error { get; private set; }

        public void OnLines(IReadOnlyList<LogLine> lines)
        {
            lock (_lock)
            {
                _texts.AddRange(lines.Select(l => l.Text));
            }
        }

        public void OnEnded(Exception? error)
        {
            Error = error;
            _ended = true;
        }
    }
}
