namespace Dashboard.Engine.Policy;

/// <summary>Host path facts the policy needs: real paths (symlinks resolved) and whether a namespace file is the host's.</summary>
public static class HostPath
{
    private const int MaxLinks = 40;

    /// <summary>
    /// The real path of <paramref name="path"/>: every symlink component resolved, <c>..</c> applied after
    /// resolution (a user-writable directory holding <c>x -&gt; /</c> must not pass a prefix check: security.md D3).
    /// Missing trailing components are kept as written.
    /// </summary>
    public static string Resolve(string path)
    {
        if (!path.StartsWith('/'))
        {
            throw new IOException($"{path}: not an absolute path");
        }

        var pending = new Stack<string>(path.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
        var parts = new List<string>();
        var links = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            var candidate = "/" + string.Join('/', parts.Append(part));
            FileSystemInfo info = new FileInfo(candidate);
            if (info.Exists || Directory.Exists(candidate))
            {
                info = File.GetAttributes(candidate).HasFlag(FileAttributes.Directory) ? new DirectoryInfo(candidate) : info;
            }

            if (info.LinkTarget is { } target)
            {
                if (++links > MaxLinks)
                {
                    throw new IOException($"{path}: too many levels of symbolic links");
                }

                if (target.StartsWith('/'))
                {
                    parts.Clear();
                }

                foreach (var t in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
                {
                    pending.Push(t);
                }

                continue;
            }

            parts.Add(part);
        }

        return "/" + string.Join('/', parts);
    }

    /// <summary>Whether a namespace file (<c>/proc/PID/ns/net</c>, or a bind-mounted one) is the namespace host PID 1 is in: same nsfs inode.</summary>
    public static bool IsHostNamespace(string type, string path)
    {
        var file = type switch
        {
            "network" => "net",
            "mount" => "mnt",
            _ => type,
        };

        // A namespace that cannot be inspected is treated as the host's: the policy fails closed.
        return !Dashboard.Linux.Native.Sys.TryStat("/proc/1/ns/" + file, follow: true, out var host)
            || !Dashboard.Linux.Native.Sys.TryStat(path, follow: true, out var target)
            || (host.Ino == target.Ino && host.DevMajor == target.DevMajor && host.DevMinor == target.DevMinor);
    }
}
