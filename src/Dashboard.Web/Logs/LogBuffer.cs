namespace Dashboard.Web.Logs;

/// <summary>A bounded buffer of the newest entries that counts what it had to let go (STYLE.md habit 5).</summary>
public sealed class LogBuffer
{
    private readonly Queue<LogEntry> _entries;

    public LogBuffer(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _entries = new Queue<LogEntry>(Math.Min(capacity, 1024));
    }

    public int Capacity { get; }

    public int Count => _entries.Count;

    /// <summary>Lines that were in the buffer and were evicted to stay within <see cref="Capacity"/>.</summary>
    public long Evicted { get; private set; }

    public void Add(LogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (_entries.Count == Capacity)
        {
            var old = _entries.Dequeue();
            Evicted += old.Kind == LogEntryKind.Skipped ? old.SkippedCount : 1;
        }

        _entries.Enqueue(entry);
    }

    public List<LogEntry> Snapshot(Func<LogEntry, bool> include)
    {
        var list = new List<LogEntry>(_entries.Count);
        foreach (var e in _entries)
        {
            if (include(e))
            {
                list.Add(e);
            }
        }

        return list;
    }
}
