using System.Collections.Concurrent;

namespace Dashboard.Web.Security;

public enum AuditOutcome
{
    Succeeded,
    Failed,
    Denied,
}

public sealed record AuditEntry(DateTimeOffset Time, string User, string Action, string Target, AuditOutcome Outcome, string? Detail);

public interface IAuditLog
{
    Task WriteAsync(AuditEntry entry, CancellationToken cancellationToken);

    IReadOnlyList<AuditEntry> Recent(int max);
}

/// <summary>Keeps the newest entries in memory and writes each to the application log; persistence is future work.</summary>
public sealed class MemoryAuditLog(ILogger<MemoryAuditLog> logger) : IAuditLog
{
    private const int Capacity = 5000;
    private readonly ConcurrentQueue<AuditEntry> _entries = new();

    public Task WriteAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        _entries.Enqueue(entry);
        while (_entries.Count > Capacity && _entries.TryDequeue(out _))
        {
        }

        logger.LogInformation("audit: {User} {Action} {Target}: {Outcome} {Detail}", entry.User, entry.Action, entry.Target, entry.Outcome, entry.Detail);
        return Task.CompletedTask;
    }

    public IReadOnlyList<AuditEntry> Recent(int max) => _entries.Reverse().Take(max).ToList();
}
