namespace Dashboard.Runtime.Security;

/// <summary>Linux capability names (capabilities(7)) and their numbers.</summary>
public static class CapabilityNames
{
    private static readonly string[] s_names =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ];

    public static IReadOnlyList<string> All => s_names;

    /// <summary>The highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap).</summary>
    public static int LastCap { get; } = ReadLastCap();

    private static int ReadLastCap()
    {
        try
        {
            return int.Parse(Dashboard.Linux.Fs.SmallFiles.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return s_names.Length - 1;
        }
    }

    public static int Number(string name) => Array.IndexOf(s_names, name);

    /// <summary>
    /// Turns a list of names into a bit mask. An unknown name is an error (runtime-spec: "the runtime
    /// MUST generate an error for unknown capabilities"; runc only warns); a known capability
    /// that the running kernel lacks is left out, as runc does.
    /// </summary>
    public static ulong ToMask(IEnumerable<string>? names, string set)
    {
        ulong mask = 0;
        if (names is null)
        {
            return mask;
        }

        foreach (var name in names)
        {
            var n = Number(name);
            if (n < 0)
            {
                throw RuntimeException.InvalidSpec($"unknown capability \"{name}\" in {set} set");
            }

            if (n <= LastCap)
            {
                mask |= 1UL << n;
            }
        }

        return mask;
    }
}
