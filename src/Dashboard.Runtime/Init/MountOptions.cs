using Dashboard.Linux.Native;

namespace Dashboard.Runtime.Init;

/// <summary>config.json mount options split into mount(2) flags, propagation and fs data (runc's parseMountOptions).</summary>
public sealed record MountOptions(ulong Flags, ulong ClearFlags, ulong Propagation, string? Data, bool Bind, bool Recursive, bool IdMap, bool RecursiveIdMap = false)
{
    private static readonly Dictionary<string, (bool Clear, ulong Flag)> s_flags = new()
    {
        ["defaults"] = (false, 0),
        ["ro"] = (false, MountFlags.MS_RDONLY),
        ["rw"] = (true, MountFlags.MS_RDONLY),
        ["suid"] = (true, MountFlags.MS_NOSUID),
        ["nosuid"] = (false, MountFlags.MS_NOSUID),
        ["dev"] = (true, MountFlags.MS_NODEV),
        ["nodev"] = (false, MountFlags.MS_NODEV),
        ["exec"] = (true, MountFlags.MS_NOEXEC),
        ["noexec"] = (false, MountFlags.MS_NOEXEC),
        ["sync"] = (false, MountFlags.MS_SYNCHRONOUS),
        ["async"] = (true, MountFlags.MS_SYNCHRONOUS),
        ["dirsync"] = (false, MountFlags.MS_DIRSYNC),
        ["remount"] = (false, MountFlags.MS_REMOUNT),
        ["mand"] = (false, MountFlags.MS_MANDLOCK),
        ["nomand"] = (true, MountFlags.MS_MANDLOCK),
        ["atime"] = (true, MountFlags.MS_NOATIME),
        ["noatime"] = (false, MountFlags.MS_NOATIME),
        ["diratime"] = (true, MountFlags.MS_NODIRATIME),
        ["nodiratime"] = (false, MountFlags.MS_NODIRATIME),
        ["relatime"] = (false, MountFlags.MS_RELATIME),
        ["norelatime"] = (true, MountFlags.MS_RELATIME),
        ["strictatime"] = (false, MountFlags.MS_STRICTATIME),
        ["nostrictatime"] = (true, MountFlags.MS_STRICTATIME),
        ["lazytime"] = (false, MountFlags.MS_LAZYTIME),
        ["nolazytime"] = (true, MountFlags.MS_LAZYTIME),
        ["symfollow"] = (true, MountFlags.MS_NOSYMFOLLOW),
        ["nosymfollow"] = (false, MountFlags.MS_NOSYMFOLLOW),
    };

    private static readonly Dictionary<string, ulong> s_propagation = new()
    {
        ["private"] = MountFlags.MS_PRIVATE,
        ["rprivate"] = MountFlags.MS_PRIVATE | MountFlags.MS_REC,
        ["shared"] = MountFlags.MS_SHARED,
        ["rshared"] = MountFlags.MS_SHARED | MountFlags.MS_REC,
        ["slave"] = MountFlags.MS_SLAVE,
        ["rslave"] = MountFlags.MS_SLAVE | MountFlags.MS_REC,
        ["unbindable"] = MountFlags.MS_UNBINDABLE,
        ["runbindable"] = MountFlags.MS_UNBINDABLE | MountFlags.MS_REC,
    };

    /// <summary>Whether the mount is id-mapped: an idmap/ridmap option or mappings of its own (runtime-spec config.md "mounts").</summary>
    public static bool IsIdMapped(Oci.Runtime.Mount mount, MountOptions options) =>
        options.IdMap || mount.UidMappings is { Count: > 0 } || mount.GidMappings is { Count: > 0 };

    public static IEnumerable<string> KnownOptions => s_flags.Keys.Concat(s_propagation.Keys).Concat(["bind", "rbind", "idmap", "ridmap", "tmpcopyup"]);

    public static MountOptions Parse(IEnumerable<string>? options, string? type)
    {
        ulong flags = 0, clear = 0, propagation = 0;
        bool bind = type == "bind", recursive = false, idmap = false, recursiveIdmap = false;
        var data = new List<string>();
        foreach (var option in options ?? [])
        {
            if (s_flags.TryGetValue(option, out var f))
            {
                if (f.Clear)
                {
                    flags &= ~f.Flag;
                    clear |= f.Flag;
                }
                else
                {
                    flags |= f.Flag;
                    clear &= ~f.Flag;
                }
            }
            else if (s_propagation.TryGetValue(option, out var p))
            {
                propagation = p;
            }
            else if (option == "bind")
            {
                bind = true;
            }
            else if (option == "rbind")
            {
                bind = true;
                recursive = true;
            }
            else if (option is "idmap" or "ridmap")
            {
                idmap = true;
                recursive |= option == "ridmap";
                recursiveIdmap |= option == "ridmap";
            }
            else if (option == "tmpcopyup")
            {
                // crun/podman extension: not supported here; ignored like runc ignores unknown extensions.
            }
            else
            {
                data.Add(option);
            }
        }

        return new MountOptions(flags, clear, propagation, data.Count > 0 ? string.Join(',', data) : null, bind, recursive, idmap, recursiveIdmap);
    }
}
