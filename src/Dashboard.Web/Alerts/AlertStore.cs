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

    /// <summary>
    /// Newest first, each with <see cref="AlertNotification.Read"/> as <paramref name="userId"/> left it; none from
    /// <paramref name="hiddenEngines"/> (engines the user may not see, security.md D7).
    /// </summary>
    Task<IReadOnlyList<AlertNotification>> RecentAsync(string userId, IReadOnlyCollection<string> hiddenEngines, int count, CancellationToken cancellationToken);

    /// <summary>How many notifications <paramref name="userId"/> has not read, not counting <paramref name="hiddenEngines"/>.</summary>
    Task<int> UnreadCountAsync(string userId, IReadOnlyCollection<string> hiddenEngines, CancellationToken cancellationToken);

    /// <summary>Marks one notification read for <paramref name="userId"/>, or all of them when <paramref name="id"/> is null; other users are unaffected.</summary>
    Task MarkReadAsync(string userId, long? id, CancellationToken cancellationToken);

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

    public Task<IReadOnlyList<AlertNotification>> RecentAsync(string userId, IReadOnlyCollection<string> hiddenEngines, int count, CancellationToken cancellationToken) =>
        WithDbAsync<IReadOnlyList<AlertNotification>>(async db =>
        {
            var through = await ReadThroughAsync(db, userId, cancellationToken);
            var recent = await db.Set<AlertNotification>().AsNoTracking().Where(n => !hiddenEngines.Contains(n.Engine))
                .OrderByDescending(n => n.Id).Take(count).ToListAsync(cancellationToken);
            var ids = recent.Where(n => n.Id > through).Select(n => n.Id).ToList();
            var read = (await db.Set<AlertRead>().Where(r => r.UserId == userId && ids.Contains(r.NotificationId)).Select(r => r.NotificationId).ToListAsync(cancellationToken)).ToHashSet();
            foreach (var n in recent)
            {
                n.Read = n.Id <= through || read.Contains(n.Id);
            }

            return recent;
        });

    public Task<int> UnreadCountAsync(string userId, IReadOnlyCollection<string> hiddenEngines, CancellationToken cancellationToken) =>
        WithDbAsync(async db =>
        {
            var through = await ReadThroughAsync(db, userId, cancellationToken);
            return await db.Set<AlertNotification>()
                .CountAsync(n => n.Id > through && !hiddenEngines.Contains(n.Engine) && !db.Set<AlertRead>().Any(r => r.UserId == userId && r.NotificationId == n.Id), cancellationToken);
        });

    public Task MarkReadAsync(string userId, long? id, CancellationToken cancellationToken) =>
        WithDbAsync(async db =>
        {
            if (id is null)
            {
                var newest = await db.Set<AlertNotification>().MaxAsync(n => (long?)n.Id, cancellationToken) ?? 0;
                var state = await db.Set<AlertReadState>().FirstOrDefaultAsync(s => s.UserId == userId, cancellationToken);
                if (state is null)
                {
                    db.Add(new AlertReadState { UserId = userId, ReadThroughId = newest });
                }
                else if (newest > state.ReadThroughId)
                {
                    state.ReadThroughId = newest;
                }

                await db.SaveChangesAsync(cancellationToken);
                return await db.Set<AlertRead>().Where(r => r.UserId == userId && r.NotificationId <= newest).ExecuteDeleteAsync(cancellationToken);
            }

            var through = await ReadThroughAsync(db, userId, cancellationToken);
            if (id <= through ||
                !await db.Set<AlertNotification>().AnyAsync(n => n.Id == id, cancellationToken) ||
                await db.Set<AlertRead>().AnyAsync(r => r.UserId == userId && r.NotificationId == id, cancellationToken))
            {
                return 0;
            }

            db.Add(new AlertRead { UserId = userId, NotificationId = id.Value });
            try
            {
                return await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                // Two circuits of the same user marked it at once: the row exists, which is all we wanted.
                return 0;
            }
        });

    private static async Task<long> ReadThroughAsync(WebDbContext db, string userId, CancellationToken cancellationToken) =>
        await db.Set<AlertReadState>().Where(s => s.UserId == userId).Select(s => (long?)s.ReadThroughId).FirstOrDefaultAsync(cancellationToken) ?? 0;

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
