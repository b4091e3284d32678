using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Threading.Channels;

namespace Dashboard.Images.Layers;

/// <summary>
/// Reads its source (a decompressor) on another thread into a few 1 MiB buffers, so decompression
/// overlaps the extractor's file writes (DESIGN.md §5: "decompress on another thread"). Errors of
/// the source surface on the reader's next read; disposing stops the producer. With a
/// <see cref="Hash"/>, the producer also hashes every chunk before handing it over, so the diff_id
/// digest is computed on the decompressing thread, not the extracting one; buffers are recycled
/// (a 1 MiB array per chunk would churn the large object heap).
/// </summary>
internal sealed class ReadAheadStream : Stream
{
    private const int ChunkSize = 1 << 20;

    private readonly Stream _source;
    private readonly Channel<(byte[] Buffer, int Length)> _chunks = Channel.CreateBounded<(byte[], int)>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
    private readonly ConcurrentBag<byte[]> _free = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _producer;
    private byte[]? _current;
    private int _offset;
    private int _length;
    private bool _done;

    public ReadAheadStream(Stream source, IncrementalHash? hash = null)
    {
        _source = source;
        Hash = hash;
        _producer = Task.Run(ProduceAsync);
    }

    /// <summary>Hashes everything the source produced; complete once a read returned 0.</summary>
    public IncrementalHash? Hash { get; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        while (_current is null || _offset == _length)
        {
            if (_done)
            {
                return 0;
            }

            if (!_chunks.Reader.TryRead(out var chunk))
            {
                if (!_chunks.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                {
                    _done = true;

                    // Completed with an error: rethrow the source's exception here, on the reader.
                    _chunks.Reader.Completion.GetAwaiter().GetResult();
                    return 0;
                }

                continue;
            }

            if (_current is not null)
            {
                _free.Add(_current);
            }

            _current = chunk.Buffer;
            _offset = 0;
            _length = chunk.Length;
        }

        var n = Math.Min(buffer.Length, _length - _offset);
        _current.AsSpan(_offset, n).CopyTo(buffer);
        _offset += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stop.Cancel();
            try
            {
                _producer.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
            }

            _source.Dispose();
            _stop.Dispose();
        }

        base.Dispose(disposing);
    }

    private async Task ProduceAsync()
    {
        try
        {
            while (true)
            {
                var buffer = _free.TryTake(out var recycled) ? recycled : new byte[ChunkSize];
                var n = await _source.ReadAtLeastAsync(buffer, ChunkSize, throwOnEndOfStream: false, _stop.Token);
                if (n > 0)
                {
                    Hash?.AppendData(buffer, 0, n);
                    await _chunks.Writer.WriteAsync((buffer, n), _stop.Token);
                }

                if (n < ChunkSize)
                {
                    _chunks.Writer.TryComplete();
                    return;
                }
            }
        }
        catch (Exception e)
        {
            _chunks.Writer.TryComplete(e);
        }
    }
}
