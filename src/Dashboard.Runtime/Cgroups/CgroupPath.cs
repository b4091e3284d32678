using System.Text;

namespace Dashboard.Runtime.Cgroups;

/// <summary>
/// <c>linux.cgroupsPath</c> (config-linux.md "Cgroups path"), validated and normalised.
/// <list type="bullet">
/// <item>Absolute (<c>/a/b</c>): relative to the root of each hierarchy, as the spec says.</item>
/// <item>Relative (<c>a/b</c>): below the cgroup this runtime process itself is in, per hierarchy,
/// as runc does (so a runtime started inside a delegated cgroup stays inside it).</item>
/// <item>Absent or empty: <c>/dashboard/&lt;id&gt;</c>.</item>
/// </list>
/// Components <c>.</c> and <c>..</c>, control characters, over-long names and a path that names the
/// hierarchy root itself are refused: the path is joined under each mount point, so each of these would
/// let a config write limits to, move processes into, or delete a cgroup it does not own.
/// </summary>
public static class CgroupPath
{
    public const string DefaultParent = "/dashboard";

    private const int MaxComponentBytes = 255;
    private const int MaxPathBytes = 4096;

    /// <summary>Returns the normalised path (leading "/" kept for absolute paths, no trailing "/", no empty components).</summary>
    public static string Normalize(string? cgroupsPath, string containerId)
    {
        if (string.IsNullOrEmpty(cgroupsPath))
        {
            CheckComponent(containerId, "container id");
            return $"{DefaultParent}/{containerId}";
        }

        if (Encoding.UTF8.GetByteCount(cgroupsPath) > MaxPathBytes)
        {
            throw Invalid(cgroupsPath, "is longer than 4096 bytes");
        }

        var components = cgroupsPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (components.Length == 0)
        {
            throw Invalid(cgroupsPath, "names the cgroup root; a container needs a cgroup of its own");
        }

        foreach (var component in components)
        {
            CheckComponent(component, $"cgroupsPath \"{Printable(cgroupsPath)}\"");
        }

        var joined = string.Join('/', components);
        return cgroupsPath[0] == '/' ? "/" + joined : joined;
    }

    /// <summary>Joins a validated path below a base directory.</summary>
    internal static string Join(string baseDirectory, string relative) =>
        relative.Length == 0 ? baseDirectory : baseDirectory.TrimEnd('/') + "/" + relative.TrimStart('/');

    private static void CheckComponent(string component, string what)
    {
        if (component.Length == 0)
        {
            throw new CgroupException(CgroupErrorKind.InvalidSpec, $"invalid {what}: empty path component");
        }

        if (component is "." or "..")
        {
            throw new CgroupException(CgroupErrorKind.InvalidSpec, $"invalid {what}: \"{component}\" path components are not allowed");
        }

        if (component.Contains('/', StringComparison.Ordinal))
        {
            throw new CgroupException(CgroupErrorKind.InvalidSpec, $"invalid {what}: contains \"/\"");
        }

        foreach (var c in component)
        {
            if (char.IsControl(c))
            {
                throw new CgroupException(CgroupErrorKind.InvalidSpec, $"invalid {what}: contains a control character (U+{(int)c:X4})");
            }
        }

        if (Encoding.UTF8.GetByteCount(component) > MaxComponentBytes)
        {
            throw new CgroupException(CgroupErrorKind.InvalidSpec, $"invalid {what}: path component longer than 255 bytes");
        }
    }

    private static CgroupException Invalid(string path, string why) =>
        new(CgroupErrorKind.InvalidSpec, $"invalid cgroupsPath \"{Printable(path)}\": {why}");

    private static string Printable(string s)
    {
        var sb = new StringBuilder();
        foreach (var c in s.Length > 200 ? s[..200] + "…" : s)
        {
            sb.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString());
        }

        return sb.ToString();
    }
}
