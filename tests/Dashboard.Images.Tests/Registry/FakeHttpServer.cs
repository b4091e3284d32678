using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Dashboard.Images.Tests.Registry;

/// <summary>A request as the fake server saw it.</summary>
public sealed record FakeRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Path => Target.Split('?')[0];

    public string Query => Target.Contains('?', StringComparison.Ordinal) ? Target[(Target.IndexOf('?', StringComparison.Ordinal) + 1)..] : string.Empty;

    public string? Header(string name) => Headers.GetValueOrDefault(name.ToLowerInvariant());
}

/// <summary>
/// A raw HTTP/1.1 server on 127.0.0.1 for hostile-registry tests: the handler writes whatever bytes
/// it likes (lying lengths, cut bodies, endless bodies). One request per connection
/// (<c>Connection: close</c>); every request is logged.
/// </summary>
public sealed class FakeHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<FakeRequest, FakeResponse, Task> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public FakeHttpServer(Func<FakeRequest, FakeResponse, Task> handler)
    {
        _handler = handler;
        _listener.Start();
        _loop = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary><c>127.0.0.1:port</c>, the registry name to use in references.</summary>
    public string Authority => $"127.0.0.1:{Port}";

    public ConcurrentQueue<FakeRequest> Requests { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var request = await ReadRequestAsync(stream);
                if (request is null)
                {
                    return;
                }

                Requests.Enqueue(request);
                var response = new FakeResponse(stream);
                await _handler(request, response);
                await stream.FlushAsync();
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                // The client went away (often on purpose in these tests).
            }
        }
    }

    private static async Task<FakeRequest?> ReadRequestAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 64 << 10)
        {
            if (await stream.ReadAsync(one) == 0)
            {
                return null;
            }

            // A TLS ClientHello (record type 22): answer like Go's server does to HTTPS on a plain port, by closing.
            if (head.Count == 0 && one[0] == 0x16)
            {
                return null;
            }

            head.Add(one[0]);
            if (head.Count >= 4 && head[^1] == '\n' && head[^2] == '\r' && head[^3] == '\n' && head[^4] == '\r')
            {
                break;
            }
        }

        var lines = Encoding.ASCII.GetString(head.ToArray()).Split("\r\n");
        var parts = lines[0].Split(' ');
        var headers = new Dictionary<string, string>();
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
        }

        var body = Array.Empty<byte>();
        if (headers.TryGetValue("content-length", out var length) && long.Parse(length) > 0)
        {
            body = new byte[long.Parse(length)];
            await stream.ReadExactlyAsync(body);
        }

        return new FakeRequest(parts[0], parts[1], headers, body);
    }
}

/// <summary>Writes a response by hand.</summary>
public sealed class FakeResponse(NetworkStream stream)
{
    public Stream Stream => stream;

    public Task HeadAsync(int status, IEnumerable<(string Name, string Value)>? headers = null, long? contentLength = 0)
    {
        var sb = new StringBuilder($"HTTP/1.1 {status} {(HttpStatusCode)status}\r\nConnection: close\r\n");
        if (contentLength is { } length)
        {
            sb.Append($"Content-Length: {length}\r\n");
        }

        foreach (var (name, value) in headers ?? [])
        {
            sb.Append($"{name}: {value}\r\n");
        }

        sb.Append("\r\n");
        return stream.WriteAsync(Encoding.ASCII.GetBytes(sb.ToString())).AsTask();
    }

    public async Task SendAsync(int status, byte[] body, params (string Name, string Value)[] headers)
    {
        await HeadAsync(status, headers, body.Length);
        await stream.WriteAsync(body);
    }

    public Task SendAsync(int status, string body, params (string Name, string Value)[] headers) =>
        SendAsync(status, Encoding.UTF8.GetBytes(body), headers);
}
