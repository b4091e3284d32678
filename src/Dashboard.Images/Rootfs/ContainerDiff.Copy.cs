using System.Formats.Tar;
using Dashboard.Linux;
using Dashboard.Linux.Fs;

namespace Dashboard.Images.Rootfs;

/// <summary>
/// The change set of a copied root filesystem (no overlayfs, so no upper directory): the container's
/// tree is compared with the image's full tree as Docker's naive differ does: an entry changed when
/// its type, permissions, owner, device numbers, xattrs or link target differ, or, for anything but
/// a directory, its size or mtime (a copy keeps mtimes, so untouched files compare equal). Names
/// only the image has become whiteouts.
/// </summary>
public static partial class ContainerDiff
{
    /// <summary>Writes the differences of <paramref name="rootfs"/> against <paramref name="imageTree"/> as an uncompressed layer tar.</summary>
    public static void WriteLayerFromCopy(string imageTree, string rootfs, Stream output, CancellationToken cancellationToken = default)
    {
        using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        var links = new Dictionary<(ulong Device, ulong Inode), string>();
        CompareDirectory(writer, Path.GetFullPath(imageTree), Path.GetFullPath(rootfs), string.Empty, links, cancellationToken);
    }

    private static void CompareDirectory(TarWriter writer, string? lowerDirectory, string directory, string relative, Dictionary<(ulong, ulong), string> links, CancellationToken cancellationToken)
    {
        using var handle = FileCalls.Open(directory, FileCalls.O_RDONLY | FileCalls.O_DIRECTORY | FileCalls.O_NOFOLLOW);
        using var lowerHandle = lowerDirectory is null ? null : FileCalls.Open(lowerDirectory, FileCalls.O_RDONLY | FileCalls.O_DIRECTORY | FileCalls.O_NOFOLLOW);
        var names = SafeRoot.ListNames(handle).ToHashSet(StringComparer.Ordinal);
        var lowerNames = lowerHandle is null ? [] : SafeRoot.ListNames(lowerHandle).ToHashSet(StringComparer.Ordinal);
        foreach (var name in names.Union(lowerNames).Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var entryName = relative + name;
            var lower = lowerNames.Contains(name) ? FileCalls.TryStatAt(lowerHandle!, name) : null;
            if (!names.Contains(name))
            {
                if (lower is { } deleted)
                {
                    var whiteout = Entry(TarEntryType.RegularFile, relative + WhiteoutPrefix + name, deleted, null);
                    whiteout.Mode = 0;
                    writer.WriteEntry(whiteout);
                }

                continue;
            }

            var path = Path.Combine(directory, name);
            var lowerPath = lowerDirectory is null ? null : Path.Combine(lowerDirectory, name);
            var st = FileCalls.TryStatAt(handle, name) ?? throw new SyscallException("lstat", Errno.ENOENT, path);
            var xattrs = FileCalls.ListXattrs(path);
            var changed = lower is not { } before || Differs(st, before, xattrs, path, lowerPath!);
            if (st.Kind == FileKind.Directory)
            {
                if (changed)
                {
                    writer.WriteEntry(Entry(TarEntryType.Directory, entryName + "/", st, xattrs));
                }

                CompareDirectory(writer, lower?.Kind == FileKind.Directory ? lowerPath : null, path, entryName + "/", links, cancellationToken);
            }
            else if (changed)
            {
                WriteNonDirectory(writer, path, entryName, st, xattrs, links);
            }
        }
    }

    private static bool Differs(FileStatus now, FileStatus before, Dictionary<string, byte[]> xattrs, string path, string lowerPath)
    {
        if (now.Kind != before.Kind || now.Permissions != before.Permissions || now.Uid != before.Uid || now.Gid != before.Gid
            || now.RdevMajor != before.RdevMajor || now.RdevMinor != before.RdevMinor)
        {
            return true;
        }

        if (now.Kind != FileKind.Directory && (now.Size != before.Size || now.ModifiedTime != before.ModifiedTime))
        {
            return true;
        }

        if (now.Kind == FileKind.Symlink && new FileInfo(path).LinkTarget != new FileInfo(lowerPath).LinkTarget)
        {
            return true;
        }

        var lowerXattrs = FileCalls.ListXattrs(lowerPath);
        return xattrs.Count != lowerXattrs.Count
            || xattrs.Any(x => !lowerXattrs.TryGetValue(x.Key, out var value) || !value.AsSpan().SequenceEqual(x.Value));
    }
}
