using Dashboard.Web.Alerts;

namespace Dashboard.Web.Tests.Fakes;

/// <summary>Alert rules and notifications in memory, for component tests (the EF store has its own tests).</summary>
public sealed class MemoryAlertStore : IAlertStore
{
    private readonly Lock _lock = new();
    private readonly List<AlertRule> _rules = [];
    private readonly List<AlertNotification> _notifications = [];
    private readonly HashSet<(string UserId, long Id)> _read = [];
    private string? _webhook;
    private int _nextRule = 1;
    private long _nextNotification = 1;

    public Task<IReadOnlyList<AlertRule>> ListRulesAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<AlertRule>>([.. _rules.Select(r => r.Clone())]);
        }
    }

    public Task<AlertRule> SaveRuleAsync(AlertRule rule, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var copy = rule.Clone();
            if (copy.Id == 0)
            {
                copy.Id = _nextRule++;
            }

            _rules.RemoveAll(r => r.Id == copy.Id);
            _rules.Add(copy);
            _rules.Sort((a, b) => a.Id.CompareTo(b.Id));
            return Task.FromResult(copy.Clone());
        }
    }

    public Task DeleteRuleAsync(int id, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _rules.RemoveAll(r => r.Id == id);
        }

        return Task.CompletedTask;
    }

    public Task<AlertNotification> AddNotificationAsync(AlertNotification notification, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            notification.Id = _nextNotification++;
            _notifications.Add(notification);
            return Task.FromResult(notification);
        }
    }

    public Task<IReadOnlyList<AlertNotification>> RecentAsync(string userId, IReadOnlyCollection<string> hiddenEngines, int count, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<AlertNotification>>([.. _notifications.Where(n => !hiddenEngines.Contains(n.Engine)).OrderByDescending(n => n.Id).Take(count).Select(n => Copy(n, IsRead(userId, n.Id)))]);
        }
    }

    public Task<int> UnreadCountAsync(string userId, IReadOnlyCollection<string> hiddenEngines, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_notifications.Count(n => !hiddenEngines.Contains(n.Engine) && !IsRead(userId, n.Id)));
        }
    }

    public Task MarkReadAsync(string userId, long? id, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            foreach (var n in _notifications.Where(n => id is null || n.Id == id))
            {
                _read.Add((userId, n.Id));
            }
        }

        return Task.CompletedTask;
    }

    public Task<string?> GetWebhookUrlAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_webhook);
        }
    }

    public Task SetWebhookUrlAsync(string? url, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _webhook = url;
        }

        return Task.CompletedTask;
    }

    private bool IsRead(string userId, long id) => _read.Contains((userId, id));

    private static AlertNotification Copy(AlertNotification n, bool read) => new()
    {
        Id = n.Id, RuleId = n.RuleId, RuleName = n.RuleName, Kind = n.Kind, Engine = n.Engine, ContainerId = n.ContainerId,
        ContainerName = n.ContainerName, Message = n.Message, TimeUtc = n.TimeUtc, Read = read,
    };
}
