using System.Net.Http.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;

namespace Dashboard.Web.Alerts;

/// <summary>The JSON body POSTed to the webhook.</summary>
public sealed record WebhookPayload(
    [property: JsonPropertyName("rule")] string Rule,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("engine")] string Engine,
    [property: JsonPropertyName("containerId")] string ContainerId,
    [property: JsonPropertyName("containerName")] string ContainerName,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("time")] DateTimeOffset Time)
{
    public static WebhookPayload From(AlertFired fired)
    {
        ArgumentNullException.ThrowIfNull(fired);
        return new(fired.Rule.Name, fired.Rule.Kind.ToString(), fired.Engine, fired.ContainerId, fired.ContainerName, fired.Message, fired.Time);
    }
}

/// <summary>
/// Delivers alerts to the webhook from a bounded queue (oldest dropped when full), one at a time, each with a
/// per-attempt timeout and a bounded number of attempts with doubling delays, so a slow or dead receiver never
/// holds up evaluation or grows memory.
/// </summary>
public sealed class WebhookSender : IAsyncDisposable
{
    private readonly Channel<(Uri Url, WebhookPayload Payload)> _queue;
    private readonly HttpClient _http;
    private readonly AlertOptions _options;
    private readonly ILogger<WebhookSender> _logger;
    private readonly CancellationTokenSource _cts = new();
    private readonly Task _loop;
    private long _delivered;
    private long _failed;
    private long _attempts;

    public WebhookSender(IOptions<AlertOptions> options, ILogger<WebhookSender> logger, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _logger = logger;
        _queue = Channel.CreateBounded<(Uri, WebhookPayload)>(new BoundedChannelOptions(Math.Max(1, _options.WebhookQueue))
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });

        // The per-attempt timeout is a CancellationTokenSource below; redirects are not followed (a webhook answers, it does not send us elsewhere).
        _http = handler is null
            ? new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = Timeout.InfiniteTimeSpan }
            : new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _loop = Task.Run(RunAsync);
    }

    public long Delivered => Interlocked.Read(ref _delivered);

    public long Failed => Interlocked.Read(ref _failed);

    public long Attempts => Interlocked.Read(ref _attempts);

    /// <summary>Only absolute http(s) URLs without user info are accepted.</summary>
    public static bool TryParseUrl(string? text, out Uri? url)
    {
        url = null;
        if (string.IsNullOrWhiteSpace(text)
            || !Uri.TryCreate(text.Trim(), UriKind.Absolute, out var parsed)
            || parsed.Scheme is not ("http" or "https")
            || parsed.UserInfo.Length > 0)
        {
            return false;
        }

        url = parsed;
        return true;
    }

    public void Enqueue(Uri url, WebhookPayload payload) => _queue.Writer.TryWrite((url, payload));

    /// <summary>Sends one payload now with the same timeout and retries; true when the receiver answered 2xx.</summary>
    public async Task<bool> SendAsync(Uri url, WebhookPayload payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        var delay = _options.WebhookRetryDelay;
        for (var attempt = 1; attempt <= Math.Max(1, _options.WebhookAttempts); attempt++)
        {
            if (attempt > 1)
            {
                await Task.Delay(delay, cancellationToken);
                delay *= 2;
            }

            Interlocked.Increment(ref _attempts);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.WebhookTimeout);
            try
            {
                using var response = await _http.PostAsJsonAsync(url, payload, timeout.Token);
                if (response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref _delivered);
                    return true;
                }

                _logger.LogWarning("alert webhook {Url}: attempt {Attempt} answered {Status}", url.GetLeftPart(UriPartial.Path), attempt, (int)response.StatusCode);
            }
            catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                _logger.LogWarning("alert webhook {Url}: attempt {Attempt} failed: {Error}", url.GetLeftPart(UriPartial.Path), attempt, e is OperationCanceledException ? "timed out" : e.Message);
            }
        }

        Interlocked.Increment(ref _failed);
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _cts.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _http.Dispose();
        _cts.Dispose();
    }

    private async Task RunAsync()
    {
        await foreach (var (url, payload) in _queue.Reader.ReadAllAsync(_cts.Token))
        {
            await SendAsync(url, payload, _cts.Token);
        }
    }
}
