using System.Globalization;
using System.Text;
using Dashboard.Linux;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Init;

/// <summary>
/// Id-mapped bind mounts (runtime-spec config.md "mounts": uidMappings/gidMappings, options
/// idmap/ridmap). The runtime prepares them before the container exists, as runc does: mount_setattr
/// with MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN over the source filesystem's user namespace (the
/// host's), which init no longer has inside a new user namespace. Each source is cloned detached
/// (open_tree), mapped through a user namespace that carries the mount's mapping, given its flags,
/// and handed to init as an fd, which attaches it to the target it resolved inside the rootfs.
/// </summary>
public static class IdmappedMounts
{
    /// <summary>Whether this kernel can make id-mapped mounts at all (mount_setattr, Linux 5.12).</summary>
    public static bool KernelSupports => MountApi.SetattrAvailable;

    /// <summary>
    /// Prepares every id-mapped mount of <paramref name="spec"/>; returns their detached trees by
    /// index in <c>spec.mounts</c>. The caller owns the fds. Filesystems support id mapping from
    /// different kernels on (ext4, xfs, btrfs 5.12–5.15, overlay 5.19, tmpfs 6.3); one that does not
    /// gives an Unsupported error naming it and the kernel.
    /// </summary>
    public static Dictionary<int, int> Prepare(Spec spec)
    {
        var trees = new Dictionary<int, int>();
        var namespaces = new Dictionary<string, int>(StringComparer.Ordinal);
        var mounts = spec.Mounts ?? [];
        try
        {
            for (var index = 0; index < mounts.Count; index++)
            {
                var mount = mounts[index];
                var options = MountOptions.Parse(mount.Options, mount.Type);
                if (!MountOptions.IsIdMapped(mount, options))
                {
                    continue;
                }

                var what = $"mount {mount.Source} to {mount.Destination}";
                var (uidMap, gidMap) = Mappings(spec, mount, what);
                if (!KernelSupports)
                {
                    throw new RuntimeException(ErrorKind.Unsupported, $"{what}: id-mapped mounts need Linux 5.12 or newer (kernel {UserNamespace.KernelRelease()})");
                }

                var key = uidMap + "\n--\n" + gidMap;
                if (!namespaces.TryGetValue(key, out var userns))
                {
                    userns = UserNamespace.CreateWithMappings(uidMap, gidMap);
                    namespaces[key] = userns;
                }

                trees[index] = PrepareOne(mount, options, userns, what);
            }

            return trees;
        }
        catch
        {
            foreach (var fd in trees.Values)
            {
                Sys.Close(fd);
            }

            throw;
        }
        finally
        {
            foreach (var fd in namespaces.Values)
            {
                Sys.Close(fd);
            }
        }
    }

    private static int PrepareOne(Mount mount, MountOptions options, int userns, string what)
    {
        var source = Sys.Open(mount.Source!, OpenFlags.O_PATH);
        var tree = -1;
        try
        {
            tree = MountApi.CloneTree(source, options.Recursive, mount.Source!);
            try
            {
                MountApi.SetAttributes(tree, options.RecursiveIdMap, MountApi.MOUNT_ATTR_IDMAP, 0, 0, userns, mount.Source!);
            }
            catch (SyscallException e) when (e.Errno is Errno.EINVAL or Errno.EOPNOTSUPP)
            {
                var fs = MountApi.FsName(Sys.FsType(source, mount.Source));
                throw new RuntimeException(ErrorKind.Unsupported, $"{what}: {fs} does not support id-mapped mounts on kernel {UserNamespace.KernelRelease()} ({e.Message})", e);
            }

            RootfsSetup.ConfigureTree(tree, options.Flags & ~MountFlags.MS_REMOUNT, options.ClearFlags, options.Propagation, mount.Destination);
            var result = tree;
            tree = -1;
            return result;
        }
        finally
        {
            Sys.Close(tree);
            Sys.Close(source);
        }
    }

    /// <summary>
    /// The mount's own mappings, or (option idmap/ridmap alone) the container's user-namespace
    /// mappings, as runc does. containerID is the id on the source filesystem, hostID the id the
    /// mount presents it as.
    /// </summary>
    private static (string Uid, string Gid) Mappings(Spec spec, Mount mount, string what)
    {
        var uid = mount.UidMappings is { Count: > 0 } ? mount.UidMappings : null;
        var gid = mount.GidMappings is { Count: > 0 } ? mount.GidMappings : null;
        if (uid is null && gid is null)
        {
            uid = spec.Linux?.UidMappings is { Count: > 0 } u ? u : null;
            gid = spec.Linux?.GidMappings is { Count: > 0 } g ? g : null;
        }

        if (uid is null || gid is null)
        {
            throw RuntimeException.InvalidSpec($"{what}: an id-mapped mount needs both uidMappings and gidMappings (on the mount, or the container's user namespace mappings)");
        }

        return (Format(uid), Format(gid));
    }

    private static string Format(IReadOnlyList<IdMapping> mappings)
    {
        var text = new StringBuilder();
        foreach (var m in mappings)
        {
            text.Append(CultureInfo.InvariantCulture, $"{m.ContainerId} {m.HostId} {m.Size}\n");
        }

        return text.ToString();
    }
}
