using System.Diagnostics;
using System.Security.Cryptography;
using Dashboard.Images.Layers;

namespace Dashboard.Images.Tests.Layers;

public sealed class InflatePipelineTests
{
    [Fact]
    public void Layers_ReadOneAfterAnother_YieldEachSourceAndItsHash()
    {
        byte[][] sources = [Bytes(3 * InflatePipeline.ChunkSize + 17, 1), [], Bytes(100, 2), Bytes(InflatePipeline.ChunkSize, 3)];
        using var pipeline = new InflatePipeline(sources.Length, i => new MemoryStream(sources[i]), _ => IncrementalHash.CreateHash(HashAlgorithmName.SHA256));

        for (var i = 0; i < sources.Length; i++)
        {
            using var layer = pipeline[i];
            var read = new MemoryStream();
            layer.CopyTo(read, 7000);

            Assert.Equal(sources[i], read.ToArray());
            Assert.Equal(SHA256.HashData(sources[i]), layer.Hash.GetHashAndReset());
        }
    }

    [Fact]
    public void Hash_SlowSourceThenSlowReader_BothSidesHashInOrderAndTheDigestMatches()
    {
        // The source serves each chunk only when a condition holds, so a loaded machine cannot
        // change who hashes what. First half: a chunk is served once the reader is blocked waiting
        // for it, so the reader hashes those itself. Second half: chunks are served only while the
        // reader is parked outside Read (it waits for the source to drain), so the producer is the
        // idle side and hashes ahead.
        const int chunks = 12;
        var data = Bytes(chunks * InflatePipeline.ChunkSize, 9);
        var half = data.Length / 2;
        LayerTarStream? layer = null;
        using var readerParked = new ManualResetEventSlim();
        using var drained = new ManualResetEventSlim();
        var source = new GatedStream(
            data,
            gate: position => position < half ? layer?.IsConsumerWaiting == true : position == half || readerParked.IsSet,
            drained);
        using var pipeline = new InflatePipeline(1, _ => source, _ => IncrementalHash.CreateHash(HashAlgorithmName.SHA256));
        layer = pipeline[0];
        var read = new MemoryStream();
        var buffer = new byte[InflatePipeline.ChunkSize];
        int n;
        while ((n = layer.Read(buffer)) > 0)
        {
            read.Write(buffer, 0, n);
            if (read.Length > half)
            {
                readerParked.Set();
                Assert.True(drained.Wait(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken), "the producer never drained the source");
            }
        }

        Assert.Equal(data, read.ToArray());
        Assert.Equal(SHA256.HashData(data), layer.Hash.GetHashAndReset());

        // The six gated chunks are the reader's. Of the rest, only the one served as the gate
        // opened and the last one (the reader may be waiting again when it arrives) can be, so
        // chunks 8 to 11 are the producer's.
        Assert.InRange(layer.ChunksHashedByConsumer, chunks / 2, chunks - 4);
    }

    [Fact]
    public void Layers_MoreThanTheBudget_TheNextLayerIsDecompressedWhileOneIsRead()
    {
        // Layer 1 is only complete once layer 0 (larger than the whole budget) has been read.
        var big = InflatePipeline.ChunkSize * (InflatePipeline.BudgetChunks + 8);
        using var pipeline = new InflatePipeline(2, i => new PatternStream(i == 0 ? big : 5 * InflatePipeline.ChunkSize), _ => IncrementalHash.CreateHash(HashAlgorithmName.SHA256));

        Assert.Equal(big, Drain(pipeline[0]));
        Assert.Equal(5 * InflatePipeline.ChunkSize, Drain(pipeline[1]));
    }

    [Fact]
    public void Read_SourceFailsMidway_ThatLayerAndTheLaterOnesThrowTheSourceError()
    {
        using var pipeline = new InflatePipeline(
            3,
            i => i == 1 ? new PatternStream(2 * InflatePipeline.ChunkSize, failAt: InflatePipeline.ChunkSize + 5) : new MemoryStream(Bytes(1000, i)),
            _ => IncrementalHash.CreateHash(HashAlgorithmName.SHA256));

        Assert.Equal(1000, Drain(pipeline[0]));
        Assert.Throws<InvalidDataException>(() => Drain(pipeline[1]));
        Assert.Throws<InvalidDataException>(() => Drain(pipeline[2]));
    }

    [Fact]
    public void Read_OpeningALayerFails_TheErrorSurfacesOnItsRead()
    {
        using var pipeline = new InflatePipeline(2, i => i == 0 ? new MemoryStream(Bytes(10, 0)) : throw new FileNotFoundException("blob missing"), _ => IncrementalHash.CreateHash(HashAlgorithmName.SHA256));

        Assert.Equal(10, Drain(pipeline[0]));
        var e = Assert.Throws<FileNotFoundException>(() => Drain(pipeline[1]));
        Assert.Equal("blob missing", e.Message);
    }

    [Fact]
    public void Dispose_LayerNotRead_ItsBuffersGoBackAndTheNextLayerStillArrives()
    {
        var big = InflatePipeline.ChunkSize * (InflatePipeline.BudgetChunks + 8);
        using var pipeline = new InflatePipeline(2, i => new PatternStream(i == 0 ? big : 3 * InflatePipeline.ChunkSize + 1), _ => IncrementalHash.CreateHash(HashAlgorithmName.SHA256));

        pipeline[0].Dispose();

        Assert.Equal(3 * InflatePipeline.ChunkSize + 1, Drain(pipeline[1]));
        Assert.Throws<ObjectDisposedException>(() => pipeline[0].ReadByte());
    }

    [Fact]
    public void Dispose_ProducerWaitingForBudget_StopsPromptly()
    {
        var pipeline = new InflatePipeline(1, _ => new PatternStream(long.MaxValue), _ => IncrementalHash.CreateHash(HashAlgorithmName.SHA256));
        pipeline[0].ReadExactly(new byte[10]);
        Thread.Sleep(50);
        var watch = Stopwatch.StartNew();

        pipeline.Dispose();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"dispose took {watch.Elapsed}");
    }

    private static long Drain(Stream stream)
    {
        var buffer = new byte[1 << 16];
        long total = 0;
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            total += n;
        }

        return total;
    }

    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Serves bytes in small reads, sleeping on each read before <c>slowUntil</c>.</summary>
    /// <summary>
    /// Serves <paramref name="data"/> 64 KiB per read; each chunk is served only once <paramref name="gate"/>
    /// holds for its start position (bounded at 30 s); <paramref name="drained"/> is set when the end is read.
    /// </summary>
    private sealed class GatedStream(byte[] data, Func<int, bool> gate, ManualResetEventSlim drained) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position % InflatePipeline.ChunkSize == 0 && _position < data.Length && !SpinWait.SpinUntil(() => gate(_position), TimeSpan.FromSeconds(30)))
            {
                throw new TimeoutException($"the gate for the chunk at {_position} never opened");
            }

            var n = Math.Min(Math.Min(count, 1 << 16), data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer.AsSpan(offset));
            _position += n;
            if (_position == data.Length)
            {
                drained.Set();
            }

            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A long stream of a repeating byte pattern, optionally failing at an offset like a corrupt gzip member.</summary>
    private sealed class PatternStream(long length, long failAt = -1) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var end = failAt >= 0 ? failAt : length;
            if (_position >= end && failAt >= 0)
            {
                throw new InvalidDataException("corrupt compressed data");
            }

            var n = (int)Math.Min(count, end - _position);
            buffer.AsSpan(offset, n).Fill((byte)(_position >> 12));

            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
