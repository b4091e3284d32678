using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Dashboard.Web.Identity;

/// <summary>
/// Tells a user's open circuits and hub streams that their rights changed (role change, sign-out everywhere, engine
/// roles, deletion), so they re-check now instead of at the next periodic revalidation (security.md D5, D7).
/// </summary>
public sealed class SessionNotifier(ILogger<SessionNotifier> logger)
{
    private readonly ConcurrentDictionary<string, ImmutableList<Func<Task>>> _handlers = new(StringComparer.Ordinal);

    public IDisposable Subscribe(string userId, Func<Task> handler)
    {
        ArgumentNullException.ThrowIfNull(userId);
        _handlers.AddOrUpdate(userId, _ => [handler], (_, list) => list.Add(handler));
        return new Subscription(this, userId, handler);
    }

    /// <summary>Runs every handler of <paramref name="userId"/>; one failing handler does not stop the others.</summary>
    public async Task NotifyAsync(string userId)
    {
        if (!_handlers.TryGetValue(userId, out var handlers))
        {
            return;
        }

        foreach (var handler in handlers)
        {
            try
            {
                await handler();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                logger.LogWarning(e, "session change notification for user {UserId} failed", userId);
            }
        }
    }

    public int SubscriberCount(string userId) => _handlers.TryGetValue(userId, out var list) ? list.Count : 0;

    private void Unsubscribe(string userId, Func<Task> handler)
    {
        while (_handlers.TryGetValue(userId, out var list))
        {
            var updated = list.Remove(handler);
            if (updated.IsEmpty ? _handlers.TryRemove(KeyValuePair.Create(userId, list)) : _handlers.TryUpdate(userId, updated, list))
            {
                return;
            }
        }
    }

    private sealed class Subscription(SessionNotifier owner, string userId, Func<Task> handler) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Unsubscribe(userId, handler);
            }
        }
    }
}
