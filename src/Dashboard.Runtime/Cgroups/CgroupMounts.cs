using System.Text;

namespace Dashboard.Runtime.Cgroups;

/// <summary>How the host mounts cgroups.</summary>
public enum CgroupLayout
{
    /// <summary>Only cgroup v1 hierarchies (one per controller or co-mounted group).</summary>
    Legacy,

    /// <summary>v1 hierarchies carry the controllers, plus a controller-less cgroup2 mount (systemd "hybrid").</summary>
    Hybrid,

    /// <summary>One cgroup2 hierarchy carries every controller.</summary>
    Unified,
}

/// <summary>One cgroup mount from mountinfo: a v1 hierarchy with its controllers, or the cgroup2 mount.</summary>
/// <param name="MountPoint">Where it is mounted (host path, octal escapes decoded).</param>
/// <param name="Root">The cgroup inside the hierarchy that the mount shows as its root (mountinfo field 4).</param>
/// <param name="Controllers">v1 controllers and <c>name=</c> hierarchies; empty for cgroup2.</param>
public sealed record CgroupMount(string MountPoint, string Root, bool IsV2, IReadOnlyList<string> Controllers);

/// <summary>The cgroup mounts of a host, read from <c>/proc/self/mountinfo</c>.</summary>
public sealed class CgroupMounts
{
    /// <summary>The v1 controllers this runtime knows; other super-options (rw, nsdelegate, …) are not controllers.</summary>
    private static readonly HashSet<string> s_v1Controllers =
    [
        "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "hugetlb",
        "net_cls", "net_prio", "perf_event", "rdma", "misc",
    ];

    private CgroupMounts(CgroupLayout layout, IReadOnlyList<CgroupMount> v1, CgroupMount? unified)
    {
        Layout = layout;
        V1 = v1;
        Unified = unified;
    }

    public CgroupLayout Layout { get; }

    /// <summary>v1 hierarchies, one entry per hierarchy (the first mount of each).</summary>
    public IReadOnlyList<CgroupMount> V1 { get; }

    /// <summary>The cgroup2 mount (all controllers on <see cref="CgroupLayout.Unified"/>, none on hybrid).</summary>
    public CgroupMount? Unified { get; }

    /// <summary>The v1 hierarchy that carries <paramref name="controller"/>, if mounted.</summary>
    public CgroupMount? FindV1(string controller) =>
        V1.FirstOrDefault(m => m.Controllers.Contains(controller));

    public static CgroupMounts ReadCurrent() => Parse(Dashboard.Linux.Fs.SmallFiles.ReadAllText("/proc/self/mountinfo"));

    /// <summary>Parses mountinfo text (proc(5)): fields up to " - ", then fstype, source, super options.</summary>
    /// <remarks>Over spans, making strings only for cgroup mounts: every create parses the whole table.</remarks>
    public static CgroupMounts Parse(string mountInfo)
    {
        var v1 = new List<CgroupMount>();
        var seenControllers = new HashSet<string>();
        var v2 = new List<CgroupMount>();
        var rest = mountInfo.AsSpan();
        while (!rest.IsEmpty)
        {
            var newline = rest.IndexOf('\n');
            var line = newline < 0 ? rest : rest[..newline];
            rest = newline < 0 ? [] : rest[(newline + 1)..];
            line = line.TrimEnd('\r');
            var separator = line.IndexOf(" - ", StringComparison.Ordinal);
            if (separator < 0)
            {
                continue;
            }

            var pre = line[..separator];
            var post = line[(separator + 3)..];
            if (FieldCount(pre) < 6 || FieldCount(post) < 3)
            {
                continue;
            }

            var fstype = Field(post, 0);
            var isV2 = fstype is "cgroup2";
            if (!isV2 && fstype is not "cgroup")
            {
                continue;
            }

            var root = Unescape(Field(pre, 3).ToString());
            var mountPoint = Unescape(Field(pre, 4).ToString());
            if (isV2)
            {
                v2.Add(new CgroupMount(mountPoint, root, true, []));
                continue;
            }

            var controllers = new List<string>();
            foreach (var option in Field(post, 2).ToString().Split(','))
            {
                if (s_v1Controllers.Contains(option) || option.StartsWith("name=", StringComparison.Ordinal))
                {
                    controllers.Add(option);
                }
            }

            // A hierarchy mounted twice (bind mounts, nested runtimes) is the same hierarchy: keep the first.
            if (controllers.Count > 0 && !controllers.Any(seenControllers.Contains))
            {
                seenControllers.UnionWith(controllers);
                v1.Add(new CgroupMount(mountPoint, root, false, controllers));
            }
        }

        var unified = v2.FirstOrDefault(m => m.MountPoint == "/sys/fs/cgroup")
            ?? v2.FirstOrDefault(m => m.MountPoint == "/sys/fs/cgroup/unified")
            ?? v2.FirstOrDefault();
        var hasV1Controllers = v1.Any(m => m.Controllers.Any(c => !c.StartsWith("name=", StringComparison.Ordinal)));
        if (hasV1Controllers)
        {
            return new CgroupMounts(unified is null ? CgroupLayout.Legacy : CgroupLayout.Hybrid, v1, unified);
        }

        return unified is not null
            ? new CgroupMounts(CgroupLayout.Unified, [], unified)
            : throw new CgroupException(CgroupErrorKind.Unsupported, "no cgroup filesystem is mounted");
    }

    /// <summary>Fields separated by single spaces, as string.Split(' ') counts them (empty ones included).</summary>
    private static int FieldCount(ReadOnlySpan<char> text) => text.Count(' ') + 1;

    private static ReadOnlySpan<char> Field(ReadOnlySpan<char> text, int index)
    {
        for (var i = 0; i < index; i++)
        {
            text = text[(text.IndexOf(' ') + 1)..];
        }

        var end = text.IndexOf(' ');
        return end < 0 ? text : text[..end];
    }

    /// <summary>mountinfo escapes space, tab, newline and backslash as \ooo octal.</summary>
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var sb = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && IsOctal(field[i + 1]) && IsOctal(field[i + 2]) && IsOctal(field[i + 3]))
            {
                sb.Append((char)(((field[i + 1] - '0') * 64) + ((field[i + 2] - '0') * 8) + (field[i + 3] - '0')));
                i += 3;
            }
            else
            {
                sb.Append(field[i]);
            }
        }

        return sb.ToString();
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';
}

/// <summary>A process's cgroup memberships, from <c>/proc/&lt;pid&gt;/cgroup</c>.</summary>
public static class ProcCgroup
{
    /// <summary>Maps each v1 controller (and <c>name=</c> hierarchy) to its path; the v2 path has key "".</summary>
    public static IReadOnlyDictionary<string, string> Parse(string text)
    {
        var result = new Dictionary<string, string>();
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            var parts = line.Split(':', 3);
            if (parts.Length < 3)
            {
                throw new CgroupException(CgroupErrorKind.InvalidSpec, $"invalid cgroup entry: {line}");
            }

            if (parts[0] == "0" && parts[1].Length == 0)
            {
                result[""] = parts[2];
                continue;
            }

            foreach (var controller in parts[1].Split(','))
            {
                result[controller] = parts[2];
            }
        }

        return result;
    }
}
