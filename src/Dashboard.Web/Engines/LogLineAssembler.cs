using System.Globalization;
using System.Text;

namespace Dashboard.Web.Engines;

/// <summary>
/// Splits one output stream's bytes into lines. Decodes UTF-8 across chunk boundaries (invalid bytes become
/// U+FFFD) and caps a line at <see cref="MaxLineLength"/> characters so a 10 MB line cannot exhaust memory
/// (security.md D8, E2).
/// </summary>
public sealed class LogLineAssembler
{
    public const int MaxLineLength = 16 * 1024;

    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
    private readonly StringBuilder _pending = new();
    private readonly LogStream _stream;
    private readonly bool _timestamps;
    private char[] _chars = new char[4096];
    private long _droppedChars;

    public LogLineAssembler(LogStream stream, bool timestamps)
    {
        _stream = stream;
        _timestamps = timestamps;
    }

    public void Append(ReadOnlySpan<byte> bytes, List<LogLine> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var max = _decoder.GetCharCount(bytes, flush: false);
        if (_chars.Length < max)
        {
            _chars = new char[Math.Max(max, _chars.Length * 2)];
        }

        var count = _decoder.GetChars(bytes, _chars, flush: false);
        var span = _chars.AsSpan(0, count);
        while (!span.IsEmpty)
        {
            var nl = span.IndexOf('\n');
            var piece = nl < 0 ? span : span[..nl];
            AppendCapped(piece);
            if (nl < 0)
            {
                break;
            }

            Emit(output);
            span = span[(nl + 1)..];
        }
    }

    /// <summary>Emits the unterminated last line, if any (end of stream).</summary>
    public void Flush(List<LogLine> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Span<char> rest = stackalloc char[8];
        var n = _decoder.GetChars(ReadOnlySpan<byte>.Empty, rest, flush: true);
        AppendCapped(rest[..n]);
        if (_pending.Length > 0 || _droppedChars > 0)
        {
            Emit(output);
        }
    }

    private void AppendCapped(ReadOnlySpan<char> piece)
    {
        var room = MaxLineLength - _pending.Length;
        if (piece.Length <= room)
        {
            _pending.Append(piece);
        }
        else
        {
            _pending.Append(piece[..Math.Max(room, 0)]);
            _droppedChars += piece.Length - Math.Max(room, 0);
        }
    }

    private void Emit(List<LogLine> output)
    {
        var text = _pending.ToString();
        _pending.Clear();
        if (_droppedChars > 0)
        {
            text += $" [{_droppedChars} more characters not shown]";
            _droppedChars = 0;
        }

        DateTimeOffset? timestamp = null;
        if (_timestamps)
        {
            var space = text.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && space <= 40 && TryParseTimestamp(text.AsSpan(0, space), out var ts))
            {
                timestamp = ts;
                text = text[(space + 1)..];
            }
        }

        output.Add(new LogLine(timestamp, _stream, text));
    }

    /// <summary>Parses RFC 3339 with up to nanosecond precision (Docker's <c>timestamps=1</c> and the CRI log format).</summary>
    public static bool TryParseTimestamp(ReadOnlySpan<char> value, out DateTimeOffset timestamp)
    {
        var dot = value.IndexOf('.');
        if (dot > 0 && value.Length <= 40)
        {
            var end = dot + 1;
            while (end < value.Length && char.IsAsciiDigit(value[end]))
            {
                end++;
            }

            // DateTimeOffset parses at most 7 fractional digits; the engine writes 9.
            var fraction = Math.Min(end - dot - 1, 7);
            var normalized = string.Concat(value[..(dot + 1 + fraction)], value[end..]);
            return DateTimeOffset.TryParse(normalized, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out timestamp);
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out timestamp);
    }
}
