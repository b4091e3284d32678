using Dashboard.Linux.Fs;
using Microsoft.Win32.SafeHandles;

namespace Dashboard.Images.Rootfs;

/// <summary>
/// Copies a directory tree fd-relative, preserving types, owners, modes, times, xattrs and
/// hardlinks, never following a symlink in either tree. The fallback where overlayfs is unavailable.
/// </summary>
public static class TreeCopy
{
    public static void Copy(string source, string destination)
    {
        using var src = FileCalls.Open(source, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
        using var dst = FileCalls.Open(destination, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
        var links = new Dictionary<(ulong Device, ulong Inode), string>();
        CopyChildren(src, dst, dst, string.Empty, links);
        var st = FileCalls.Stat(src);
        FileCalls.FchownPathFd(dst, st.Uid, st.Gid);
        FileCalls.ChmodPathFd(dst, st.Permissions);
    }

    private static void CopyChildren(SafeFileHandle src, SafeFileHandle dst, SafeFileHandle dstRoot, string relative, Dictionary<(ulong, ulong), string> links)
    {
        foreach (var name in SafeRoot.ListNames(src))
        {
            var st = FileCalls.StatAt(src, name);
            var path = relative.Length == 0 ? name : relative + "/" + name;
            switch (st.Kind)
            {
                case FileKind.Directory:
                    FileCalls.MkdirAt(dst, name, 0x1C0);
                    using (var childSrc = FileCalls.OpenAt(src, name, FileCalls.O_PATH | FileCalls.O_DIRECTORY | FileCalls.O_NOFOLLOW))
                    using (var childDst = FileCalls.OpenAt(dst, name, FileCalls.O_PATH | FileCalls.O_DIRECTORY | FileCalls.O_NOFOLLOW))
                    {
                        CopyChildren(childSrc, childDst, dstRoot, path, links);
                    }

                    break;
                case FileKind.Regular:
                    if (st.Links > 1 && links.TryGetValue((st.Device, st.Inode), out var first))
                    {
                        // The first copy's path is made of directories this copy created, so no symlink sits on it.
                        FileCalls.LinkAt(dstRoot, first, dst, name);
                        continue;
                    }

                    if (st.Links > 1)
                    {
                        links[(st.Device, st.Inode)] = path;
                    }

                    using (var input = FileCalls.OpenAt(src, name, FileCalls.O_RDONLY | FileCalls.O_NOFOLLOW))
                    using (var output = FileCalls.OpenAt(dst, name, FileCalls.O_WRONLY | FileCalls.O_CREAT | FileCalls.O_EXCL | FileCalls.O_NOFOLLOW, 0x180))
                    using (var reader = new FileStream(input, FileAccess.Read, 1))
                    using (var writer = new FileStream(output, FileAccess.Write, 1))
                    {
                        reader.CopyTo(writer, 1 << 17);
                    }

                    break;
                case FileKind.Symlink:
                    FileCalls.SymlinkAt(FileCalls.ReadLinkAt(src, name), dst, name);
                    break;
                case FileKind.CharDevice or FileKind.BlockDevice or FileKind.Fifo:
                    FileCalls.MknodAt(dst, name, st.Kind, 0x180, st.RdevMajor, st.RdevMinor);
                    break;
                default:
                    continue;
            }

            CopyMetadata(src, dst, name, st);
        }
    }

    private static void CopyMetadata(SafeFileHandle src, SafeFileHandle dst, string name, FileStatus st)
    {
        FileCalls.LchownAt(dst, name, st.Uid, st.Gid);
        if (st.Kind != FileKind.Symlink)
        {
            using var from = FileCalls.OpenAt(src, name, FileCalls.O_PATH | FileCalls.O_NOFOLLOW);
            using var to = FileCalls.OpenAt(dst, name, FileCalls.O_PATH | FileCalls.O_NOFOLLOW);
            FileCalls.ChmodPathFd(to, st.Permissions);
            foreach (var (key, value) in FileCalls.ListXattrs(FileCalls.ProcFdPath(from), follow: true))
            {
                FileCalls.SetXattrPathFd(to, key, value);
            }
        }

        FileCalls.LutimesAt(dst, name, st.ModifiedTime, st.ModifiedTime);
    }
}
