using Bunit;
using Dashboard.Web.Components.Controls;
using Dashboard.Web.Engines;
using Dashboard.Web.Logs;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components.Web.Virtualization;

namespace Dashboard.Web.Tests.Components;

public class LogViewerTests : DashboardTestContext
{
    [Fact]
    public async Task Render_TailThenFollow_ShowsLinesInOrder()
    {
        var cut = RenderViewer();

        await Write(Line("one"), Line("two"));
        cut.WaitForAssertion(() => Assert.Equal(["one", "two"], Lines(cut)), Wait);
        await Write(Line("three", LogStream.Stderr));

        cut.WaitForAssertion(() => Assert.Equal(["one", "two", "three"], Lines(cut)), Wait);
        Assert.Single(cut.FindAll(".log-stderr"));
        Assert.Equal(1000, Assert.Single(Engine.LogTails));
    }

    [Fact]
    public async Task HostileCorpus_RendersNoActiveContent()
    {
        var cut = RenderViewer();

        await Write(AnsiHostile().Select(t => Line(t)).ToArray());

        cut.WaitForAssertion(() => Assert.Equal(AnsiHostile().Length, cut.FindAll("[data-testid=log-line]").Count), Wait);
        var lines = cut.Find("[data-testid=log-lines]");
        Assert.Empty(lines.QuerySelectorAll("script, img, svg, a, iframe, object"));
        Assert.All(lines.QuerySelectorAll("*"), e =>
            Assert.All(e.Attributes, a => Assert.Contains(a.Name, new[] { "class", "style", "data-testid", "role", "aria-live", "blazor:elementreference" })));
        Assert.Contains("<script>alert(1)</script>", lines.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("\x1b", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnsiColours_BecomeSpans()
    {
        var cut = RenderViewer();

        await Write(Line("\x1b[31merror\x1b[0m done"));

        cut.WaitForAssertion(() => Assert.Equal("error", cut.Find(".log-text .ansi-fg-1").TextContent), Wait);
    }

    [Fact]
    public async Task TimestampsToggle_ShowsAndHidesTimes()
    {
        var cut = RenderViewer();
        await Write(new LogLine(new DateTimeOffset(2026, 11, 30, 7, 0, 0, TimeSpan.Zero), LogStream.Stdout, "x"));
        cut.WaitForAssertion(() => Assert.Single(Lines(cut)), Wait);
        Assert.Empty(cut.FindAll("[data-testid=log-ts]"));

        cut.Change("[data-testid=toggle-timestamps] input, input[data-testid=toggle-timestamps]", true);

        cut.WaitForAssertion(() => Assert.Equal("2026-11-30 07:00:00.000", cut.Find("[data-testid=log-ts]").TextContent.Trim()), Wait);
    }

    [Fact]
    public async Task StderrFilter_HidesStderr()
    {
        var cut = RenderViewer();
        await Write(Line("out"), Line("err", LogStream.Stderr));
        cut.WaitForAssertion(() => Assert.Equal(2, Lines(cut).Count), Wait);

        cut.Change("[data-testid=toggle-stderr] input, input[data-testid=toggle-stderr]", false);

        cut.WaitForAssertion(() => Assert.Equal(["out"], Lines(cut)), Wait);
    }

    [Fact]
    public async Task Pause_HoldsViewAndCountsNewLines_ResumeShowsThem()
    {
        var cut = RenderViewer();
        await Write(Line("a"));
        cut.WaitForAssertion(() => Assert.Single(Lines(cut)), Wait);

        // Awaited: a click still queued behind a render would let "b" and "c" in before the pause.
        await cut.Find("[data-testid=toggle-pause]").ClickAsync(new());
        await Write(Line("b"), Line("c"));

        cut.WaitForAssertion(() => Assert.Equal("2 new lines while paused", cut.Find("[data-testid=log-pending]").TextContent), Wait);
        Assert.Equal(["a"], Lines(cut));
        cut.Click("[data-testid=toggle-pause]");
        cut.WaitForAssertion(() => Assert.Equal(["a", "b", "c"], Lines(cut)), Wait);
    }

    [Fact]
    public async Task BoundedBuffer_ShowsSkippedMarker()
    {
        var cut = RenderViewer(new LogViewerOptionsBuilder { BufferCapacity = 10 }.Build());

        await Write(Enumerable.Range(0, 25).Select(i => Line($"l{i}")).ToArray());

        // The eviction count and the visible rows are published one after the other: wait for both.
        cut.WaitForAssertion(
            () =>
            {
                Assert.StartsWith("15 earlier lines skipped", cut.Find("[data-testid=log-evicted]").TextContent, StringComparison.Ordinal);
                Assert.Equal(10, Lines(cut).Count);
            },
            Wait);
    }

    [Fact]
    public async Task ManyLines_Following_RendersOnlyTheNewestRows()
    {
        var cut = RenderViewer();

        await Write(Enumerable.Range(0, 500).Select(i => Line($"l{i}")).ToArray());

        // The count and the rendered window may come from different renders: wait for both.
        cut.WaitForAssertion(
            () =>
            {
                Assert.Equal("500 lines", cut.Find("[data-testid=log-count]").TextContent);
                Assert.Equal("l499", Lines(cut)[^1]);
            },
            Wait);
        var lines = Lines(cut);
        Assert.Equal(LogViewer.VirtualizeAbove, lines.Count);
        Assert.Equal($"l{500 - LogViewer.VirtualizeAbove}", lines[0]);
    }

    [Fact]
    public async Task ManyLines_Following_NewBatchSlidesTheWindow()
    {
        var cut = RenderViewer();
        await Write(Enumerable.Range(0, 300).Select(i => Line($"l{i}")).ToArray());
        cut.WaitForAssertion(() => Assert.Equal("l299", Lines(cut)[^1]), Wait);

        await Write(Line("l300"), Line("l301"));

        cut.WaitForAssertion(() => Assert.Equal("l301", Lines(cut)[^1]), Wait);
        Assert.Equal(Enumerable.Range(102, LogViewer.VirtualizeAbove).Select(i => $"l{i}"), Lines(cut));
    }

    [Fact]
    public async Task ManyLines_ScrolledBack_AreVirtualized_ReturningFollowsAgain()
    {
        var cut = RenderViewer();
        await Write(Enumerable.Range(0, 500).Select(i => Line($"l{i}")).ToArray());
        cut.WaitForAssertion(() => Assert.Equal("500 lines", cut.Find("[data-testid=log-count]").TextContent), Wait);
        var lines = cut.FindComponent<LogLines>();

        await cut.InvokeAsync(() => lines.Instance.SetFollowing(false, 100));

        Assert.NotNull(cut.FindComponent<Virtualize<LogEntry>>());
        Assert.True(Lines(cut).Count < 500);
        // The row that was 100 px into the newest-rows window stays under the viewport: 300 rows further down the whole log.
        var scroll = Assert.Single(JSInterop.Invocations, i => i.Identifier == "dashboard.scrollLogTo");
        Assert.Equal((300 * LogLines.RowHeight) + 100.0, scroll.Arguments[1]);

        await cut.InvokeAsync(() => lines.Instance.SetFollowing(true, 0));

        Assert.Empty(cut.FindComponents<Virtualize<LogEntry>>());
        Assert.Equal("l499", Lines(cut)[^1]);
    }

    [Fact]
    public async Task TwoViewers_SameContainer_ShareOneEngineFollow()
    {
        var first = RenderViewer();
        await Write(Line("a"));
        first.WaitForAssertion(() => Assert.Equal(["a"], Lines(first)), Wait);

        var second = RenderViewer();
        second.WaitForAssertion(() => Assert.Equal(["a"], Lines(second)), Wait);
        await Write(Line("b"));

        first.WaitForAssertion(() => Assert.Equal(["a", "b"], Lines(first)), Wait);
        second.WaitForAssertion(() => Assert.Equal(["a", "b"], Lines(second)), Wait);
        Assert.Equal(1000, Assert.Single(Engine.LogTails));
        Assert.Equal(1, Follows.OpenFollows);

        await DisposeComponentsAsync();

        Assert.Equal(0, Follows.OpenFollows);
    }

    [Fact]
    public void Authorize_Throws_StreamNeverOpens()
    {
        var cut = Render<LogViewer>(p => p
            .Add(c => c.Client, Engine)
            .Add(c => c.ContainerId, "c1")
            .Add(c => c.Authorize, _ => throw new DashboardForbiddenException("read logs of container local/c1: permission denied")));

        Assert.Equal("read logs of container local/c1: permission denied", cut.Find("[data-testid=log-error]").TextContent.Trim());
        Assert.Empty(Engine.LogTails);
    }

    [Fact]
    public void EngineFailure_IsShown()
    {
        var cut = RenderViewer();

        Engine.LogWriter("c1").Complete(new EngineException(EngineErrorKind.Unavailable, "logs of container c1: engine local unreachable"));

        cut.WaitForAssertion(() => Assert.Equal("logs of container c1: engine local unreachable", cut.Find("[data-testid=log-error]").TextContent.Trim()), Wait);
    }

    [Fact]
    public async Task Dispose_StopsFollowing()
    {
        var cut = RenderViewer();
        await Write(Line("a"));
        cut.WaitForAssertion(() => Assert.Single(Lines(cut)), Wait);

        await DisposeComponentsAsync();

        Assert.True(Engine.LogWriter("c1").TryWrite([Line("after")]));
    }

    private static string[] AnsiHostile() =>
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "\"><svg onload=alert(1)>",
        "\x1b]8;;javascript:alert(1)\x1b\\click\x1b]8;;\x1b\\",
        "\x1b]52;c;ZXZpbA==\a",
        "\x1b[2J\x1b[Hfake",
        "\x1bP1$q\x1b\\dcs",
        "\x1b[31;<script>m",
        "\u202eevil\u202c",
    ];

    private IRenderedComponent<LogViewer> RenderViewer(Dashboard.Web.Model.LogViewerOptions? options = null) =>
        Render<LogViewer>(p =>
        {
            p.Add(c => c.Client, Engine).Add(c => c.ContainerId, "c1");
            if (options is not null)
            {
                p.Add(c => c.Options, options);
            }
        });

    private async Task Write(params LogLine[] lines) =>
        await Engine.LogWriter("c1").WriteAsync(lines, Xunit.TestContext.Current.CancellationToken);

    private static LogLine Line(string text, LogStream stream = LogStream.Stdout) => new(null, stream, text);

    private static List<string> Lines(IRenderedComponent<LogViewer> cut) =>
        cut.FindAll("[data-testid=log-line]").Select(e => e.TextContent).ToList();

    private sealed class LogViewerOptionsBuilder
    {
        public int BufferCapacity { get; init; } = 10_000;

        public Dashboard.Web.Model.LogViewerOptions Build() => new() { BufferCapacity = BufferCapacity };
    }
}
