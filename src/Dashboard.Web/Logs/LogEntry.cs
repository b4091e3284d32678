using Dashboard.Web.Engines;

namespace Dashboard.Web.Logs;

public enum LogEntryKind
{
    Line,

    /// <summary>A marker where lines were dropped because the reader fell behind.</summary>
    Skipped,
}

/// <summary>A log line ready to render; <see cref="Html"/> comes from <see cref="AnsiHtmlConverter"/> and is safe markup.</summary>
public sealed record LogEntry(long Sequence, LogEntryKind Kind, DateTimeOffset? Timestamp, LogStream Stream, string Html, long SkippedCount)
{
    public static LogEntry Skipped(long sequence, long count) => new(sequence, LogEntryKind.Skipped, null, LogStream.Stdout, "", count);
}
