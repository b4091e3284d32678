using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Seccomp;

/// <summary>What this runtime's seccomp support accepts, for the <c>features</c> verb (features-linux.md).</summary>
public static class SeccompSupport
{
    public static IReadOnlyList<string> Actions { get; } =
    [
        "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
    ];

    public static IReadOnlyList<string> Operators { get; } =
    [
        "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
    ];

    /// <summary>Architectures with a syscall table; other libseccomp names are accepted and skipped with a warning.</summary>
    public static IReadOnlyList<string> Architectures { get; } =
    [
        "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64",
    ];

    public static IReadOnlyList<string> KnownFlags { get; } =
    [
        "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    ];

    /// <summary>The <see cref="KnownFlags"/> the running kernel accepts (probed without installing a filter).</summary>
    public static List<string> SupportedFlags()
    {
        var supported = new List<string>(KnownFlags.Count);
        foreach (var name in KnownFlags)
        {
            var flag = ParseFlag(name);
            // WAIT_KILLABLE_RECV is only valid together with NEW_LISTENER.
            var probe = flag == SeccompFilterFlags.WaitKillableRecv ? flag | SeccompFilterFlags.NewListener : flag;
            if (SeccompFilter.IsSupported(probe))
            {
                supported.Add(name);
            }
        }

        return supported;
    }

    /// <summary>The <c>linux.seccomp</c> object of <c>features</c>.</summary>
    public static SeccompFeatures Describe() => new()
    {
        Enabled = true,
        Actions = [.. Actions],
        Operators = [.. Operators],
        Archs = [.. Architectures],
        KnownFlags = [.. KnownFlags],
        SupportedFlags = SupportedFlags(),
    };

    internal static SeccompFilterFlags ParseFlag(string name) => name switch
    {
        "SECCOMP_FILTER_FLAG_TSYNC" => SeccompFilterFlags.Tsync,
        "SECCOMP_FILTER_FLAG_LOG" => SeccompFilterFlags.Log,
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => SeccompFilterFlags.SpecAllow,
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" => SeccompFilterFlags.WaitKillableRecv,
        _ => SeccompFilterFlags.None,
    };
}
