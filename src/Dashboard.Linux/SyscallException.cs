using System.Runtime.InteropServices;

namespace Dashboard.Linux;

/// <summary>
/// A failed kernel call: the call's name, its errno (captured at once) and the path it acted on.
/// Its message is in strerror wording, lowercase, e.g. <c>mount /proc: operation not permitted</c>,
/// because tools that drive runtimes match such text (STYLE.md, errors).
/// </summary>
public sealed class SyscallException : IOException
{
    public SyscallException(string call, int errno, string? path = null)
        : base(Format(call, errno, path))
    {
        Call = call;
        Errno = errno;
        Path = path;
        HResult = errno;
    }

    public string Call { get; }

    public int Errno { get; }

    public string? Path { get; }

    /// <summary>Throws for the errno of the last P/Invoke marked <c>SetLastError = true</c>.</summary>
    public static SyscallException FromLastError(string call, string? path = null) =>
        new(call, Marshal.GetLastPInvokeError(), path);

    private static string Format(string call, int errno, string? path) =>
        path is null ? $"{call}: {Linux.Errno.Describe(errno)}" : $"{call} {path}: {Linux.Errno.Describe(errno)}";
}
