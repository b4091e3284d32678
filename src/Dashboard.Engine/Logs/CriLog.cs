using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Dashboard.Engine.Logs;

/// <summary>One line of container output: a full line ends with '\n'; a line cut at the size cap does not.</summary>
public sealed record LogLine(long TimeNano, int Stream, byte[] Content);

public sealed record LogReadOptions
{
    /// <summary>Only the last N lines; null = all.</summary>
    public int? Tail { get; init; }
    public long? SinceNano { get; init; }
    public long? UntilNano { get; init; }
    public bool Stdout { get; init; } = true;
    public bool Stderr { get; init; } = true;
    public bool Follow { get; init; }
}

/// <summary>
/// Reads the CRI-format log files a shim writes (<c>2026-11-29T10:00:00.000000000Z stdout F text</c>;
/// <c>P</c> marks a partial record, continued by the next record of the same stream), oldest rotated
/// file first (<c>LOG.N … LOG.1, LOG</c>). A follower keeps its open handle when the shim renames
/// <c>LOG</c> to <c>LOG.1</c>, drains it, then opens the new <c>LOG</c> from its start, so it sees every
/// record once (security.md E2 a).
/// </summary>
public static class CriLog
{
    /// <summary>A reassembled line longer than this is passed on in pieces (bounds memory on 100 MB lines: E2 b).</summary>
    public const int MaxLineBytes = 1024 * 1024;

    public const int StdoutStream = 1;
    public const int StderrStream = 2;

    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Poll interval of a follower whose log grew within <see cref="s_activeWindow"/>: a container that is writing
    /// gets its lines to the reader within ~20 ms instead of ~100 ms (issue 5's log latency), an idle one costs
    /// no more than before.
    /// </summary>
    private static readonly TimeSpan s_activePollInterval = TimeSpan.FromMilliseconds(20);

    private static readonly TimeSpan s_activeWindow = TimeSpan.FromSeconds(2);

    /// <summary>The log files of <paramref name="logPath"/>, oldest first.</summary>
    public static IReadOnlyList<string> Files(string logPath)
    {
        var rotated = new List<(int N, string Path)>();
        var dir = Path.GetDirectoryName(logPath)!;
        var name = Path.GetFileName(logPath) + ".";
        if (Directory.Exists(dir))
        {
            foreach (var file in Directory.EnumerateFiles(dir, name + "*"))
            {
                var fileName = Path.GetFileName(file);

                // Directory patterns keep DOS semantics: "LOG.*" also matches "LOG" itself.
                if (fileName.Length <= name.Length)
                {
                    continue;
                }

                var suffix = fileName[name.Length..];
                if (int.TryParse(suffix, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
                {
                    rotated.Add((n, file));
                }
            }
        }

        var result = rotated.OrderByDescending(r => r.N).Select(r => r.Path).ToList();
        if (File.Exists(logPath))
        {
            result.Add(logPath);
        }

        return result;
    }

    /// <summary>
    /// Lines of the log in order. With <see cref="LogReadOptions.Follow"/>, keeps reading new records
    /// until <paramref name="stopped"/> completes (then drains what is left) or the token is cancelled.
    /// </summary>
    public static async IAsyncEnumerable<LogLine> ReadAsync(
        string logPath,
        LogReadOptions options,
        Task? stopped = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var assembler = new Assembler(options);
        var files = Files(logPath);
        FileStream? current = null;
        var carry = new List<byte>();
        try
        {
            for (var i = 0; i < files.Count; i++)
            {
                FileStream stream;
                try
                {
                    stream = Open(files[i]);
                }
                catch (FileNotFoundException)
                {
                    continue;
                }

                carry.Clear();
                ReadAvailable(stream, carry, assembler);
                if (files[i] == logPath)
                {
                    current = stream;
                }
                else
                {
                    await stream.DisposeAsync();
                }
            }

            var backlog = assembler.Drain();
            IEnumerable<LogLine> initial = options.Tail is { } tail ? backlog.Skip(Math.Max(0, backlog.Count - tail)) : backlog;
            if (options.Tail == 0)
            {
                initial = [];
            }

            foreach (var line in initial)
            {
                yield return line;
            }

            if (!options.Follow)
            {
                yield break;
            }

            var finalPass = false;
            var lastData = 0L;
            while (!cancellationToken.IsCancellationRequested)
            {
                if (current is null)
                {
                    try
                    {
                        current = Open(logPath);
                        carry.Clear();
                    }
                    catch (FileNotFoundException)
                    {
                    }
                }

                if (current is not null)
                {
                    ReadAvailable(current, carry, assembler);
                    if (RotatedTo(current, logPath) is { } renamedTo)
                    {
                        // The shim renamed our file: anything written before the rename is in it (drained now). If it was
                        // renamed more than once (LOG.N), the files rotated in between are read whole, then the new LOG.
                        ReadAvailable(current, carry, assembler);
                        await current.DisposeAsync();
                        current = null;
                        for (var n = RotationIndex(renamedTo, logPath) - 1; n >= 1; n--)
                        {
                            try
                            {
                                await using var between = Open($"{logPath}.{n.ToString(CultureInfo.InvariantCulture)}");
                                carry.Clear();
                                ReadAvailable(between, carry, assembler);
                            }
                            catch (FileNotFoundException)
                            {
                            }
                        }

                        foreach (var line in assembler.Drain())
                        {
                            yield return line;
                        }

                        continue;
                    }
                }

                var drained = assembler.Drain();
                if (drained.Count > 0)
                {
                    lastData = Stopwatch.GetTimestamp();
                }

                foreach (var line in drained)
                {
                    yield return line;
                }

                if (finalPass)
                {
                    yield break;
                }

                if (stopped is { IsCompleted: true })
                {
                    finalPass = true;
                    continue;
                }

                try
                {
                    var delay = Task.Delay(Stopwatch.GetElapsedTime(lastData) < s_activeWindow ? s_activePollInterval : s_pollInterval, cancellationToken);
                    await (stopped is null ? delay : Task.WhenAny(delay, stopped));
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }
            }
        }
        finally
        {
            if (current is not null)
            {
                await current.DisposeAsync();
            }
        }
    }

    private static FileStream Open(string path) =>
        new(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 0 });

    /// <summary>The file's new name when the path no longer names the file we hold open (/proc/self/fd shows the current name of an open file).</summary>
    private static string? RotatedTo(FileStream stream, string logPath)
    {
        var fd = stream.SafeFileHandle.DangerousGetHandle().ToInt64();
        try
        {
            var target = new FileInfo($"/proc/self/fd/{fd.ToString(CultureInfo.InvariantCulture)}").LinkTarget;
            return target is not null && target != logPath ? target : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>N of <c>LOG.N</c>; 0 when the file was deleted or renamed elsewhere.</summary>
    private static int RotationIndex(string renamedTo, string logPath) =>
        renamedTo.StartsWith(logPath + ".", StringComparison.Ordinal)
        && int.TryParse(renamedTo.AsSpan(logPath.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : 0;

    /// <summary>Reads complete lines from the stream's current position; an unterminated tail stays in <paramref name="carry"/> and the position is kept after it.</summary>
    private static void ReadAvailable(FileStream stream, List<byte> carry, Assembler assembler)
    {
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            var start = 0;
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != (byte)'\n')
                {
                    continue;
                }

                if (carry.Count > 0)
                {
                    carry.AddRange(buffer.AsSpan(start, i - start));
                    assembler.Add(carry.ToArray());
                    carry.Clear();
                }
                else
                {
                    assembler.Add(buffer.AsSpan(start, i - start));
                }

                start = i + 1;
            }

            carry.AddRange(buffer.AsSpan(start, read - start));
        }
    }

    /// <summary>Parses <c>TIMESTAMP STREAM TAG CONTENT</c>; null for a malformed record.</summary>
    public static (long TimeNano, int Stream, bool Partial, byte[] Content)? ParseRecord(ReadOnlySpan<byte> record)
    {
        var sp1 = record.IndexOf((byte)' ');
        if (sp1 <= 0 || !TryParseTimestamp(Encoding.ASCII.GetString(record[..sp1]), out var time))
        {
            return null;
        }

        var rest = record[(sp1 + 1)..];
        var sp2 = rest.IndexOf((byte)' ');
        if (sp2 <= 0)
        {
            return null;
        }

        var stream = rest[..sp2].SequenceEqual("stdout"u8) ? StdoutStream : rest[..sp2].SequenceEqual("stderr"u8) ? StderrStream : 0;
        if (stream == 0)
        {
            return null;
        }

        rest = rest[(sp2 + 1)..];
        var sp3 = rest.IndexOf((byte)' ');
        var tag = sp3 < 0 ? rest : rest[..sp3];
        var content = sp3 < 0 ? [] : rest[(sp3 + 1)..].ToArray();

        // The tag may carry more flags after ':' (CRI "F", "P"; containerd reserves the rest).
        var partial = tag.Length > 0 && tag[0] == (byte)'P';
        return (time, stream, partial, content);
    }

    /// <summary>Parses RFC 3339 with up to 9 fraction digits into nanoseconds since the epoch.</summary>
    public static bool TryParseTimestamp(string text, out long nano)
    {
        nano = 0;
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        long fraction = 0;
        var wholeText = text;
        if (dot > 0)
        {
            var end = dot + 1;
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
            }

            var digits = text[(dot + 1)..end];
            if (digits.Length is 0 or > 9)
            {
                return false;
            }

            fraction = long.Parse(digits.PadRight(9, '0'), CultureInfo.InvariantCulture);
            wholeText = text[..dot] + text[end..];
        }

        if (!DateTimeOffset.TryParse(wholeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var whole))
        {
            return false;
        }

        nano = (whole.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerSecond * 1_000_000_000 + fraction;
        return true;
    }

    /// <summary>RFC3339Nano as Docker prints it in <c>logs --timestamps</c> (always 9 digits).</summary>
    public static string FormatTimestamp(long nano)
    {
        var seconds = Math.DivRem(nano, 1_000_000_000, out var fraction);
        if (fraction < 0)
        {
            seconds--;
            fraction += 1_000_000_000;
        }

        var time = DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime;
        return time.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + "." + fraction.ToString("D9", CultureInfo.InvariantCulture) + "Z";
    }

    /// <summary>Joins partial records into lines per stream and applies the stream and time filters.</summary>
    private sealed class Assembler(LogReadOptions options)
    {
        private readonly List<LogLine> _ready = [];
        private readonly MemoryStream?[] _pending = new MemoryStream?[3];
        private readonly long[] _pendingTime = new long[3];

        public void Add(ReadOnlySpan<byte> record)
        {
            if (ParseRecord(record) is not { } r)
            {
                return;
            }

            var pending = _pending[r.Stream];
            if (pending is null)
            {
                pending = _pending[r.Stream] = new MemoryStream();
                _pendingTime[r.Stream] = r.TimeNano;
            }

            pending.Write(r.Content);
            if (!r.Partial)
            {
                pending.WriteByte((byte)'\n');
                Emit(r.Stream);
            }
            else if (pending.Length >= MaxLineBytes)
            {
                Emit(r.Stream);
            }
        }

        public List<LogLine> Drain()
        {
            var lines = _ready.ToList();
            _ready.Clear();
            return lines;
        }

        private void Emit(int stream)
        {
            var pending = _pending[stream]!;
            _pending[stream] = null;
            var time = _pendingTime[stream];
            if ((stream == StdoutStream && !options.Stdout) || (stream == StderrStream && !options.Stderr))
            {
                return;
            }

            if ((options.SinceNano is { } since && time < since) || (options.UntilNano is { } until && time > until))
            {
                return;
            }

            _ready.Add(new LogLine(time, stream, pending.ToArray()));
        }
    }
}
