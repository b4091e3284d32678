using System.Text;
using Dashboard.Linux;
using Dashboard.Linux.Native;

namespace Dashboard.Runtime.Shim;

/// <summary>
/// Writes container output as CRI log records (<c>2026-11-29T10:00:00.000000000Z stdout F text</c>),
/// one per line; a line longer than <see cref="MaxLine"/> becomes partial (<c>P</c>) records.
/// Rotates by size (log, log.1, … log.N-1). A write that fails (disk full) drops the data and
/// counts it: the container is never blocked by its log (security.md E2).
/// </summary>
public sealed class CriLogWriter : IDisposable
{
    public const int MaxLine = 16 * 1024;

    private readonly string _path;
    private readonly long _maxSize;
    private readonly int _maxFiles;
    private readonly byte[][] _pending = [[], [], []];
    private FileStream? _file;
    private ulong _inode;
    private long _size;

    public CriLogWriter(string path, long maxSize, int maxFiles)
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
    public (ulong Inode, long Offset) Position => _file is null ? (0, 0) : (_inode, _size);

    /// <summary>The unterminated rest of <paramref name="stream"/>'s output, not yet in any record.</summary>
    public ReadOnlySpan<byte> Pending(int stream) => _pending[stream];

    private void Open()
    {
        try
        {
            _file = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
            _size = _file.Length;
            _inode = 0;
            try
            {
                _inode = Sys.StatFd((int)_file.SafeFileHandle.DangerousGetHandle()).Ino;
            }
            catch (SyscallException)
            {
                // Without a position an attach replays the whole log (inode 0).
            }
        }
        catch (IOException)
        {
            _file = null;
        }
    }

    /// <summary>Appends output of <paramref name="stream"/> (1 = stdout, 2 = stderr); complete lines are written at once.</summary>
    public void Write(int stream, ReadOnlySpan<byte> data)
    {
        var now = DateTime.UtcNow;
        var pending = _pending[stream];
        var output = new MemoryStream();
        var start = 0;
        for (var i = 0; i < data.Length; i++)
        {
            if (data[i] == (byte)'\n')
            {
                var line = Concat(pending, data[start..i]);
                pending = [];
                AppendRecords(output, now, stream, line, final: true);
                start = i + 1;
            }
        }

        pending = Concat(pending, data[start..]);
        while (pending.Length >= MaxLine)
        {
            AppendRecords(output, now, stream, pending.AsSpan(0, MaxLine), final: false);
            pending = pending[MaxLine..];
        }

        _pending[stream] = pending;
        Emit(output);
    }

    /// <summary>Writes what is left of unterminated lines as partial records (on exit).</summary>
    public void Flush()
    {
        var output = new MemoryStream();
        for (var stream = 1; stream <= 2; stream++)
        {
            if (_pending[stream].Length > 0)
            {
                AppendRecords(output, DateTime.UtcNow, stream, _pending[stream], final: false);
                _pending[stream] = [];
            }
        }

        Emit(output);
    }

    private static byte[] Concat(byte[] a, ReadOnlySpan<byte> b)
    {
        if (a.Length == 0)
        {
            return b.ToArray();
        }

        var result = new byte[a.Length + b.Length];
        a.CopyTo(result, 0);
        b.CopyTo(result.AsSpan(a.Length));
        return result;
    }

    private static void AppendRecords(MemoryStream output, DateTime time, int stream, ReadOnlySpan<byte> line, bool final)
    {
        while (true)
        {
            var chunk = line.Length > MaxLine ? line[..MaxLine] : line;
            var last = chunk.Length == line.Length;
            var header = $"{time:yyyy-MM-ddTHH:mm:ss.fffffff}00Z {(stream == 1 ? "stdout" : "stderr")} {(final && last ? 'F' : 'P')} ";
            output.Write(Encoding.ASCII.GetBytes(header));
            output.Write(chunk);
            output.WriteByte((byte)'\n');
            if (last)
            {
                break;
            }

            line = line[MaxLine..];
        }
    }

    private void Emit(MemoryStream output)
    {
        if (output.Length == 0)
        {
            return;
        }

        if (_size + output.Length > _maxSize && _size > 0)
        {
            Rotate();
        }

        if (_file is null)
        {
            Open();
        }

        if (_file is null)
        {
            DroppedBytes += output.Length;
            return;
        }

        try
        {
            _file.Write(output.GetBuffer(), 0, (int)output.Length);
            _size += output.Length;
        }
        catch (IOException)
        {
            DroppedBytes += output.Length;
            _file.Dispose();
            _file = null;
        }
    }

    /// <summary>log → log.1 → … (renames keep every record in exactly one file; a follower reopens by name).</summary>
    private void Rotate()
    {
        _file?.Dispose();
        _file = null;
        try
        {
            if (_maxFiles == 1)
            {
                File.Delete(_path);
            }
            else
            {
                for (var i = _maxFiles - 1; i >= 1; i--)
                {
                    var from = i == 1 ? _path : $"{_path}.{i - 1}";
                    if (File.Exists(from))
                    {
                        File.Move(from, $"{_path}.{i}", overwrite: true);
                    }
                }
            }
        }
        catch (IOException)
        {
            // Rotation failed (disk trouble): keep appending to the current file.
        }

        Open();
    }

    public void Dispose()
    {
        Flush();
        _file?.Dispose();
    }
}
