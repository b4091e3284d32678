using Dashboard.Web.Engines;
using Dashboard.Web.Logs;

namespace Dashboard.Web.Tests.Logs;

public class LogBufferTests
{
    [Fact]
    public void Add_BeyondCapacity_EvictsOldestAndCounts()
    {
        var buffer = new LogBuffer(3);

        for (var i = 1; i <= 5; i++)
        {
            buffer.Add(new LogEntry(i, LogEntryKind.Line, null, LogStream.Stdout, $"l{i}", 0));
        }

        Assert.Equal(3, buffer.Count);
        Assert.Equal(2, buffer.Evicted);
        Assert.Equal(["l3", "l4", "l5"], buffer.Snapshot(_ => true).Select(e => e.Html));
    }

    [Fact]
    public void Add_EvictingSkippedMarker_CountsItsLines()
    {
        var buffer = new LogBuffer(1);

        buffer.Add(LogEntry.Skipped(1, 40));
        buffer.Add(new LogEntry(2, LogEntryKind.Line, null, LogStream.Stdout, "x", 0));

        Assert.Equal(40, buffer.Evicted);
    }
}
