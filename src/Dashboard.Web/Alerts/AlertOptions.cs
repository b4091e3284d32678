namespace Dashboard.Web.Alerts;

/// <summary>The <c>Dashboard:Alerts</c> configuration section; the webhook URL itself is set by an Admin in the UI.</summary>
public sealed class AlertOptions
{
    public const string Section = "Dashboard:Alerts";

    /// <summary>Per attempt; a webhook that hangs must not hold alerts back.</summary>
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Attempts per alert (first try included).</summary>
    public int WebhookAttempts { get; set; } = 3;

    /// <summary>Wait before the second attempt; doubles for each further one.</summary>
    public TimeSpan WebhookRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Alerts waiting for the webhook; the oldest are dropped beyond this.</summary>
    public int WebhookQueue { get; set; } = 256;

    /// <summary>Minimum time between two "died"/"unhealthy" alerts of one rule for one container.</summary>
    public TimeSpan EventCooldown { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the running containers are listed to follow their stats (only while CPU/memory rules exist).</summary>
    public TimeSpan StatsScanInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Stats streams followed per engine at most.</summary>
    public int MaxStatsStreams { get; set; } = 64;

    /// <summary>Wait before reconnecting to an engine's event stream after it failed.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);
}
