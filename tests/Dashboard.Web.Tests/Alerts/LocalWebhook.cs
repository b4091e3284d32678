using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Dashboard.Web.Tests.Alerts;

/// <summary>An HttpListener on 127.0.0.1 that records request bodies and answers with the scripted status codes (200 once they run out).</summary>
public sealed class LocalWebhook : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public LocalWebhook(params int[] statuses)
    {
        Statuses = new ConcurrentQueue<int>(statuses);
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = new Uri($"http://127.0.0.1:{port}/hook/");
        _listener.Prefixes.Add(Url.ToString());
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public Uri Url { get; }

    public ConcurrentQueue<int> Statuses { get; }

    /// <summary>When set, requests are read and then left unanswered for this long (a hanging receiver).</summary>
    public TimeSpan? Hang { get; set; }

    public ConcurrentQueue<string> Bodies { get; } = new();

    public int Requests => Bodies.Count;

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using var reader = new StreamReader(context.Request.InputStream);
                Bodies.Enqueue(await reader.ReadToEndAsync());
                if (Hang is { } hang)
                {
                    await Task.Delay(hang);
                }

                try
                {
                    context.Response.StatusCode = Statuses.TryDequeue(out var status) ? status : 200;
                    context.Response.Close();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                }
            });
        }
    }
}
