namespace Dashboard.Images;

/// <summary>The error kinds of the image store (STYLE.md errors rule 2).</summary>
public enum ImageErrorKind
{
    NotFound,
    AlreadyExists,
    InvalidState,

    /// <summary>Bad input: wrong digest or size, malformed document, unsafe archive entry.</summary>
    InvalidSpec,
    PermissionDenied,
    Unsupported,
    Io,
    Internal,
}

/// <summary>An image-store failure with its kind; the message names the object it is about.</summary>
public sealed class ImageException : Exception
{
    public ImageException(ImageErrorKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    public ImageException(ImageErrorKind kind, string message, Exception inner)
        : base(message, inner)
    {
        Kind = kind;
    }

    public ImageErrorKind Kind { get; }
}
