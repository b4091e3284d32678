using Dashboard.Linux;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Security;
using Dashboard.Runtime.Seccomp;

namespace Dashboard.Runtime.Init;

/// <summary>The last steps before execve, shared by create and exec: limits, identity, capabilities, no_new_privs, seccomp.</summary>
internal static class ProcessSetup
{
    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static void ApplyRlimits(Oci.Runtime.Process process)
    {
        foreach (var rlimit in process.Rlimits ?? [])
        {
            Sys.SetRlimit(RlimitNames.Number(rlimit.Type), rlimit.Soft, rlimit.Hard, rlimit.Type);
        }
    }

    public static void ApplyOomScoreAdj(Oci.Runtime.Process process)
    {
        if (process.OomScoreAdj is { } adj)
        {
            ProcFs.Write("/proc/self/oom_score_adj", adj.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>chdir to the process cwd and make sure it really is inside the container (CVE-2024-21626).</summary>
    public static void ChangeDirectory(string cwd)
    {
        try
        {
            Sys.Chdir(cwd);
        }
        catch (SyscallException e)
        {
            throw RuntimeException.Wrap($"chdir to cwd (\"{cwd}\") set in config.json failed", e);
        }

        var actual = Sys.GetCwd();
        if (!actual.StartsWith('/'))
        {
            throw new RuntimeException(ErrorKind.PermissionDenied, $"current working directory is outside of container mount namespace root -- possible container breakout detected (cwd \"{cwd}\")");
        }
    }

    /// <summary>Finds the program like execvp, in the container's root, before the container is reported created.</summary>
    public static string ResolveExecutable(Oci.Runtime.Process process)
    {
        var name = process.Args![0];
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return IsExecutable(name) ? name : throw new RuntimeException(ErrorKind.NotFound, $"exec: \"{name}\": stat {name}: no such file or directory");
        }

        var path = process.Env?.LastOrDefault(e => e.StartsWith("PATH=", StringComparison.Ordinal))?[5..] ?? DefaultPath;
        foreach (var dir in path.Split(':'))
        {
            var candidate = System.IO.Path.Combine(dir.Length == 0 ? "." : dir, name);
            if (IsExecutable(candidate))
            {
                return candidate;
            }
        }

        throw new RuntimeException(ErrorKind.NotFound, $"exec: \"{name}\": executable file not found in $PATH");
    }

    private static bool IsExecutable(string path) =>
        Sys.TryStat(path, follow: true, out var st) && (st.Mode & 0xF000) == 0x8000 && (st.Mode & 0x49) != 0;

    /// <summary>
    /// Compiles the container's seccomp profile. One with SCMP_ACT_NOTIFY is installed here, before
    /// the create/start handshake, so its listener fd can still reach the runtime over the sync
    /// socket (runc does the same); the setup calls after it pass through the filter. Returns the
    /// filter that is still to be installed at exec, or null.
    /// </summary>
    public static SeccompProgram? PrepareSeccomp(Oci.Runtime.Seccomp? seccomp, int sync)
    {
        if (seccomp is null)
        {
            return null;
        }

        var filter = SeccompCompiler.Compile(seccomp);
        if (!filter.HasListener)
        {
            return filter;
        }

        SeccompListener.HandOver(sync, filter);
        return null;
    }

    /// <summary>
    /// Drops to the configured identity and capabilities and execs. Order follows runc
    /// (finalizeNamespace): seccomp before the capability drop unless no_new_privs is set,
    /// in which case it goes last, right before execve.
    /// </summary>
    public static void FinalizeAndExec(Oci.Runtime.Process process, SeccompProgram? filter, string executable, int preserveFds, bool userNamespace, bool asInit = false)
    {
        if (filter is not null && !process.NoNewPrivileges)
        {
            filter.Install();
        }

        var caps = process.Capabilities;
        var bounding = CapabilityNames.ToMask(caps?.Bounding, "bounding");
        for (var cap = 0; cap <= CapabilityNames.LastCap; cap++)
        {
            if ((bounding & (1UL << cap)) == 0)
            {
                Sys.Prctl(PrctlOptions.PR_CAPBSET_DROP, (nuint)cap);
            }
        }

        Sys.Prctl(PrctlOptions.PR_SET_KEEPCAPS, 1);
        var user = process.User;
        var groups = user.AdditionalGids?.ToArray() ?? [];
        if (!userNamespace || File.ReadAllText("/proc/self/setgroups").Trim() != "deny")
        {
            Sys.SetGroups(groups);
        }

        Sys.SetResGid(user.Gid);
        Sys.SetResUid(user.Uid);
        Sys.Prctl(PrctlOptions.PR_SET_KEEPCAPS, 0);

        var effective = CapabilityNames.ToMask(caps?.Effective, "effective");
        var permitted = CapabilityNames.ToMask(caps?.Permitted, "permitted");
        var inheritable = CapabilityNames.ToMask(caps?.Inheritable, "inheritable");
        Sys.Capset((uint)effective, (uint)(effective >> 32), (uint)permitted, (uint)(permitted >> 32), (uint)inheritable, (uint)(inheritable >> 32));
        Sys.Prctl(PrctlOptions.PR_CAP_AMBIENT, PrctlOptions.PR_CAP_AMBIENT_CLEAR_ALL);
        var ambient = CapabilityNames.ToMask(caps?.Ambient, "ambient");
        for (var cap = 0; cap <= CapabilityNames.LastCap; cap++)
        {
            if ((ambient & (1UL << cap)) != 0)
            {
                Sys.Prctl(PrctlOptions.PR_CAP_AMBIENT, PrctlOptions.PR_CAP_AMBIENT_RAISE, (nuint)cap);
            }
        }

        if (process.NoNewPrivileges)
        {
            Sys.Prctl(PrctlOptions.PR_SET_NO_NEW_PRIVS, 1);
        }

        Sys.Umask(process.User.Umask ?? 0x12);

        // Nothing of ours reaches the container but stdio and the preserved fds (CVE-2024-21626).
        Sys.CloexecFrom(3 + preserveFds);
        Exec.ResetSignals();
        if (filter is not null && process.NoNewPrivileges)
        {
            filter.Install();
        }

        PhaseTimer.Mark("init: execve");
        if (asInit)
        {
            // run.dashboard.init: stay PID 1 with the process's own identity and filter, and supervise it.
            InitReaper.Run(executable, process.Args!, process.Env ?? []);
        }

        Exec.Execve(executable, process.Args!, process.Env ?? []);
    }
}
