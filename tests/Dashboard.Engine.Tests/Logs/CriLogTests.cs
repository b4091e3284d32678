using System.Text;
using Dashboard.Engine.Logs;
using Dashboard.Engine.Tests.Fakes;

namespace Dashboard.Engine.Tests.Logs;

public sealed class CriLogTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "del-" + Guid.NewGuid().ToString("N")[..10]);

    public CriLogTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string LogPath => Path.Combine(_dir, "container.log");

    private static async Task<List<LogLine>> ReadAllAsync(string path, LogReadOptions options, Task? stopped = null)
    {
        var lines = new List<LogLine>();
        await foreach (var line in CriLog.ReadAsync(path, options, stopped, TestContext.Current.CancellationToken))
        {
            lines.Add(line);
        }

        return lines;
    }

    private static string Text(LogLine line) => Encoding.UTF8.GetString(line.Content);

    [Fact]
    public void ParseRecord_FieldsAndPartialTag()
    {
        var r = CriLog.ParseRecord("2026-11-29T10:00:00.000000001Z stderr P some text"u8)!.Value;
        Assert.Equal(CriLog.StderrStream, r.Stream);
        Assert.True(r.Partial);
        Assert.Equal("some text", Encoding.UTF8.GetString(r.Content));
        Assert.Equal(1, r.TimeNano % 1_000_000_000);
        Assert.Null(CriLog.ParseRecord("garbage"u8));
        Assert.Equal("2026-11-29T10:00:00.000000001Z", CriLog.FormatTimestamp(r.TimeNano));
    }

    [Fact]
    public async Task Read_PartialRecords_JoinedPerStream()
    {
        var w = new CriLogWriter(LogPath);
        w.Write("stdout", "hel", partial: true);
        w.Write("stderr", "err");
        w.Write("stdout", "lo");
        var lines = await ReadAllAsync(LogPath, new LogReadOptions());
        Assert.Equal(["err\n", "hello\n"], lines.Select(Text));
        Assert.Equal([CriLog.StderrStream, CriLog.StdoutStream], lines.Select(l => l.Stream));
    }

    [Fact]
    public async Task Read_RotatedFiles_OldestFirst_TailAcrossFiles()
    {
        var w = new CriLogWriter(LogPath, maxSize: 200, maxFiles: 4);
        for (var i = 0; i < 12; i++)
        {
            w.Write("stdout", $"n{i:D2}");
        }

        Assert.True(File.Exists(LogPath + ".2"));
        var all = await ReadAllAsync(LogPath, new LogReadOptions());
        var kept = all.Select(Text).ToList();
        Assert.Equal(kept.OrderBy(s => s, StringComparer.Ordinal), kept);
        Assert.Equal("n11\n", kept[^1]);
        var tail = await ReadAllAsync(LogPath, new LogReadOptions { Tail = 5 });
        Assert.Equal(["n07\n", "n08\n", "n09\n", "n10\n", "n11\n"], tail.Select(Text));
    }

    [Fact]
    public async Task Read_SinceUntilAndStreamFilters()
    {
        var w = new CriLogWriter(LogPath);
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 5; i++)
        {
            w.Write(i % 2 == 0 ? "stdout" : "stderr", $"m{i}", time: t0.AddSeconds(i));
        }

        var since = (t0.AddSeconds(1).ToUnixTimeMilliseconds()) * 1_000_000;
        var until = (t0.AddSeconds(3).ToUnixTimeMilliseconds()) * 1_000_000;
        Assert.Equal(["m1\n", "m2\n", "m3\n"], (await ReadAllAsync(LogPath, new LogReadOptions { SinceNano = since, UntilNano = until })).Select(Text));
        Assert.Equal(["m1\n", "m3\n"], (await ReadAllAsync(LogPath, new LogReadOptions { Stdout = false })).Select(Text));
    }

    [Fact]
    public async Task Follow_RotationWhileReading_NoLossNoDuplicate()
    {
        var w = new CriLogWriter(LogPath, maxSize: 300, maxFiles: 5);
        w.Write("stdout", "start");
        var stopped = new TaskCompletionSource();
        var lines = new List<LogLine>();
        var reader = Task.Run(
            async () =>
            {
                await foreach (var line in CriLog.ReadAsync(LogPath, new LogReadOptions { Follow = true }, stopped.Task, TestContext.Current.CancellationToken))
                {
                    lock (lines)
                    {
                        lines.Add(line);
                    }
                }
            },
            TestContext.Current.CancellationToken);
        int Read()
        {
            lock (lines)
            {
                return lines.Count;
            }
        }

        // ~50-byte records, 6 per file, 5 files kept: each batch of 10 is read before the next is written (a reader
        // stalled for longer than the kept files last loses what rotated away, as any follower would).
        for (var i = 0; i < 60; i++)
        {
            w.Write("stdout", $"line-{i:D3}");
            if (i % 10 == 0)
            {
                var expected = i + 2;
                await Lifecycle.Poll.UntilAsync(() => Task.FromResult(Read() >= expected), TimeSpan.FromSeconds(30), $"{expected} lines");
            }
        }

        await Lifecycle.Poll.UntilAsync(() => Task.FromResult(Read() >= 61), TimeSpan.FromSeconds(30), "all lines");
        stopped.SetResult();
        await reader.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(["start\n", .. Enumerable.Range(0, 60).Select(i => $"line-{i:D3}\n")], lines.Select(Text));
    }
}
