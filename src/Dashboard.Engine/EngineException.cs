namespace Dashboard.Engine;

/// <summary>What went wrong, independent of transport; the API maps each kind to one HTTP status (STYLE.md errors 3).</summary>
public enum ErrorKind
{
    InvalidArgument,
    NotFound,
    AlreadyExists,
    InvalidState,
    NotModified,
    PermissionDenied,
    Unsupported,
    Io,
    Internal,
}

/// <summary>An engine failure carrying its <see cref="ErrorKind"/>; messages are lowercase Docker/strerror wording.</summary>
public sealed class EngineException : Exception
{
    public EngineException(ErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
    }

    public ErrorKind Kind { get; }

    public static EngineException NoSuchContainer(string reference) =>
        new(ErrorKind.NotFound, $"No such container: {reference}");

    public static EngineException NoSuchImage(string reference) =>
        new(ErrorKind.NotFound, $"No such image: {reference}");
}
