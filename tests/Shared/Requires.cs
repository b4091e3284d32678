namespace Dashboard.Testing;

/// <summary>
/// Environment requirements of tests. A test may skip only with a reason, and never under CI
/// (CI=true), where root, namespaces, cgroups and the peer tools are all present: there a
/// missing requirement is a failure, not a skip (STYLE.md habit 6).
/// </summary>
public static class Requires
{
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static bool IsRoot => Environment.UserName == "root" || GetEuid() == 0;

    public static void Root()
    {
        if (!IsRoot)
        {
            Unmet("needs root");
        }
    }

    public static void Tool(string name)
    {
        if (FindTool(name) is null)
        {
            Unmet($"needs '{name}' on PATH");
        }
    }

    public static string? FindTool(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':'))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        foreach (var dir in new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" })
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    public static void Unmet(string reason)
    {
        if (InCi)
        {
            Assert.Fail($"requirement not met under CI: {reason}");
        }

        Assert.Skip(reason);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuid();
}
