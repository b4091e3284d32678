using Dashboard.Images.Content;
using Dashboard.Images.Layers;
using Dashboard.Linux.Fs;
using Dashboard.Oci;

namespace Dashboard.Images.Rootfs;

/// <summary>How a container root filesystem was made.</summary>
public enum RootfsKind
{
    Overlay,
    Copy,
}

/// <summary>
/// A container's root filesystem under its own directory: <c>rootfs/</c> is an overlayfs mount of
/// the image's layer directories with the container's own <c>upper/</c> and <c>work/</c>, so
/// creating it copies nothing (DESIGN.md §4); where overlayfs is missing, <c>rootfs/</c> is a copy.
/// The container directory is 0700 (security.md B6: unpacked trees must not be reachable by host users).
/// </summary>
public sealed class ContainerRootfs
{
    private ContainerRootfs(string directory, RootfsKind kind)
    {
        Directory = directory;
        Kind = kind;
    }

    public string Directory { get; }

    public string RootfsPath => Path.Combine(Directory, "rootfs");

    public string UpperPath => Path.Combine(Directory, "upper");

    public RootfsKind Kind { get; }

    public bool IsMounted => Kind == RootfsKind.Overlay && OverlayMount.IsMountPoint(RootfsPath);

    /// <summary>Creates (and mounts) the root filesystem of a container from unpacked layers.</summary>
    public static ContainerRootfs Create(LayerStore layers, IReadOnlyList<Digest> chainIds, string containerDirectory, RootfsKind? kind = null)
    {
        var chosen = kind ?? (OverlayMount.IsSupported() ? RootfsKind.Overlay : RootfsKind.Copy);
        ContentStore.CreatePrivateDirectory(containerDirectory);
        var rootfs = new ContainerRootfs(Path.GetFullPath(containerDirectory), chosen);
        System.IO.Directory.CreateDirectory(rootfs.RootfsPath);
        var lowers = layers.GetLowerDirectories(chainIds).ToList();
        if (chosen == RootfsKind.Copy)
        {
            if (lowers.Count > 0)
            {
                if (layers.Driver != LayerDriver.Copy)
                {
                    throw new ImageException(ImageErrorKind.Unsupported, "a copied rootfs needs the copy layer driver (overlay layer dirs hold only differences)");
                }

                TreeCopy.Copy(lowers[0], rootfs.RootfsPath);
            }

            return rootfs;
        }

        if (lowers.Count == 0)
        {
            var empty = Path.Combine(rootfs.Directory, "empty");
            System.IO.Directory.CreateDirectory(empty);
            lowers.Add(empty);
        }

        System.IO.Directory.CreateDirectory(rootfs.UpperPath);
        System.IO.Directory.CreateDirectory(Path.Combine(rootfs.Directory, "work"));
        OverlayMount.Mount(rootfs.RootfsPath, lowers, rootfs.UpperPath, Path.Combine(rootfs.Directory, "work"));
        return rootfs;
    }

    /// <summary>Opens an existing container directory (for removal after an engine restart).</summary>
    public static ContainerRootfs Open(string containerDirectory) =>
        new(Path.GetFullPath(containerDirectory), System.IO.Directory.Exists(Path.Combine(containerDirectory, "upper")) ? RootfsKind.Overlay : RootfsKind.Copy);

    /// <summary>Unmounts the rootfs (lazily if busy) and deletes the container directory.</summary>
    public void Remove()
    {
        if (Kind == RootfsKind.Overlay)
        {
            try
            {
                OverlayMount.TryUnmount(RootfsPath);
            }
            catch (Dashboard.Linux.SyscallException e) when (e.Errno == Dashboard.Linux.Errno.EBUSY)
            {
                // Still busy after the retries (a process with a file open inside): detached below.
            }

            if (OverlayMount.IsMountPoint(RootfsPath))
            {
                OverlayMount.TryUnmount(RootfsPath, detach: true);
            }

            // Deleting through a live overlay would delete the image's shared layers.
            if (OverlayMount.IsMountPoint(RootfsPath))
            {
                throw new ImageException(ImageErrorKind.InvalidState, $"rootfs {RootfsPath} is still mounted");
            }
        }

        if (System.IO.Directory.Exists(Directory))
        {
            LayerStore.RemoveTree(Directory);
        }
    }
}
