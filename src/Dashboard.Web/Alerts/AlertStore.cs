using Dashboard.Web.Identity;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Web.Alerts;

/// <summary>Where rules, fired alerts and the webhook setting live (the web database).</summary>
public interface IAlertStore
{
    Task<IReadOnlyList<AlertRule>> ListRulesAsync(CancellationToken cancellationToken);

    /// <summary>Inserts (Id 0) or updates a rule; returns it with its id.</summary>
    Task<AlertRule> SaveRuleAsync(AlertRule rule, CancellationToken cancellationToken);

    Task DeleteRuleAsync(int id, CancellationToken cancellationToken);

    Task<AlertNotification> AddNotificationAsync(AlertNotification notification, CancellationToken cancellationToken);

    /// <summary>Newest first.</summary>
    Task<IReadOnlyList<AlertNotification>> RecentAsync(int count, CancellationToken cancellationToken);

    Task<int> UnreadCountAsync(CancellationToken cancellationToken);

    /// <summary>Marks one notification read, or all of them when <paramref name="id"/> is null.</summary>
    Task MarkReadAsync(long? id, CancellationToken cancellationToken);

    Task<string?> GetWebhookUrlAsync(CancellationToken cancellationToken);

    Task SetWebhookUrlAsync(string? url, CancellationToken cancellationToken);
}

/// <summary><see cref="IAlertStore"/> on the web database; one short-lived context per call (callers are singletons and circuits).</summary>
public sealed class EfAlertStore(IServiceScopeFactory scopes) : IAlertStore
{
    /// <summary>Older notifications are deleted beyond this many, so the table stays small.</summary>
    public const int MaxNotifications = 5_000;

    public Task<IReadOnlyList<AlertRule>> ListRulesAsync(CancellationToken cancellationToken) =>
        WithDbAsync<IReadOnlyList<AlertRule>>(async db => await db.Set<AlertRule>().AsNoTracking().OrderBy(r => r.Id).ToListAsync(cancellationToken));

    public Task<AlertRule> SaveRuleAsync(AlertRule rule, CancellationToken cancellationToken) =>
        WithDbAsync(async db =>
        {
            var copy = rule.Clone();
            if (copy.Id == 0)
            {
                db.Add(copy);
            }
            else
            {
                db.Update(copy);
            }

            await db.SaveChangesAsync(cancellationToken);
            return copy;
        });

    public Task DeleteRuleAsync(int id, CancellationToken cancellationToken) =>
        WithDbAsync(async db => await db.Set<AlertRule>().Where(r => r.Id == id).ExecuteDeleteAsync(cancellationToken));

    public Task<AlertNotification> AddNotificationAsync(AlertNotification notification, CancellationToken cancellationToken) =>
        WithDbAsync(async db =>
        {
            db.Add(notification);
            await db.SaveChangesAsync(cancellationToken);
            if (notification.Id % 100 == 0)
            {
                var cutoff = notification.Id - MaxNotifications;
                await db.Set<AlertNotification>().Where(n => n.Id <= cutoff).ExecuteDeleteAsync(cancellationToken);
            }

            return notification;
        });

    public Task<IReadOnlyList<AlertNotification>> RecentAsync(int count, CancellationToken cancellationToken) =>
        WithDbAsync<IReadOnlyList<AlertNotification>>(async db =>
            await db.Set<AlertNotification>().AsNoTracking().OrderByDescending(n => n.Id).Take(count).ToListAsync(cancellationToken));

    public Task<int> UnreadCountAsync(CancellationToken cancellationToken) =>
        WithDbAsync(db => db.Set<AlertNotification>().CountAsync(n => !n.Read, cancellationToken));

    public Task MarkReadAsync(long? id, CancellationToken cancellationToken) =>
        WithDbAsync(db => db.Set<AlertNotification>()
            .Where(n => !n.Read && (id == null || n.Id == id))
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.Read, true), cancellationToken));

    public Task<string?> GetWebhookUrlAsync(CancellationToken cancellationToken) =>
        WithDbAsync(async db => (await db.Set<AlertSettings>().AsNoTracking().FirstOrDefaultAsync(s => s.Id == AlertSettings.SingletonId, cancellationToken))?.WebhookUrl);

    public Task SetWebhookUrlAsync(string? url, CancellationToken cancellationToken) =>
        WithDbAsync(async db =>
        {
            var row = await db.Set<AlertSettings>().FirstOrDefaultAsync(s => s.Id == AlertSettings.SingletonId, cancellationToken);
            if (row is null)
            {
                db.Add(new AlertSettings { WebhookUrl = url });
            }
            else
            {
                row.WebhookUrl = url;
            }

            return await db.SaveChangesAsync(cancellationToken);
        });

    private async Task<T> WithDbAsync<T>(Func<WebDbContext, Task<T>> action)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<WebDbContext>());
    }
}
