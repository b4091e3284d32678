using System.Runtime.ExceptionServices;
using System.Security.Cryptography;

namespace Dashboard.Images.Layers;

/// <summary>
/// Decompresses the layers of one unpack, in order, on a dedicated thread, and hands each layer's
/// tar to the extractor as a <see cref="LayerTarStream"/> (DESIGN.md §5: decompress on another
/// thread). The thread moves on to the next layer as soon as the previous one is decompressed, not
/// when it is applied, so a layer the extractor is slow on (many small files) overlaps the
/// decompression of the layers after it; all layers together hold at most
/// <see cref="BudgetChunks"/> chunks of <see cref="ChunkSize"/> bytes. The diff_id is hashed, in
/// order, by whichever side has time: the decompressing thread while the extractor has a backlog,
/// the extractor (as it takes a chunk) while it would otherwise wait for data, so neither thread
/// carries the hashing when it is the slower one. Disposing stops the thread; a layer's source
/// error surfaces on that layer's reads.
/// </summary>
internal sealed class InflatePipeline : IDisposable
{
    public const int ChunkSize = 1 << 20;

    /// <summary>64 MiB decompressed read-ahead across layers: enough to cover a small-file layer's extraction.</summary>
    public const int BudgetChunks = 64;

    private readonly LayerTarStream[] _layers;
    private readonly Func<int, Stream> _open;
    private readonly SemaphoreSlim _budget = new(BudgetChunks, BudgetChunks);
    private readonly Stack<byte[]> _free = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private readonly UnpackTiming?[] _timings;
    private bool _disposed;

    /// <param name="count">Number of layers.</param>
    /// <param name="open">Opens layer i's decompressed tar (called on the pipeline thread).</param>
    /// <param name="createHash">Creates the hash of layer i's diff_id.</param>
    /// <param name="timings">Optional per-layer phase timers.</param>
    public InflatePipeline(int count, Func<int, Stream> open, Func<int, IncrementalHash> createHash, UnpackTiming?[]? timings = null)
    {
        _open = open;
        _timings = timings ?? new UnpackTiming?[count];
        _layers = new LayerTarStream[count];
        for (var i = 0; i < count; i++)
        {
            _layers[i] = new LayerTarStream(this, createHash(i), _timings[i]);
        }

        _thread = new Thread(Run) { IsBackground = true, Name = "layer inflate" };
        _thread.Start();
    }

    /// <summary>Layer i's decompressed tar; read it to the end for a complete <see cref="LayerTarStream.Hash"/>.</summary>
    public LayerTarStream this[int index] => _layers[index];

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stop.Cancel();
        foreach (var layer in _layers)
        {
            layer.Abandon();
        }

        _thread.Join();
        foreach (var layer in _layers)
        {
            layer.Hash.Dispose();
        }

        _stop.Dispose();
        _budget.Dispose();
    }

    internal void Return(byte[] buffer)
    {
        lock (_free)
        {
            _free.Push(buffer);
        }

        _budget.Release();
    }

    private byte[] Rent()
    {
        lock (_free)
        {
            return _free.Count > 0 ? _free.Pop() : new byte[ChunkSize];
        }
    }

    private void Run()
    {
        for (var i = 0; i < _layers.Length && !_stop.IsCancellationRequested; i++)
        {
            var layer = _layers[i];
            var timing = _timings[i];
            try
            {
                using var source = _open(i);
                while (!layer.IsAbandoned)
                {
                    var start = UnpackTiming.Now();
                    _budget.Wait(_stop.Token);
                    timing?.Add(UnpackPhase.ProducerWait, start);
                    var buffer = Rent();
                    start = UnpackTiming.Now();
                    var n = source.ReadAtLeast(buffer, ChunkSize, throwOnEndOfStream: false);
                    timing?.Add(UnpackPhase.Inflate, start);
                    if (n > 0)
                    {
                        // A backlog the extractor has not hashed yet is hashed first: the hash is fed in order.
                        layer.HashBacklog();
                        var hashed = layer.ProducerMayHash();
                        if (hashed)
                        {
                            start = UnpackTiming.Now();
                            layer.Hash.AppendData(buffer, 0, n);
                            timing?.Add(UnpackPhase.Hash, start);
                        }

                        layer.Add(buffer, n, hashed);
                    }
                    else
                    {
                        Return(buffer);
                    }

                    if (n < ChunkSize)
                    {
                        layer.Complete(null);
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                layer.Complete(null);
                return;
            }
            catch (Exception) when (layer.IsAbandoned)
            {
                // Nobody reads this layer any more (already unpacked elsewhere); its error is moot.
            }
            catch (Exception e)
            {
                // The layers after a broken one are never applied: they end with the same error.
                var error = ExceptionDispatchInfo.Capture(e);
                for (var j = i; j < _layers.Length; j++)
                {
                    _layers[j].Complete(error);
                }

                return;
            }
        }
    }
}

/// <summary>One layer's decompressed tar, fed by an <see cref="InflatePipeline"/>.</summary>
internal sealed class LayerTarStream : Stream
{
    private readonly InflatePipeline _pipeline;
    private readonly UnpackTiming? _timing;

    // Guarded by itself (Monitor). Chunks are numbered in order; _nextToHash is the number of the
    // chunk the hash takes next and _hashing says someone is feeding it that chunk right now, so the
    // hash is always fed in order, by one side at a time: the producer hashes a chunk before adding
    // it when every added one is hashed, or hashes the queue's unhashed chunks while the reader is
    // busy; the reader hashes a chunk it takes that is still unhashed (it had been waiting).
    private readonly Queue<Chunk> _chunks = new();
    private long _added;
    private long _nextToHash;
    private bool _hashing;
    private bool _consumerWaiting;
    private Chunk? _current;
    private int _offset;
    private bool _completed;
    private ExceptionDispatchInfo? _error;
    private volatile bool _abandoned;

    internal LayerTarStream(InflatePipeline pipeline, IncrementalHash hash, UnpackTiming? timing)
    {
        _pipeline = pipeline;
        Hash = hash;
        _timing = timing;
    }

    /// <summary>The hash of everything the source produced; complete once a read returned 0 (only then may it be read).</summary>
    public IncrementalHash Hash { get; }

    internal bool IsAbandoned => _abandoned;

    /// <summary>Chunks this stream's reader hashed itself because it had been waiting for the producer.</summary>
    internal long ChunksHashedByConsumer { get; private set; }

    /// <summary>
    /// Whether the reader is blocked in <see cref="Read(Span{byte})"/> with nothing queued for it; a chunk added
    /// while it holds cannot be taken before the producer decides whether to hash it (tests gate the producer on it).
    /// </summary>
    internal bool IsConsumerWaiting
    {
        get
        {
            lock (_chunks)
            {
                return _consumerWaiting && _chunks.Count == 0;
            }
        }
    }

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
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (_current is null || _offset == _current.Length)
        {
            if (_current is not null)
            {
                _pipeline.Return(_current.Buffer);
                _current = null;
            }

            Chunk chunk;
            lock (_chunks)
            {
                if (_chunks.Count == 0 && !_completed)
                {
                    var start = UnpackTiming.Now();
                    _consumerWaiting = true;
                    while (_chunks.Count == 0 && !_completed)
                    {
                        Monitor.Wait(_chunks);
                    }

                    _consumerWaiting = false;
                    _timing?.Add(UnpackPhase.ConsumerWait, start);
                }

                if (_chunks.Count == 0)
                {
                    _error?.Throw();
                    ObjectDisposedException.ThrowIf(_abandoned, this);
                    return 0;
                }

                chunk = _chunks.Dequeue();
                while (!chunk.Hashed && !TryClaim(chunk))
                {
                    // The producer is hashing this chunk right now.
                    ObjectDisposedException.ThrowIf(_abandoned, this);
                    Monitor.Wait(_chunks);
                }
            }

            if (!chunk.Hashed)
            {
                HashClaimed(chunk);
                ChunksHashedByConsumer++;
            }

            _current = chunk;
            _offset = 0;
        }

        var n = Math.Min(buffer.Length, _current.Length - _offset);
        _current.Buffer.AsSpan(_offset, n).CopyTo(buffer);
        _offset += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>
    /// Whether the producer should hash its next chunk before adding it: not while the reader waits
    /// for data (the producer is the slower side then), and only when every chunk added so far is
    /// hashed (the hash is fed in order).
    /// </summary>
    internal bool ProducerMayHash()
    {
        lock (_chunks)
        {
            return !_consumerWaiting && _nextToHash == _added;
        }
    }

    /// <summary>Producer: while the reader is busy, hashes the queued chunks it left unhashed, in order.</summary>
    internal void HashBacklog()
    {
        while (true)
        {
            Chunk? next = null;
            lock (_chunks)
            {
                if (_consumerWaiting || _nextToHash == _added || _abandoned)
                {
                    return;
                }

                foreach (var chunk in _chunks)
                {
                    if (!chunk.Hashed)
                    {
                        next = chunk;
                        break;
                    }
                }

                if (next is null || !TryClaim(next))
                {
                    // The reader took it (and hashes it itself) or is hashing it.
                    return;
                }
            }

            HashClaimed(next);
        }
    }

    internal void Add(byte[] buffer, int length, bool hashed)
    {
        lock (_chunks)
        {
            if (_abandoned)
            {
                _pipeline.Return(buffer);
                return;
            }

            _chunks.Enqueue(new Chunk(buffer, length, _added++) { Hashed = hashed });
            if (hashed)
            {
                _nextToHash++;
            }

            Monitor.PulseAll(_chunks);
        }
    }

    internal void Complete(ExceptionDispatchInfo? error)
    {
        lock (_chunks)
        {
            _completed = true;
            _error = error;
            Monitor.PulseAll(_chunks);
        }
    }

    /// <summary>Gives back every buffer; the pipeline stops decompressing this layer.</summary>
    internal void Abandon()
    {
        lock (_chunks)
        {
            if (_abandoned)
            {
                return;
            }

            _abandoned = true;
            _completed = true;
            while (_chunks.TryDequeue(out var chunk))
            {
                _pipeline.Return(chunk.Buffer);
            }

            if (_current is not null)
            {
                _pipeline.Return(_current.Buffer);
                _current = null;
            }

            Monitor.PulseAll(_chunks);
        }
    }

    /// <summary>Under the lock: takes the right to feed <paramref name="chunk"/> to the hash, if it is next and nobody else is.</summary>
    private bool TryClaim(Chunk chunk)
    {
        if (_hashing || chunk.Number != _nextToHash)
        {
            return false;
        }

        _hashing = true;
        return true;
    }

    private void HashClaimed(Chunk chunk)
    {
        var start = UnpackTiming.Now();
        try
        {
            Hash.AppendData(chunk.Buffer, 0, chunk.Length);
        }
        finally
        {
            _timing?.Add(UnpackPhase.Hash, start);
            lock (_chunks)
            {
                chunk.Hashed = true;
                _nextToHash++;
                _hashing = false;
                Monitor.PulseAll(_chunks);
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Abandon();
        }

        base.Dispose(disposing);
    }

    private sealed class Chunk(byte[] buffer, int length, long number)
    {
        public byte[] Buffer { get; } = buffer;

        public int Length { get; } = length;

        public long Number { get; } = number;

        /// <summary>Whether its bytes are in the hash; written under the stream's lock.</summary>
        public bool Hashed { get; set; }
    }
}
