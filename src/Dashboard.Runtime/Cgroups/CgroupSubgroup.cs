namespace Dashboard.Runtime.Cgroups;

/// <summary>Sub-cgroup paths of <c>exec --cgroup</c>.</summary>
public static class CgroupSubgroup
{
    /// <summary>
    /// A sub-cgroup must stay below the container's cgroup: relative, no "." or ".." component, no
    /// control characters (security.md A9: "exec --cgroup ../../../system.slice -> rejected").
    /// </summary>
    public static void Validate(string sub)
    {
        var components = sub.Split('/');
        if (sub.Length == 0 || sub.StartsWith('/') || components.Any(c => c is "" or "." or ".." || c.Length > 255 || c.Any(char.IsControl)))
        {
            throw new RuntimeException(ErrorKind.InvalidArgument, $"invalid sub-cgroup \"{sub}\": it must be a relative path inside the container's cgroup");
        }
    }
}
