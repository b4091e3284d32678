using System.Text;
using Dashboard.Web.Engines;

namespace Dashboard.Web.Tests.Engines;

public class LogLineAssemblerTests
{
    [Fact]
    public void Append_LinesSplitAcrossChunks_AreJoined()
    {
        var assembler = new LogLineAssembler(LogStream.Stdout, timestamps: false);
        var lines = new List<LogLine>();

        assembler.Append("hel"u8, lines);
        assembler.Append("lo\nwor"u8, lines);
        assembler.Append("ld\n"u8, lines);

        Assert.Equal(["hello", "world"], lines.Select(l => l.Text));
    }

    [Fact]
    public void Append_MultiByteCharacterSplitAcrossChunks_IsDecoded()
    {
        var bytes = Encoding.UTF8.GetBytes("é😀\n");
        var assembler = new LogLineAssembler(LogStream.Stdout, timestamps: false);
        var lines = new List<LogLine>();

        foreach (var b in bytes)
        {
            assembler.Append([b], lines);
        }

        Assert.Equal("é😀", Assert.Single(lines).Text);
    }

    [Fact]
    public void Append_InvalidUtf8_BecomesReplacementCharacter()
    {
        var assembler = new LogLineAssembler(LogStream.Stderr, timestamps: false);
        var lines = new List<LogLine>();

        assembler.Append([0x61, 0xff, 0xfe, 0x62, 0x0a], lines);

        var line = Assert.Single(lines);
        Assert.Equal(LogStream.Stderr, line.Stream);
        Assert.Equal("a\ufffd\ufffdb", line.Text);
    }

    [Fact]
    public void Append_HugeLine_IsTruncatedWithCount()
    {
        var assembler = new LogLineAssembler(LogStream.Stdout, timestamps: false);
        var lines = new List<LogLine>();
        var chunk = Encoding.ASCII.GetBytes(new string('x', 1024 * 1024));

        for (var i = 0; i < 10; i++)
        {
            assembler.Append(chunk, lines);
        }

        assembler.Append("\nnext\n"u8, lines);

        Assert.Equal(2, lines.Count);
        Assert.StartsWith(new string('x', LogLineAssembler.MaxLineLength), lines[0].Text, StringComparison.Ordinal);
        Assert.EndsWith($"[{(10 * 1024 * 1024) - LogLineAssembler.MaxLineLength} more characters not shown]", lines[0].Text, StringComparison.Ordinal);
        Assert.Equal("next", lines[1].Text);
    }

    [Fact]
    public void Append_TimestampPrefix_IsParsedWithNanoseconds()
    {
        var assembler = new LogLineAssembler(LogStream.Stdout, timestamps: true);
        var lines = new List<LogLine>();

        assembler.Append("2026-11-29T10:00:00.123456789Z hello world\n"u8, lines);

        var line = Assert.Single(lines);
        Assert.Equal("hello world", line.Text);
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 10, 0, 0, TimeSpan.Zero).AddTicks(1234567), line.Timestamp);
    }

    [Fact]
    public void Flush_UnterminatedLastLine_IsEmitted()
    {
        var assembler = new LogLineAssembler(LogStream.Stdout, timestamps: false);
        var lines = new List<LogLine>();

        assembler.Append("tail"u8, lines);
        assembler.Flush(lines);

        Assert.Equal("tail", Assert.Single(lines).Text);
    }
}
