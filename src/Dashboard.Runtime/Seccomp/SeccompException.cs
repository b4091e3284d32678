namespace Dashboard.Runtime.Seccomp;

/// <summary>
/// A seccomp profile that cannot be compiled. The message is lowercase and starts with
/// <c>seccomp:</c> (e.g. <c>seccomp: unknown action "SCMP_ACT_FOO"</c>); the error kind is an
/// invalid spec.
/// </summary>
public sealed class SeccompException : Exception
{
    public SeccompException()
    {
    }

    public SeccompException(string message)
        : base(message)
    {
    }

    public SeccompException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
