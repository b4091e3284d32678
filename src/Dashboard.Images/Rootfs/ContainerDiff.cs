using System.Formats.Tar;
using System.Text;
using Dashboard.Linux.Fs;

namespace Dashboard.Images.Rootfs;

/// <summary>
/// Turns a container's overlayfs upper directory into an image layer (image-spec layer.md
/// "Changesets" and "Whiteouts"): overlay whiteouts (character devices 0:0) become
/// <c>.wh.&lt;name&gt;</c> entries, opaque directories (<c>trusted.overlay.opaque=y</c>, or
/// <c>user.overlay.opaque</c> on userxattr mounts) get a <c>.wh..wh..opq</c> entry, hardlinks within
/// the changes become tar hardlinks, and overlay's own xattrs are never copied into the layer.
/// Files are opened with <c>O_NOFOLLOW</c>, so a symlink swapped in by the container is never read
/// through (security.md B11); commit a paused or stopped container.
/// </summary>
public static partial class ContainerDiff
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";

    /// <summary>Writes the changes of <paramref name="upperDirectory"/> as an uncompressed layer tar.</summary>
    public static void WriteLayer(string upperDirectory, Stream output, CancellationToken cancellationToken = default)
    {
        using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        var links = new Dictionary<(ulong Device, ulong Inode), string>();
        WriteDirectory(writer, Path.GetFullPath(upperDirectory), string.Empty, links, cancellationToken);
    }

    private static void WriteDirectory(TarWriter writer, string directory, string relative, Dictionary<(ulong, ulong), string> links, CancellationToken cancellationToken)
    {
        using var handle = FileCalls.Open(directory, FileCalls.O_RDONLY | FileCalls.O_DIRECTORY | FileCalls.O_NOFOLLOW);
        foreach (var name in SafeRoot.ListNames(handle).Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = Path.Combine(directory, name);
            var entryName = relative + name;
            var st = FileCalls.Lstat(path);
            if (st.Kind == FileKind.CharDevice && st.RdevMajor == 0 && st.RdevMinor == 0)
            {
                writer.WriteEntry(Entry(TarEntryType.RegularFile, relative + WhiteoutPrefix + name, st, null));
                continue;
            }

            var xattrs = FileCalls.ListXattrs(path);
            if (xattrs.Keys.Any(k => k is "trusted.overlay.redirect" or "trusted.overlay.metacopy" or "user.overlay.redirect" or "user.overlay.metacopy"))
            {
                // With redirect_dir or metacopy the upper entry is not the whole change; the mount must not enable them.
                throw new ImageException(ImageErrorKind.Unsupported, $"diff {entryName}: overlay redirect/metacopy entries are not supported");
            }

            if (st.Kind == FileKind.Directory)
            {
                writer.WriteEntry(Entry(TarEntryType.Directory, entryName + "/", st, xattrs));
                if (IsOpaque(xattrs))
                {
                    var marker = Entry(TarEntryType.RegularFile, entryName + "/" + OpaqueMarker, st, null);
                    marker.Mode = 0;
                    writer.WriteEntry(marker);
                }

                WriteDirectory(writer, path, entryName + "/", links, cancellationToken);
                continue;
            }

            WriteNonDirectory(writer, path, entryName, st, xattrs, links);
        }
    }

    /// <summary>Writes one entry that is not a directory: hardlinks within the change set become tar hardlinks.</summary>
    private static void WriteNonDirectory(TarWriter writer, string path, string entryName, FileStatus st, Dictionary<string, byte[]> xattrs, Dictionary<(ulong, ulong), string> links)
    {
        switch (st.Kind)
        {
            case FileKind.Regular when st.Links > 1 && links.TryGetValue((st.Device, st.Inode), out var first):
                var link = Entry(TarEntryType.HardLink, entryName, st, null);
                link.LinkName = first;
                writer.WriteEntry(link);
                break;
            case FileKind.Regular:
                if (st.Links > 1)
                {
                    links[(st.Device, st.Inode)] = entryName;
                }

                using (var file = new FileStream(FileCalls.Open(path, FileCalls.O_RDONLY | FileCalls.O_NOFOLLOW), FileAccess.Read, 1 << 16))
                {
                    var entry = Entry(TarEntryType.RegularFile, entryName, st, xattrs);
                    entry.DataStream = file;
                    writer.WriteEntry(entry);
                }

                break;
            case FileKind.Symlink:
                var symlink = Entry(TarEntryType.SymbolicLink, entryName, st, xattrs);
                symlink.LinkName = new FileInfo(path).LinkTarget ?? string.Empty;
                writer.WriteEntry(symlink);
                break;
            case FileKind.Fifo:
                writer.WriteEntry(Entry(TarEntryType.Fifo, entryName, st, xattrs));
                break;
            case FileKind.CharDevice or FileKind.BlockDevice:
                var device = Entry(st.Kind == FileKind.CharDevice ? TarEntryType.CharacterDevice : TarEntryType.BlockDevice, entryName, st, xattrs);
                device.DeviceMajor = (int)st.RdevMajor;
                device.DeviceMinor = (int)st.RdevMinor;
                writer.WriteEntry(device);
                break;
            default:
                // Sockets belong to a running process, not to an image (docker commit skips them too).
                break;
        }
    }

    private static bool IsOpaque(Dictionary<string, byte[]> xattrs) =>
        (xattrs.TryGetValue("trusted.overlay.opaque", out var value) || xattrs.TryGetValue("user.overlay.opaque", out value)) && value is [(byte)'y', ..];

    private static PaxTarEntry Entry(TarEntryType type, string name, FileStatus st, Dictionary<string, byte[]>? xattrs)
    {
        var extended = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in xattrs ?? [])
        {
            // overlayfs bookkeeping never belongs in a layer (security.md B5); PAX carries text, so
            // values that are not valid UTF-8 are left out rather than corrupted.
            if (key.StartsWith("trusted.", StringComparison.Ordinal) || key.StartsWith("user.overlay.", StringComparison.Ordinal) || !IsUtf8(value))
            {
                continue;
            }

            extended["SCHILY.xattr." + key] = Encoding.UTF8.GetString(value);
        }

        return new PaxTarEntry(type, name, extended)
        {
            Mode = (UnixFileMode)st.Permissions,
            Uid = (int)st.Uid,
            Gid = (int)st.Gid,
            ModificationTime = st.ModifiedTime,
        };
    }

    private static bool IsUtf8(byte[] value)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(value);
            return !value.Contains((byte)0);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
