using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace Dashboard.Engine.Api;

/// <summary>
/// Docker's hijacked connections (<c>POST /exec/{id}/start</c>, <c>/containers/{id}/attach</c>): the
/// client sends <c>Connection: Upgrade</c>, <c>Upgrade: tcp</c> and, for exec, a JSON body; the
/// daemon answers <c>101 Switching Protocols</c> and the connection becomes a raw duplex stream.
/// </summary>
/// <remarks>
/// Kestrel refuses an upgrade request that carries a body before any middleware runs ("Requests
/// with 'Connection: Upgrade' cannot have content in the request body"), so a connection
/// middleware moves such a body (at most <see cref="MaxUpgradeBody"/> bytes) into the
/// <see cref="BodyHeader"/> header, base64-encoded, before Kestrel parses the request. The endpoint
/// reads it back with <see cref="ReadBodyAsync{T}"/> through the same JSON rules as every body.
/// </remarks>
public static class Hijack
{
    public const string BodyHeader = "X-Dashboard-Upgrade-Body";

    public const int MaxUpgradeBody = 64 * 1024;

    private const int MaxHeaderBytes = 64 * 1024;

    /// <summary>Kestrel connection middleware: rewrites upgrade requests that carry a body (see remarks).</summary>
    public static ConnectionDelegate Middleware(ConnectionDelegate next) => async connection =>
    {
        var original = connection.Transport;
        var pipe = new Pipe();
        var state = new PumpState();
        using var closed = new CancellationTokenSource();

        // Kestrel treats the client's FIN as the end of the connection and aborts the request, but a
        // hijacked stream is half-closed by design: the client's CloseWrite is stdin EOF, and the
        // output keeps flowing. After an upgrade the FIN only ends the input pipe (reads return 0).
        using var registration = connection.ConnectionClosed.Register(() =>
        {
            if (!state.Upgraded)
            {
                closed.Cancel();
            }
        });
        var pump = PumpAsync(original.Input, pipe.Writer, state);
        var wrapped = new HalfClosableConnection(connection, new DuplexPipe(pipe.Reader, original.Output), closed.Token);
        try
        {
            await next(wrapped);
        }
        finally
        {
            original.Input.CancelPendingRead();
            await pump;
        }
    };

    private sealed class PumpState
    {
        public volatile bool Upgraded;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>The transport's connection with our input pipe and a ConnectionClosed token that a FIN after an upgrade does not trip.</summary>
    private sealed class HalfClosableConnection(ConnectionContext inner, IDuplexPipe transport, CancellationToken closed) : ConnectionContext
    {
        public override string ConnectionId { get => inner.ConnectionId; set => inner.ConnectionId = value; }

        public override Microsoft.AspNetCore.Http.Features.IFeatureCollection Features => inner.Features;

        public override IDictionary<object, object?> Items { get => inner.Items; set => inner.Items = value; }

        public override IDuplexPipe Transport { get; set; } = transport;

        public override CancellationToken ConnectionClosed { get => closed; set => throw new NotSupportedException(); }

        public override System.Net.EndPoint? LocalEndPoint { get => inner.LocalEndPoint; set => inner.LocalEndPoint = value; }

        public override System.Net.EndPoint? RemoteEndPoint { get => inner.RemoteEndPoint; set => inner.RemoteEndPoint = value; }

        public override void Abort(ConnectionAbortedException abortReason) => inner.Abort(abortReason);

        public override void Abort() => inner.Abort();
    }

    /// <summary>Copies requests from the socket to Kestrel, rewriting each upgrade request with a body, until the framing cannot be followed (chunked body, upgraded stream).</summary>
    private static async Task PumpAsync(PipeReader input, PipeWriter output, PumpState state)
    {
        var passThrough = false;
        long bodyLeft = 0;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync();
                if (result.IsCanceled)
                {
                    break;
                }

                var buffer = result.Buffer;
                while (!buffer.IsEmpty)
                {
                    if (passThrough)
                    {
                        Write(output, buffer);
                        buffer = buffer.Slice(buffer.End);
                        break;
                    }

                    if (bodyLeft > 0)
                    {
                        var n = Math.Min(bodyLeft, buffer.Length);
                        Write(output, buffer.Slice(0, n));
                        buffer = buffer.Slice(n);
                        bodyLeft -= n;
                        continue;
                    }

                    var end = HeaderEnd(buffer);
                    if (end < 0)
                    {
                        if (buffer.Length > MaxHeaderBytes)
                        {
                            passThrough = true; // Kestrel answers 431 itself
                            continue;
                        }

                        break;
                    }

                    var head = Encoding.Latin1.GetString(buffer.Slice(0, end));
                    var (upgrade, length, chunked) = Inspect(head);
                    if (chunked || (upgrade && length > MaxUpgradeBody))
                    {
                        passThrough = true;
                        continue;
                    }

                    if (upgrade && length > 0)
                    {
                        if (buffer.Length < end + length)
                        {
                            break;
                        }

                        var body = buffer.Slice(end, length).ToArray();
                        WriteBytes(output, Encoding.Latin1.GetBytes(Rewrite(head, body)));
                        buffer = buffer.Slice(end + length);
                        passThrough = true;
                        state.Upgraded = true;
                        continue;
                    }

                    Write(output, buffer.Slice(0, end));
                    buffer = buffer.Slice(end);
                    if (upgrade)
                    {
                        passThrough = true;
                        state.Upgraded = true;
                    }
                    else
                    {
                        bodyLeft = length;
                    }
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                var flush = await output.FlushAsync();
                if (result.IsCompleted || flush.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or InvalidOperationException or OperationCanceledException)
        {
            await output.CompleteAsync(e);
            return;
        }

        await output.CompleteAsync();
    }

    private static void Write(PipeWriter output, ReadOnlySequence<byte> data)
    {
        foreach (var segment in data)
        {
            output.Write(segment.Span);
        }
    }

    private static void WriteBytes(PipeWriter output, byte[] data) => output.Write(data);

    /// <summary>Offset just past the blank line that ends the header block, or -1.</summary>
    private static long HeaderEnd(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        return reader.TryReadTo(out ReadOnlySequence<byte> _, "\r\n\r\n"u8, advancePastDelimiter: true) ? reader.Consumed : -1;
    }

    private static (bool Upgrade, long Length, bool Chunked) Inspect(string head)
    {
        bool upgrade = false, chunked = false;
        long length = 0;
        foreach (var line in head.Split("\r\n").Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                upgrade |= value.Split(',').Any(t => t.Trim().Equals("upgrade", StringComparison.OrdinalIgnoreCase));
            }
            else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                // A malformed length is left for Kestrel to reject.
                length = long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                chunked = true;
            }
        }

        return (upgrade, length, chunked);
    }

    private static string Rewrite(string head, byte[] body)
    {
        var lines = head[..^4].Split("\r\n")
            .Where(l => !l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase) && !l.StartsWith(BodyHeader + ":", StringComparison.OrdinalIgnoreCase));
        return string.Join("\r\n", lines) + $"\r\n{BodyHeader}: {Convert.ToBase64String(body)}\r\n\r\n";
    }

    /// <summary>The request's JSON body, whether it arrived as a body or moved into <see cref="BodyHeader"/>.</summary>
    public static async Task<T?> ReadBodyAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        var moved = request.Headers[BodyHeader].ToString();
        if (moved.Length == 0)
        {
            return request.Headers.Connection.ToString().Contains("upgrade", StringComparison.OrdinalIgnoreCase) ? null : await DockerJson.ReadBodyAsync<T>(request, cancellationToken);
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(moved);
        }
        catch (FormatException e)
        {
            throw new EngineException(ErrorKind.InvalidArgument, "invalid request body", e);
        }

        try
        {
            return System.Text.Json.JsonSerializer.Deserialize(bytes, DockerJson.Info<T>(DockerJson.Options));
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid JSON: {e.Message}", e);
        }
    }

    /// <summary>
    /// Answers 101 and returns the raw connection. Without an upgrade request (a client that does
    /// not ask to hijack) the response body is the stream, as Docker allows for old clients.
    /// </summary>
    public static async Task<Stream> UpgradeAsync(HttpContext context, string contentType)
    {
        var feature = context.Features.Get<IHttpUpgradeFeature>();
        context.Response.Headers.ContentType = contentType;
        if (feature is { IsUpgradableRequest: true })
        {
            context.Response.Headers.Upgrade = "tcp";
            return await feature.UpgradeAsync();
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        await context.Response.StartAsync();
        await context.Response.Body.FlushAsync();
        return new ResponseOnlyStream(context.Response.Body);
    }

    /// <summary>The response body as a write-only duplex stream (reads end at once: no stdin without an upgrade).</summary>
    private sealed class ResponseOnlyStream(Stream body) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => body.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => body.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => 0;
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(0);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => body.Write(buffer, offset, count);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => body.WriteAsync(buffer, cancellationToken);
    }
}

/// <summary>Writes Docker's multiplexed stream frames (<c>[stream, 0, 0, 0, length BE32]</c> + data) or raw bytes for a tty, one writer at a time.</summary>
public sealed class StreamMux(Stream target, bool raw)
{
    private readonly SemaphoreSlim _lock = new(1, 1);

    public bool Broken { get; private set; }

    /// <summary>Writes one chunk of <paramref name="stream"/> (1 stdout, 2 stderr); false once the client is gone.</summary>
    public async Task<bool> WriteAsync(int stream, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (Broken)
        {
            return false;
        }

        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (!raw)
            {
                var header = new byte[8];
                header[0] = (byte)stream;
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)data.Length);
                await target.WriteAsync(header, cancellationToken);
            }

            await target.WriteAsync(data, cancellationToken);
            await target.FlushAsync(cancellationToken);
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or ConnectionResetException)
        {
            Broken = true;
            return false;
        }
        finally
        {
            _lock.Release();
        }
    }
}
