using System.Diagnostics;
using System.Text.Json;
using Dashboard.Web.Alerts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dashboard.Web.Tests.Alerts;

public sealed class WebhookSenderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static WebhookSender Sender(int attempts = 3, int timeoutMs = 10_000, int delayMs = 50) =>
        new(Options.Create(new AlertOptions
        {
            WebhookAttempts = attempts,
            WebhookTimeout = TimeSpan.FromMilliseconds(timeoutMs),
            WebhookRetryDelay = TimeSpan.FromMilliseconds(delayMs),
        }), NullLogger<WebhookSender>.Instance);

    private static readonly WebhookPayload s_payload = new("died", "Died", "local", "c1", "web-1", "container web-1 died", new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Send_ReceiverAnswers200_PostsJsonOnce()
    {
        using var hook = new LocalWebhook();
        await using var sender = Sender();

        Assert.True(await sender.SendAsync(hook.Url, s_payload, Ct));

        using var body = JsonDocument.Parse(Assert.Single(hook.Bodies));
        Assert.Equal("died", body.RootElement.GetProperty("rule").GetString());
        Assert.Equal("web-1", body.RootElement.GetProperty("containerName").GetString());
        Assert.Equal("container web-1 died", body.RootElement.GetProperty("message").GetString());
        Assert.Equal(1, sender.Delivered);
    }

    [Fact]
    public async Task Send_FailsTwiceThenSucceeds_RetriesWithinBound()
    {
        using var hook = new LocalWebhook(500, 503);
        await using var sender = Sender(attempts: 3);

        Assert.True(await sender.SendAsync(hook.Url, s_payload, Ct));

        Assert.Equal(3, hook.Requests);
        Assert.Equal(3, sender.Attempts);
    }

    [Fact]
    public async Task Send_AlwaysFailing_GivesUpAfterAttempts()
    {
        using var hook = new LocalWebhook(500, 500, 500, 500, 500);
        await using var sender = Sender(attempts: 3);

        Assert.False(await sender.SendAsync(hook.Url, s_payload, Ct));

        Assert.Equal(3, hook.Requests);
        Assert.Equal(1, sender.Failed);
    }

    [Fact]
    public async Task Send_HangingReceiver_TimesOutPerAttempt()
    {
        using var hook = new LocalWebhook { Hang = TimeSpan.FromSeconds(10) };
        await using var sender = Sender(attempts: 2, timeoutMs: 300, delayMs: 10);
        var clock = Stopwatch.StartNew();

        Assert.False(await sender.SendAsync(hook.Url, s_payload, Ct));

        // Below the receiver's 10 s hang: each attempt gave up at its timeout (with room for a loaded machine).
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(550), TimeSpan.FromSeconds(9));
        Assert.Equal(2, sender.Attempts);
    }

    [Fact]
    public async Task Enqueue_DeliversInBackground()
    {
        using var hook = new LocalWebhook();
        await using var sender = Sender();

        sender.Enqueue(hook.Url, s_payload);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (hook.Requests == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, Ct);
        }

        Assert.Equal(1, hook.Requests);
    }

    [Theory]
    [InlineData("https://hooks.example/alerts", true)]
    [InlineData("http://127.0.0.1:9000/x", true)]
    [InlineData("ftp://hooks.example/", false)]
    [InlineData("https://user:pw@hooks.example/", false)]
    [InlineData("/relative", false)]
    [InlineData("", false)]
    public void TryParseUrl_OnlyAbsoluteHttp(string text, bool ok)
    {
        Assert.Equal(ok, WebhookSender.TryParseUrl(text, out _));
    }
}
