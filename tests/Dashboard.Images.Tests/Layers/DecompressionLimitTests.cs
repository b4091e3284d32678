using System.Diagnostics;
using Dashboard.Images.Layers;
using Dashboard.Linux.Fs;
using Dashboard.Oci.Image;
using Dashboard.Testing.Images;

namespace Dashboard.Images.Tests.Layers;

/// <summary>security.md B7 (b), (d), (e): the cases LayerBreakoutTests does not already cover.</summary>
public sealed class DecompressionLimitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Decompress_ZstdFrameDeclaring2GiBWindow_RejectedBeforeAllocating()
    {
        // Frame header: magic, descriptor 0 (no content size, no checksum), Window_Descriptor with
        // exponent 21 (window log 31 = 2 GiB), then one last raw block of 16 bytes.
        byte[] frame = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 21 << 3, .. BlockHeader(16), .. new byte[16]];
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();

        using var stream = LayerApplier.Decompress(new MemoryStream(frame), LayerCompression.Zstd);
        var e = Assert.ThrowsAny<Exception>(() => stream.ReadExactly(new byte[16]));

        Assert.Contains("too much memory", e.Message, StringComparison.Ordinal);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 64 << 20, "the decoder allocated the declared window");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Decompress_ZstdFrameWithin128MiBWindow_Decodes()
    {
        byte[] frame = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x00, .. BlockHeader(4), (byte)'a', (byte)'b', (byte)'c', (byte)'d'];

        using var stream = LayerApplier.Decompress(new MemoryStream(frame), LayerCompression.Zstd);
        var output = new byte[4];
        stream.ReadExactly(output);

        Assert.Equal("abcd"u8.ToArray(), output);
    }

    [Fact]
    public void Apply_MillionEntryLayer_StopsAtEntryLimitWithoutReadingItAll()
    {
        using var t = new LayerTestRoot();
        using var root = SafeRoot.Open(t.Root);
        var source = new EmptyEntriesTar(1_000_000);

        var e = Assert.Throws<ImageException>(() => LayerApplier.Apply(root, source, null, new LayerLimits { MaxEntries = 1_000 }, Ct));

        // Bounded work: the applier stopped within the first percent of the 512 MB stream.
        Assert.Contains("more than 1000 entries", e.Message, StringComparison.Ordinal);
        Assert.True(source.Position < source.Length / 100, $"read {source.Position} of {source.Length} bytes");
        t.AssertSentinelUntouched();
    }

    [Fact]
    public void Apply_HundredThousandConcatenatedGzipMembers_NoStackOverflow()
    {
        using var t = new LayerTestRoot();
        var member = TestTar.Gzip([]);
        var tar = TestTar.Gzip(new TestTar().File("x", "y").ToArray());
        var bytes = new MemoryStream();
        for (var i = 0; i < 100_000; i++)
        {
            bytes.Write(member);
        }

        bytes.Write(tar);
        bytes.Position = 0;
        using var root = SafeRoot.Open(t.Root);
        using var stream = LayerApplier.Decompress(bytes, LayerCompression.Gzip);

        LayerApplier.Apply(root, stream, null, null, Ct);

        Assert.Equal("y", File.ReadAllText(t.RootPath("x")));
    }

    private static byte[] BlockHeader(int size)
    {
        var value = 1 | (size << 3);
        return [(byte)value, (byte)(value >> 8), (byte)(value >> 16)];
    }

    /// <summary>A ustar stream of <c>count</c> empty regular files, generated as it is read (512 MB for a million).</summary>
    private sealed class EmptyEntriesTar(int count) : Stream
    {
        private readonly byte[] _block = new byte[512];
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => (count * 512L) + 1024;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var written = 0;
            while (written < buffer.Length && _position < Length)
            {
                var index = _position / 512;
                var within = (int)(_position % 512);
                if (within == 0)
                {
                    if (index < count)
                    {
                        TestTar.Header($"f{index}", '0', "0").AsSpan(0, 512).CopyTo(_block);
                    }
                    else
                    {
                        Array.Clear(_block);
                    }
                }

                var n = Math.Min(512 - within, buffer.Length - written);
                _block.AsSpan(within, n).CopyTo(buffer[written..]);
                written += n;
                _position += n;
            }

            return written;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
