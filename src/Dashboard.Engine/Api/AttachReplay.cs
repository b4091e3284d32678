using Dashboard.Engine.Logs;
using Dashboard.Linux;
using Dashboard.Linux.Native;

namespace Dashboard.Engine.Api;

/// <summary>
/// Replays a container's log up to the position its shim handed over on attach (<see cref="Exec.ShimControl.PositionFrame"/>):
/// the file with that inode up to that byte offset, after the older rotated files. Records go out as the container wrote
/// them (a partial record without its newline), so the shim's live output continues the replay byte for byte.
/// </summary>
internal static class AttachReplay
{
    private const int BatchBytes = 32 * 1024;
    private const int OpenAttempts = 5;

    public static async Task ReplayToAsync(string logPath, ulong inode, long offset, long? sinceNano, bool stdout, bool stderr, StreamMux mux, CancellationToken ct)
    {
        if (!stdout && !stderr)
        {
            return;
        }

        var files = OpenUpTo(logPath, inode, offset);
        try
        {
            var batch = new Batch(mux);
            foreach (var (file, limit) in files)
            {
                await CopyRecordsAsync(file, limit, sinceNano, stdout, stderr, batch, ct);
            }

            await batch.FlushAsync(ct);
        }
        finally
        {
            foreach (var (file, _) in files)
            {
                await file.DisposeAsync();
            }
        }
    }

    /// <summary>The log files to replay, oldest first, each with how many bytes of it to read.</summary>
    private static List<(FileStream File, long Limit)> OpenUpTo(string logPath, ulong inode, long offset)
    {
        for (var attempt = 0; attempt < OpenAttempts; attempt++)
        {
            var opened = new List<(string Path, FileStream File, ulong Inode)>();
            foreach (var path in CriLog.Files(logPath))
            {
                try
                {
                    var file = new FileStream(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 0 });
                    opened.Add((path, file, Sys.StatFd((int)file.SafeFileHandle.DangerousGetHandle()).Ino));
                }
                catch (Exception e) when (e is FileNotFoundException or SyscallException)
                {
                }
            }

            // A rotation while the files were opened shifts their names, so one could be missed or read twice: list them again.
            if (!opened.TrueForAll(o => Sys.TryStat(o.Path, follow: true, out var st) && st.Ino == o.Inode))
            {
                opened.ForEach(o => o.File.Dispose());
                continue;
            }

            var at = inode == 0 ? opened.Count - 1 : opened.FindIndex(o => o.Inode == inode);

            // Not found: the shim rotated that file away since (a full rotation cycle), so every file left holds later output only.
            var keep = at + 1;
            opened.Skip(keep).ToList().ForEach(o => o.File.Dispose());
            return [.. opened.Take(keep).Select((o, i) => (o.File, inode != 0 && i == at ? offset : long.MaxValue))];
        }

        return [];
    }

    private static async Task CopyRecordsAsync(FileStream file, long limit, long? sinceNano, bool stdout, bool stderr, Batch batch, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        var carry = new List<byte>();
        var left = limit;
        while (left > 0)
        {
            var n = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), ct);
            if (n <= 0)
            {
                break;
            }

            left -= n;
            var start = 0;
            for (var i = 0; i < n; i++)
            {
                if (buffer[i] != (byte)'\n')
                {
                    continue;
                }

                if (carry.Count > 0)
                {
                    carry.AddRange(buffer.AsSpan(start, i - start));
                    await AddAsync(carry.ToArray());
                    carry.Clear();
                }
                else
                {
                    await AddAsync(buffer.AsMemory(start, i - start));
                }

                start = i + 1;
            }

            carry.AddRange(buffer.AsSpan(start, n - start));
        }

        // An unterminated last record (the shim writing it right now) is after the position anyway.
        async Task AddAsync(ReadOnlyMemory<byte> record)
        {
            if (CriLog.ParseRecord(record.Span) is not { } r
                || (r.Stream == CriLog.StdoutStream && !stdout)
                || (r.Stream == CriLog.StderrStream && !stderr)
                || (sinceNano is { } since && r.TimeNano < since))
            {
                return;
            }

            await batch.AddAsync(r.Stream, r.Content, !r.Partial, ct);
        }
    }

    /// <summary>Joins consecutive records of one stream into one client frame.</summary>
    private sealed class Batch(StreamMux mux)
    {
        private readonly MemoryStream _data = new();
        private int _stream;

        public async Task AddAsync(int stream, byte[] content, bool newline, CancellationToken ct)
        {
            if (stream != _stream || _data.Length >= BatchBytes)
            {
                await FlushAsync(ct);
                _stream = stream;
            }

            _data.Write(content);
            if (newline)
            {
                _data.WriteByte((byte)'\n');
            }
        }

        public async Task FlushAsync(CancellationToken ct)
        {
            if (_data.Length > 0)
            {
                await mux.WriteAsync(_stream, _data.ToArray(), ct);
                _data.SetLength(0);
            }
        }
    }
}
