namespace Dashboard.Web.Engines;

/// <summary>An interactive exec with a TTY: the command, the terminal size and (optionally) the user to run as.</summary>
public sealed record ExecRequest(IReadOnlyList<string> Command, int Columns, int Rows, string? User = null);

/// <summary>
/// A running exec session with a TTY. With a TTY the engine sends one raw byte stream (no stdout/stderr
/// multiplexing); <see cref="ReadAsync"/> returns 0 once the process has ended and the stream is drained.
/// </summary>
public interface IExecSession : IAsyncDisposable
{
    string ExecId { get; }

    ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    Task ResizeAsync(int columns, int rows, CancellationToken cancellationToken);

    /// <summary>The exit code once the process ended, null while it runs or when the engine does not say.</summary>
    Task<long?> GetExitCodeAsync(CancellationToken cancellationToken);
}
