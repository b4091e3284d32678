using Dashboard.Images;

namespace Dashboard.Engine.Images;

/// <summary>Dashboard.Images' error kinds as the engine's (mapped once, STYLE.md errors 3).</summary>
public static class ImageErrors
{
    public static ErrorKind Kind(ImageErrorKind kind) => kind switch
    {
        ImageErrorKind.NotFound => ErrorKind.NotFound,
        ImageErrorKind.AlreadyExists => ErrorKind.AlreadyExists,
        ImageErrorKind.InvalidState => ErrorKind.InvalidState,
        ImageErrorKind.InvalidSpec => ErrorKind.InvalidArgument,
        ImageErrorKind.PermissionDenied => ErrorKind.PermissionDenied,
        ImageErrorKind.Unsupported => ErrorKind.Unsupported,
        ImageErrorKind.Io => ErrorKind.Io,
        _ => ErrorKind.Internal,
    };
}
