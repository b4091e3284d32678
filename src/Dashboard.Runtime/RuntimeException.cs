namespace Dashboard.Runtime;

/// <summary>Error kinds, mapped once per boundary (CLI exit code and log line; engine HTTP status).</summary>
public enum ErrorKind
{
    Internal,
    NotFound,
    AlreadyExists,
    InvalidState,
    InvalidSpec,
    InvalidArgument,
    PermissionDenied,
    Unsupported,
    Io,
}

/// <summary>A runtime failure with its kind; messages are lowercase, strerror-like, naming the object.</summary>
public sealed class RuntimeException : Exception
{
    public RuntimeException(ErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
    }

    public ErrorKind Kind { get; }

    public static RuntimeException NotFound(string id) => new(ErrorKind.NotFound, $"container \"{id}\" does not exist");

    public static RuntimeException InvalidSpec(string message) => new(ErrorKind.InvalidSpec, message);

    public static RuntimeException InvalidState(string message) => new(ErrorKind.InvalidState, message);

    /// <summary>Adds context to any exception: "start container abc: mount /proc: operation not permitted".</summary>
    public static RuntimeException Wrap(string context, Exception inner) => inner switch
    {
        RuntimeException r => new RuntimeException(r.Kind, $"{context}: {r.Message}", r),
        Linux.SyscallException s => new RuntimeException(
            s.Errno is Linux.Errno.EPERM or Linux.Errno.EACCES ? ErrorKind.PermissionDenied : s.Errno == Linux.Errno.ENOENT ? ErrorKind.NotFound : ErrorKind.Io,
            $"{context}: {s.Message}",
            s),
        _ => new RuntimeException(ErrorKind.Internal, $"{context}: {inner.Message}", inner),
    };
}
