using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Dashboard.Images.Layers;

/// <summary>
/// A read-through stream under TarReader that follows the tar block structure itself, so that
/// metadata records are checked before TarReader buffers them: PAX extended headers and GNU long
/// names/links larger than 1 MiB (Go CVE-2022-2879's limit), negative or overflowing sizes
/// (dotnet/runtime PR #128093 loop on a negative PAX size) and GNU sparse files are refused
/// (security.md B7). It also hashes every byte for the layer's diff_id.
/// </summary>
internal sealed class TarGuardStream : Stream
{
    public const int MaxMetadataSize = 1 << 20;

    private readonly Stream _inner;
    private readonly IncrementalHash? _hash;
    private readonly byte[] _header = new byte[512];
    private int _headerFill;
    private long _skip;
    private MemoryStream? _metadata;
    private long _metadataRemaining;
    private long _metadataPadding;
    private char _metadataType;
    private long? _paxSize;
    private int _zeroBlocks;
    private bool _ended;

    public TarGuardStream(Stream inner, IncrementalHash? hash)
    {
        _inner = inner;
        _hash = hash;
    }

    public long BytesRead { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = _inner.Read(buffer);
        Observe(buffer[..n]);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await _inner.ReadAsync(buffer, cancellationToken);
        Observe(buffer.Span[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Reads the rest of the stream (trailer blocks and padding) so the diff_id covers it all.</summary>
    public void Drain()
    {
        var buffer = new byte[1 << 16];
        while (Read(buffer) > 0)
        {
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private void Observe(ReadOnlySpan<byte> data)
    {
        BytesRead += data.Length;
        _hash?.AppendData(data);
        while (!data.IsEmpty && !_ended)
        {
            if (_skip > 0)
            {
                var n = (int)Math.Min(_skip, data.Length);
                _skip -= n;
                data = data[n..];
                continue;
            }

            if (_metadata is not null)
            {
                var n = (int)Math.Min(_metadataRemaining, data.Length);
                _metadata.Write(data[..n]);
                _metadataRemaining -= n;
                data = data[n..];
                if (_metadataRemaining == 0)
                {
                    FinishMetadata();
                }

                continue;
            }

            var take = Math.Min(512 - _headerFill, data.Length);
            data[..take].CopyTo(_header.AsSpan(_headerFill));
            _headerFill += take;
            data = data[take..];
            if (_headerFill == 512)
            {
                _headerFill = 0;
                OnHeader();
            }
        }
    }

    private void OnHeader()
    {
        if (_header.AsSpan().IndexOfAnyExcept((byte)0) < 0)
        {
            // Two zero blocks end the archive; what follows is padding that TarReader never looks at.
            _ended = ++_zeroBlocks >= 2;
            return;
        }

        _zeroBlocks = 0;
        var type = (char)_header[156];
        var size = ParseSize(_header.AsSpan(124, 12));
        switch (type)
        {
            case 'x' or 'g' or 'L' or 'K':
                if (size > MaxMetadataSize)
                {
                    throw Invalid($"tar {Describe(type)} of {size} bytes is larger than the limit of {MaxMetadataSize}");
                }

                _metadataType = type;
                _metadata = new MemoryStream((int)size);
                _metadataRemaining = size;
                _metadataPadding = Pad(size);
                if (size == 0)
                {
                    FinishMetadata();
                }

                return;
            case 'S':
                throw Invalid("tar: GNU sparse files are not supported");
        }

        if (_paxSize is { } paxSize)
        {
            size = paxSize;
            _paxSize = null;
        }

        // Hard links, symlinks, directories, devices and fifos carry no data whatever size says
        // (Go archive/tar and TarReader agree); every other type is followed by size bytes.
        _skip = type is '1' or '2' or '3' or '4' or '5' or '6' ? 0 : size + Pad(size);
    }

    private void FinishMetadata()
    {
        var bytes = _metadata!.ToArray();
        _metadata = null;
        _skip = _metadataPadding;
        if (_metadataType == 'x')
        {
            ParsePax(bytes);
        }
    }

    private void ParsePax(byte[] bytes)
    {
        var span = bytes.AsSpan();
        while (!span.IsEmpty)
        {
            var space = span.IndexOf((byte)' ');
            if (space <= 0 || !Utf8Parser.TryParse(span[..space], out int length, out var consumed) || consumed != space || length <= space || length > span.Length)
            {
                // Malformed records are TarReader's to reject; nothing here can be trusted further.
                return;
            }

            var record = span[(space + 1)..length];
            span = span[length..];
            var equals = record.IndexOf((byte)'=');
            if (equals < 0)
            {
                continue;
            }

            var key = Encoding.UTF8.GetString(record[..equals]);
            var value = record[(equals + 1)..];
            if (value.Length > 0 && value[^1] == '\n')
            {
                value = value[..^1];
            }

            if (key == "size")
            {
                if (!Utf8Parser.TryParse(value, out long size, out var used) || used != value.Length || size < 0)
                {
                    throw Invalid($"tar: invalid PAX size \"{Encoding.UTF8.GetString(value)}\"");
                }

                _paxSize = size;
            }
            else if (key.StartsWith("GNU.sparse.", StringComparison.Ordinal))
            {
                throw Invalid("tar: GNU sparse files are not supported");
            }
        }
    }

    private static long ParseSize(ReadOnlySpan<byte> field)
    {
        if ((field[0] & 0x80) != 0)
        {
            // Base-256 (GNU/star): the top bit marks it, 0xFF starts a negative number.
            if (field[0] == 0xFF)
            {
                throw Invalid("tar: negative entry size");
            }

            long value = field[0] & 0x7F;
            foreach (var b in field[1..])
            {
                if (value > (long.MaxValue >> 8))
                {
                    throw Invalid("tar: entry size overflows");
                }

                value = (value << 8) | b;
            }

            return value;
        }

        long octal = 0;
        foreach (var b in field)
        {
            if (b is 0 or (byte)' ')
            {
                if (octal > 0)
                {
                    break;
                }

                continue;
            }

            if (b is < (byte)'0' or > (byte)'7')
            {
                throw Invalid("tar: invalid size field");
            }

            octal = (octal << 3) | (long)(b - '0');
        }

        return octal;
    }

    private static long Pad(long size) => (512 - (size % 512)) % 512;

    private static string Describe(char type) => type switch
    {
        'x' => "PAX header",
        'g' => "PAX global header",
        'L' => "GNU long name",
        _ => "GNU long link name",
    };

    private static ImageException Invalid(string message) => new(ImageErrorKind.InvalidSpec, message);
}
