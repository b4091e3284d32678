using Dashboard.Linux;
using Dashboard.Linux.Native;

namespace Dashboard.Shim;

/// <summary>
/// The container log in CRI format (<c>2026-11-29T10:00:00.123456700Z stdout F text</c>), one record per line;
/// a line longer than <see cref="MaxLine"/> becomes partial (<c>P</c>) records; rotation by size
/// (log → log.1 → … log.N-1). Same format and rules as Dashboard.Runtime's CriLogWriter, written for a
/// resident process: fixed buffers, no allocation per line or per read, one write(2) per read chunk
/// (or per <see cref="OutputSize"/> bytes). A failed write (disk full) drops the data and counts it:
/// the container is never blocked by its log (security.md E2).
/// </summary>
internal sealed class CriLogFile
{
    public const int MaxLine = 16 * 1024;
    private const int OutputSize = 128 * 1024;
    private const int StampLength = 30; // yyyy-MM-ddTHH:mm:ss.fffffffffZ

    private readonly string _path;
    private readonly long _maxSize;
    private readonly int _maxFiles;
    private readonly byte[] _output = new byte[OutputSize];
    private readonly byte[] _stamp = new byte[StampLength];
    private readonly byte[][] _pending = [[], new byte[MaxLine], new byte[MaxLine]];
    private readonly int[] _pendingLength = new int[3];
    private int _outputLength;
    private int _fd = -1;
    private ulong _ino;
    private long _size;

    public CriLogFile(string path, long maxSize, int maxFiles)
    {
        _path = path;
        _maxSize = maxSize <= 0 ? long.MaxValue : maxSize;
        _maxFiles = Math.Max(1, maxFiles);
        Open();
    }

    /// <summary>Bytes that could not be written (disk full, I/O error).</summary>
    public long DroppedBytes { get; private set; }

    /// <summary>
    /// Where the log ends now: the current file's inode and size (0, 0 when no file is open). Every output byte
    /// handed to <see cref="Write"/> so far is in the records before it, except <see cref="Pending"/>: the
    /// attach position hand-over (a reader replays up to here, an attached client gets the rest live).
    /// </summary>
    public (ulong Inode, long Offset) Position => _fd < 0 ? (0, 0) : (_ino, _size);

    /// <summary>The unterminated rest of <paramref name="stream"/>'s output, not yet in any record.</summary>
    public ReadOnlySpan<byte> Pending(int stream) => _pending[stream].AsSpan(0, _pendingLength[stream]);

    private void Open()
    {
        _fd = Sys.TryOpen(_path, OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_APPEND, 0x1a0 /* 0640 */);
        _size = 0;
        _ino = 0;
        if (_fd >= 0)
        {
            try
            {
                var st = Sys.StatFd(_fd);
                _size = (long)st.Size;
                _ino = st.Ino;
            }
            catch (SyscallException)
            {
                // Without a position an attach replays the whole log (ino 0).
            }
        }
    }

    /// <summary>Appends output of <paramref name="stream"/> (1 = stdout, 2 = stderr); complete lines are written at once.</summary>
    public void Write(int stream, ReadOnlySpan<byte> data)
    {
        Stamp();
        var pending = _pending[stream];
        while (true)
        {
            var newline = data.IndexOf((byte)'\n');
            if (newline < 0)
            {
                break;
            }

            AppendLine(stream, pending.AsSpan(0, _pendingLength[stream]), data[..newline], final: true);
            _pendingLength[stream] = 0;
            data = data[(newline + 1)..];
        }

        // An unterminated rest waits for its newline, but never grows past one record.
        while (_pendingLength[stream] + data.Length >= MaxLine)
        {
            var take = MaxLine - _pendingLength[stream];
            AppendLine(stream, pending.AsSpan(0, _pendingLength[stream]), data[..take], final: false);
            _pendingLength[stream] = 0;
            data = data[take..];
        }

        data.CopyTo(pending.AsSpan(_pendingLength[stream]));
        _pendingLength[stream] += data.Length;
        Emit();
    }

    /// <summary>Writes what is left of unterminated lines as partial records (on exit).</summary>
    public void Flush()
    {
        Stamp();
        for (var stream = 1; stream <= 2; stream++)
        {
            if (_pendingLength[stream] > 0)
            {
                AppendLine(stream, _pending[stream].AsSpan(0, _pendingLength[stream]), [], final: false);
                _pendingLength[stream] = 0;
            }
        }

        Emit();
    }

    public void Close()
    {
        Flush();
        Sys.Close(_fd);
        _fd = -1;
    }

    /// <summary>Records for the logical line <paramref name="a"/>+<paramref name="b"/>, in chunks of at most <see cref="MaxLine"/>.</summary>
    private void AppendLine(int stream, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, bool final)
    {
        var total = a.Length + b.Length;
        var offset = 0;
        do
        {
            var chunk = Math.Min(MaxLine, total - offset);
            var last = offset + chunk == total;
            if (_outputLength + StampLength + 10 + chunk + 1 > OutputSize)
            {
                Emit();
            }

            var o = _output.AsSpan(_outputLength);
            _stamp.CopyTo(o);
            var n = StampLength;
            (stream == 1 ? " stdout "u8 : " stderr "u8).CopyTo(o[n..]);
            n += 8;
            o[n++] = final && last ? (byte)'F' : (byte)'P';
            o[n++] = (byte)' ';
            var end = offset + chunk;
            if (offset < a.Length)
            {
                var fromA = Math.Min(end, a.Length) - offset;
                a.Slice(offset, fromA).CopyTo(o[n..]);
                n += fromA;
            }

            if (end > a.Length)
            {
                var fromB = Math.Max(offset, a.Length) - a.Length;
                var count = end - a.Length - fromB;
                b.Slice(fromB, count).CopyTo(o[n..]);
                n += count;
            }

            o[n++] = (byte)'\n';
            _outputLength += n;
            offset = end;
        }
        while (offset < total);
    }

    private void Emit()
    {
        if (_outputLength == 0)
        {
            return;
        }

        var length = _outputLength;
        _outputLength = 0;
        if (_size + length > _maxSize && _size > 0)
        {
            Rotate();
        }

        if (_fd < 0)
        {
            Open();
        }

        if (_fd < 0)
        {
            DroppedBytes += length;
            return;
        }

        var data = _output.AsSpan(0, length);
        while (data.Length > 0)
        {
            var n = ShimCalls.TryWrite(_fd, data);
            if (n <= 0)
            {
                DroppedBytes += data.Length;
                Sys.Close(_fd);
                _fd = -1;
                return;
            }

            _size += n;
            data = data[(int)n..];
        }
    }

    /// <summary>log → log.1 → … (renames keep every record in exactly one file; a follower reopens by name).</summary>
    private void Rotate()
    {
        Sys.Close(_fd);
        _fd = -1;
        if (_maxFiles == 1)
        {
            _ = ShimCalls.Unlink(_path);
        }
        else
        {
            for (var i = _maxFiles - 1; i >= 1; i--)
            {
                var from = i == 1 ? _path : _path + "." + Decimal(i - 1);
                // ENOENT (that generation does not exist yet) is fine; anything else keeps appending to the current file.
                _ = ShimCalls.Rename(from, _path + "." + Decimal(i));
            }
        }

        Open();
    }

    private static string Decimal(int value) => value switch
    {
        < 10 and >= 0 => ((char)('0' + value)).ToString(),
        _ => Decimal(value / 10) + ((char)('0' + (value % 10))).ToString(),
    };

    /// <summary>The current UTC time as the record timestamp (100 ns resolution, nanosecond digits as CRI writes them).</summary>
    private void Stamp() => FormatTime(DateTime.UtcNow, _stamp, nanoseconds: true);

    /// <summary>ISO 8601 UTC: 9 fractional digits for log records, 7 for the exit file (DateTimeOffset's own precision).</summary>
    public static int FormatTime(DateTime t, Span<byte> o, bool nanoseconds)
    {
        Digits(o, 0, t.Year, 4);
        o[4] = (byte)'-';
        Digits(o, 5, t.Month, 2);
        o[7] = (byte)'-';
        Digits(o, 8, t.Day, 2);
        o[10] = (byte)'T';
        Digits(o, 11, t.Hour, 2);
        o[13] = (byte)':';
        Digits(o, 14, t.Minute, 2);
        o[16] = (byte)':';
        Digits(o, 17, t.Second, 2);
        o[19] = (byte)'.';
        Digits(o, 20, (int)(t.Ticks % TimeSpan.TicksPerSecond), 7);
        var n = 27;
        if (nanoseconds)
        {
            o[n++] = (byte)'0';
            o[n++] = (byte)'0';
        }

        o[n++] = (byte)'Z';
        return n;
    }

    private static void Digits(Span<byte> o, int at, int value, int width)
    {
        for (var i = width - 1; i >= 0; i--)
        {
            o[at + i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }
}
