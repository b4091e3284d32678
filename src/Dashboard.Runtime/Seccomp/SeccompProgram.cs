using Dashboard.Linux.Native;

namespace Dashboard.Runtime.Seccomp;

/// <summary>A compiled seccomp filter: the BPF program, the seccomp(2) flags and what was skipped.</summary>
public sealed class SeccompProgram
{
    internal SeccompProgram(SockFilter[] instructions, SeccompFilterFlags flags, IReadOnlyList<string> warnings)
    {
        Instructions = instructions;
        Flags = flags;
        Warnings = warnings;
    }

    public SockFilter[] Instructions { get; }

    /// <summary>Flags for seccomp(2); includes <see cref="SeccompFilterFlags.NewListener"/> when a rule uses SCMP_ACT_NOTIFY.</summary>
    public SeccompFilterFlags Flags { get; }

    /// <summary>Whether <see cref="Install"/> returns a user-notification fd to hand to <c>listenerPath</c>.</summary>
    public bool HasListener => (Flags & SeccompFilterFlags.NewListener) != 0;

    /// <summary>Things the compiler skipped (unknown syscall names, architectures without a table), one sentence each.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>
    /// Loads the filter on the calling thread (all threads with TSYNC). The caller has set
    /// no_new_privs or holds CAP_SYS_ADMIN. Returns the listener fd when <see cref="HasListener"/>, else -1.
    /// </summary>
    public int Install() => SeccompFilter.Install(Instructions, Flags);
}
