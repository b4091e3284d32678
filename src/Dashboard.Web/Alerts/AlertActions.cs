using System.Security.Claims;
using Dashboard.Web.Security;

namespace Dashboard.Web.Alerts;

/// <summary>What the bell and the Alerts page may do, each call authorized (Viewer reads and marks read; Admin edits) and changes audited.</summary>
public sealed class AlertActions(IAlertStore store, AlertService service, WebhookSender webhook, ActionAuthorizer authorizer, IAuditLog audit)
{
    /// <summary>The newest notifications, read or unread for this user.</summary>
    public async Task<IReadOnlyList<AlertNotification>> RecentAsync(ClaimsPrincipal user, int count, CancellationToken cancellationToken)
    {
        var access = await authorizer.EnsureAsync(user, DashboardAction.ViewAlerts, "alerts", cancellationToken);
        return await store.RecentAsync(UserIdOf(access), HiddenEngines(access), Math.Clamp(count, 1, 1000), cancellationToken);
    }

    public async Task<int> UnreadCountAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var access = await authorizer.EnsureAsync(user, DashboardAction.ViewAlerts, "alerts", cancellationToken);
        return await store.UnreadCountAsync(UserIdOf(access), HiddenEngines(access), cancellationToken);
    }

    /// <summary>Marks one notification (or all) read for this user only; every open bell re-reads its own count.</summary>
    public async Task MarkReadAsync(ClaimsPrincipal user, long? id, CancellationToken cancellationToken)
    {
        var access = await authorizer.EnsureAsync(user, DashboardAction.ViewAlerts, "alerts", cancellationToken);
        await store.MarkReadAsync(UserIdOf(access), id, cancellationToken);
        await service.NotifyAsync();
    }

    /// <summary>Engines where the user's per-engine role does not let them list containers: their alerts name those containers, so they stay hidden (D7).</summary>
    public static IReadOnlyCollection<string> HiddenEngines(UserAccess access) =>
        access.EngineRoles.Keys.Where(engine => !access.Can(DashboardAction.ViewContainers, engine)).ToList();

    private static string UserIdOf(UserAccess access) =>
        access.UserId ?? throw new DashboardForbiddenException("alerts: permission denied");

    public async Task<IReadOnlyList<AlertRule>> RulesAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await authorizer.EnsureAsync(user, DashboardAction.ViewAlerts, "alert rules", cancellationToken);
        return await store.ListRulesAsync(cancellationToken);
    }

    /// <summary>Saves a rule (Admin); throws <see cref="AlertConfigurationException"/> with the problem for an invalid one.</summary>
    public async Task<AlertRule> SaveRuleAsync(ClaimsPrincipal user, AlertRule rule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var target = $"alert rule {rule.Name}";
        var access = await authorizer.EnsureAsync(user, DashboardAction.ManageAlerts, target, cancellationToken);
        rule.Name = rule.Name.Trim();
        rule.ContainerFilter = rule.ContainerFilter.Trim();
        if (rule.Problem() is { } problem)
        {
            throw new AlertConfigurationException($"{target}: {problem}");
        }

        var saved = await store.SaveRuleAsync(rule, cancellationToken);
        await service.ReloadRulesAsync(cancellationToken);
        await audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, access.UserName ?? "", nameof(DashboardAction.ManageAlerts), target, AuditOutcome.Succeeded, saved.Describe()), CancellationToken.None);
        return saved;
    }

    public async Task DeleteRuleAsync(ClaimsPrincipal user, AlertRule rule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var target = $"alert rule {rule.Name}";
        var access = await authorizer.EnsureAsync(user, DashboardAction.ManageAlerts, target, cancellationToken);
        await store.DeleteRuleAsync(rule.Id, cancellationToken);
        await service.ReloadRulesAsync(cancellationToken);
        await audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, access.UserName ?? "", nameof(DashboardAction.ManageAlerts), target, AuditOutcome.Succeeded, "deleted"), CancellationToken.None);
    }

    /// <summary>The webhook URL; Admin only (it may carry a secret token in its path).</summary>
    public async Task<string?> WebhookUrlAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await authorizer.EnsureAsync(user, DashboardAction.ManageAlerts, "alert webhook", cancellationToken);
        return await store.GetWebhookUrlAsync(cancellationToken);
    }

    public async Task SetWebhookUrlAsync(ClaimsPrincipal user, string? url, CancellationToken cancellationToken)
    {
        var access = await authorizer.EnsureAsync(user, DashboardAction.ManageAlerts, "alert webhook", cancellationToken);
        if (!string.IsNullOrWhiteSpace(url) && !WebhookSender.TryParseUrl(url, out _))
        {
            throw new AlertConfigurationException("alert webhook: expected an http:// or https:// URL without user name or password");
        }

        await store.SetWebhookUrlAsync(string.IsNullOrWhiteSpace(url) ? null : url.Trim(), cancellationToken);
        await audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, access.UserName ?? "", nameof(DashboardAction.ManageAlerts), "alert webhook", AuditOutcome.Succeeded, null), CancellationToken.None);
    }

    /// <summary>POSTs a test alert to the configured webhook now; true when it answered 2xx.</summary>
    public async Task<bool> TestWebhookAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var access = await authorizer.EnsureAsync(user, DashboardAction.ManageAlerts, "alert webhook", cancellationToken);
        if (!WebhookSender.TryParseUrl(await store.GetWebhookUrlAsync(cancellationToken), out var url))
        {
            throw new AlertConfigurationException("alert webhook: no webhook URL set");
        }

        return await webhook.SendAsync(url!, new WebhookPayload("test", "Test", "", "", "", $"test alert from {access.UserName}", DateTimeOffset.UtcNow), cancellationToken);
    }
}

/// <summary>An alert rule or webhook setting that cannot be saved; the message says why and is shown to the Admin.</summary>
public sealed class AlertConfigurationException(string message) : Exception(message);

public static class AlertServiceCollectionExtensions
{
    public static IServiceCollection AddAlerts(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AlertOptions>().Bind(configuration.GetSection(AlertOptions.Section));
        services.AddSingleton<IAlertStore, EfAlertStore>();
        services.AddSingleton<WebhookSender>(sp => new WebhookSender(sp.GetRequiredService<IOptions<AlertOptions>>(), sp.GetRequiredService<ILogger<WebhookSender>>()));
        services.AddSingleton<AlertService>();
        services.AddHostedService(sp => sp.GetRequiredService<AlertService>());
        services.AddScoped<AlertActions>();
        return services;
    }
}
