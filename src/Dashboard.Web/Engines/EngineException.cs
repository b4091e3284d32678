namespace Dashboard.Web.Engines;

public enum EngineErrorKind
{
    NotFound,
    Conflict,
    InvalidRequest,
    PermissionDenied,
    Unavailable,
    Internal,
}

/// <summary>An engine call failed; <see cref="Exception.Message"/> is the engine's message, safe to show to the user.</summary>
public sealed class EngineException : Exception
{
    public EngineException(EngineErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public EngineErrorKind Kind { get; }
}
