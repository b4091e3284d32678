namespace Dashboard.Runtime.Cgroups;

public enum CgroupErrorKind
{
    /// <summary>The config asks for something malformed (bad cgroupsPath, bad value).</summary>
    InvalidSpec,

    /// <summary>The host cannot do what the config asks (controller not mounted, v2-only key on v1).</summary>
    Unsupported,

    /// <summary>The operation does not fit the cgroup's state (freeze that never settles, kill that never empties).</summary>
    InvalidState,

    /// <summary>A cgroupfs read or write failed; the inner <see cref="Dashboard.Linux.SyscallException"/> has the errno.</summary>
    Io,
}

/// <summary>A cgroup failure with its kind; messages are lowercase runc-style text.</summary>
public sealed class CgroupException : Exception
{
    public CgroupException(CgroupErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
    }

    public CgroupErrorKind Kind { get; }
}
