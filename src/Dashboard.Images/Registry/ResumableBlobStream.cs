using System.Net;
using System.Net.Http.Headers;
using Dashboard.Oci.Image;

namespace Dashboard.Images.Registry;

/// <summary>
/// A blob download that survives broken connections: after a reset, a timeout or an early end it
/// asks again with <c>Range: bytes=N-</c> and continues. A server that ignores the range and sends
/// the whole blob again is handled by skipping what was already read; a server that sends other
/// bytes is caught by the digest the reader verifies (security.md C6 "Resumed/ranged downloads").
/// </summary>
internal sealed class ResumableBlobStream(RegistryClient client, string repository, Descriptor blob, IProgress<long>? progress) : Stream
{
    /// <summary>Reconnects per blob in total, so a server dribbling one byte per connection cannot loop forever.</summary>
    private const int MaxReconnects = 32;

    private HttpResponseMessage? _response;
    private Stream? _body;
    private long _position;
    private int _failures;
    private int _reconnects;
    private bool _endVerified;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => blob.Size;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    /// <summary>How many times the download was resumed (for tests and logs).</summary>
    public int Resumes { get; private set; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var what = $"blob {blob.Digest}";
        while (true)
        {
            // Exactly the declared size is read; the reader's digest check decides whether it was the right content.
            if (_position >= blob.Size)
            {
                await VerifyEndAsync(what, cancellationToken);
                return 0;
            }

            if (_body is null)
            {
                try
                {
                    await OpenAsync(what, cancellationToken);
                }
                catch (Exception e) when (RegistryClient.IsTransient(e, cancellationToken))
                {
                    await FailAsync(what, e, cancellationToken);
                    continue;
                }
            }

            int n;
            try
            {
                n = await client.ReadWithTimeoutAsync(_body!, buffer[..(int)Math.Min(buffer.Length, blob.Size - _position)], cancellationToken);
            }
            catch (Exception e) when (RegistryClient.IsTransient(e, cancellationToken))
            {
                await FailAsync(what, e, cancellationToken);
                continue;
            }

            if (n == 0)
            {
                // Early end of body: the connection was cut (or the server lied about the length).
                await FailAsync(what, new IOException($"body ended after {_position} of {blob.Size} bytes"), cancellationToken);
                continue;
            }

            _position += n;
            _failures = 0;
            progress?.Report(_position);
            return n;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

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
            Close(reset: false);
        }

        base.Dispose(disposing);
    }

    private async Task OpenAsync(string what, CancellationToken cancellationToken)
    {
        var resume = _position;
        var response = await client.SendAsync(() =>
        {
            var request = client.Request(HttpMethod.Get, $"/v2/{repository}/blobs/{blob.Digest}");
            if (resume > 0)
            {
                request.Headers.Range = new RangeHeaderValue(resume, null);
            }

            return request;
        }, client.Pull(repository), what, cancellationToken);
        try
        {
            await client.EnsureSuccessAsync(response, what, cancellationToken);
            var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var declared = response.StatusCode == HttpStatusCode.PartialContent ? response.Content.Headers.ContentRange?.Length : response.Content.Headers.ContentLength;
            if (declared is { } length && length != blob.Size)
            {
                throw SizeMismatch(what, $"registry sends {length} bytes");
            }

            if (resume > 0 && response.StatusCode == HttpStatusCode.PartialContent)
            {
                var range = response.Content.Headers.ContentRange;
                if (range?.From != resume)
                {
                    throw new RegistryException(RegistryErrorKind.Protocol, $"{what}: asked for bytes from {resume}, got a range from {range?.From}");
                }
            }
            else if (resume > 0)
            {
                // The server ignored Range: skip what the reader already has.
                await SkipAsync(body, resume, what, cancellationToken);
            }

            _response = response;
            _body = body;
            if (resume > 0)
            {
                Resumes++;
            }
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>A body longer than the descriptor is a lie too (umoci "descriptor size hardening").</summary>
    private async Task VerifyEndAsync(string what, CancellationToken cancellationToken)
    {
        if (_body is null || _endVerified)
        {
            return;
        }

        _endVerified = true;
        var probe = new byte[1];
        int extra;
        try
        {
            extra = await client.ReadWithTimeoutAsync(_body, probe, cancellationToken);
        }
        catch (Exception e) when (RegistryClient.IsTransient(e, cancellationToken))
        {
            return;
        }

        if (extra > 0)
        {
            throw SizeMismatch(what, "body is longer");
        }
    }

    private RegistryException SizeMismatch(string what, string detail) =>
        new(RegistryErrorKind.DigestMismatch, $"{what}: size mismatch: {detail}, descriptor says {blob.Size}");

    private async Task SkipAsync(Stream body, long count, string what, CancellationToken cancellationToken)
    {
        var scratch = new byte[64 << 10];
        while (count > 0)
        {
            var n = await client.ReadWithTimeoutAsync(body, scratch.AsMemory(0, (int)Math.Min(scratch.Length, count)), cancellationToken);
            if (n == 0)
            {
                throw new IOException($"{what}: body ended while skipping to byte {_position}");
            }

            count -= n;
        }
    }

    private async Task FailAsync(string what, Exception error, CancellationToken cancellationToken)
    {
        Close(reset: true);
        _failures++;
        _reconnects++;
        if (_failures >= client.Options.MaxAttempts || _reconnects > MaxReconnects)
        {
            throw new RegistryException(RegistryErrorKind.Network, $"{what}: {RegistryClient.Describe(error)} (after {_reconnects} attempts at byte {_position})", inner: error);
        }

        await Task.Delay(client.Backoff(_failures, null), cancellationToken);
    }

    private void Close(bool reset)
    {
        _body?.Dispose();
        _body = null;
        _response?.Dispose();
        _response = reset ? null : _response;
    }
}
