using System.Buffers;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Dashboard.Linux;
using Dashboard.Linux.Fs;
using Dashboard.Oci;
using Dashboard.Oci.Image;
using Microsoft.Win32.SafeHandles;

namespace Dashboard.Images.Layers;

/// <summary>Resource limits for applying one layer (security.md B7).</summary>
public sealed record LayerLimits
{
    /// <summary>Entries per layer; beyond it the layer is refused.</summary>
    public long MaxEntries { get; init; } = 2_000_000;

    /// <summary>Sum of regular file sizes per layer (a decompression bomb stops here).</summary>
    public long MaxUncompressedBytes { get; init; } = 64L << 30;
}

/// <summary>What one apply did.</summary>
public sealed record LayerApplyResult(Digest DiffId, long UncompressedBytes, long Entries, IReadOnlyList<string> Warnings);

/// <summary>
/// Applies an image layer (a tar changeset, image-spec layer.md) onto a directory tree. TarReader
/// only parses; every filesystem change is an fd-relative call: the entry's directory is resolved
/// in-root through <see cref="SafeRoot"/> (symlinks from this or earlier layers are evaluated inside
/// the root, security.md B0/B2), and the final name is created, replaced, chowned, chmod'ed and
/// timestamped with calls that never follow a symlink (B4). Whiteouts and opaque directories delete
/// only what lower layers put there.
/// </summary>
public static class LayerApplier
{
    private const string WhiteoutPrefix = ".wh.";
    private const string WhiteoutMetaPrefix = ".wh..wh.";
    private const string OpaqueWhiteout = ".wh..wh..opq";
    private const string XattrPaxPrefix = "SCHILY.xattr.";

    /// <summary>Opens the decompressed tar stream of a layer blob according to its media type.</summary>
    public static Stream Decompress(Stream blob, LayerCompression compression) => compression switch
    {
        LayerCompression.None => blob,
        LayerCompression.Gzip => new GZipStream(blob, CompressionMode.Decompress, leaveOpen: false),

        // ZstdSharp keeps zstd's default window limit (2^27 = 128 MiB): a frame declaring a larger
        // window is refused before the decoder allocates it (security.md B7 (d)).
        LayerCompression.Zstd => new ZstdSharp.DecompressionStream(blob, leaveOpen: false),
        _ => throw new ImageException(ImageErrorKind.Unsupported, $"unsupported layer compression {compression}"),
    };

    /// <summary>Applies an uncompressed tar stream onto <paramref name="root"/> and verifies its diff_id.</summary>
    public static LayerApplyResult Apply(SafeRoot root, Stream tar, Digest? expectedDiffId, LayerLimits? limits = null, CancellationToken cancellationToken = default) =>
        Apply(root, tar, expectedDiffId, limits, streamHash: null, cancellationToken);

    /// <summary>
    /// As <see cref="Apply(SafeRoot, Stream, Digest?, LayerLimits?, CancellationToken)"/>, where
    /// <paramref name="streamHash"/>, when given, is already fed every byte <paramref name="tar"/>
    /// yields (by whoever produces it) and is complete once the stream was read to its end, which
    /// the apply does; otherwise the apply hashes what it reads.
    /// </summary>
    internal static LayerApplyResult Apply(SafeRoot root, Stream tar, Digest? expectedDiffId, LayerLimits? limits, IncrementalHash? streamHash, CancellationToken cancellationToken)
    {
        using var ownHash = streamHash is null ? Digest.CreateHash(expectedDiffId?.Algorithm ?? Digest.Sha256) : null;
        var hash = streamHash ?? ownHash!;
        var guard = new TarGuardStream(tar, ownHash);
        using var state = new ApplyState(root, limits ?? new LayerLimits(), cancellationToken);
        try
        {
            using (var reader = new TarReader(guard, leaveOpen: true))
            {
                while (reader.GetNextEntry(copyData: false) is { } entry)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    state.Apply(entry);
                }
            }

            guard.Drain();
        }
        catch (InvalidDataException e)
        {
            throw new ImageException(ImageErrorKind.InvalidSpec, $"layer: invalid tar: {e.Message}", e);
        }
        catch (EndOfStreamException e)
        {
            throw new ImageException(ImageErrorKind.InvalidSpec, "layer: tar stream ends early", e);
        }
        catch (FormatException e)
        {
            throw new ImageException(ImageErrorKind.InvalidSpec, $"layer: invalid tar: {e.Message}", e);
        }

        state.FinishDirectoryTimes();
        var diffId = Digest.FromHash(expectedDiffId?.Algorithm ?? Digest.Sha256, hash.GetHashAndReset());
        if (expectedDiffId is { } want && want != diffId)
        {
            throw new ImageException(ImageErrorKind.InvalidSpec, $"layer: diff_id mismatch: content is {diffId}, config says {want}");
        }

        return new LayerApplyResult(diffId, state.Bytes, state.Entries, state.Warnings);
    }

    private sealed class ApplyState(SafeRoot root, LayerLimits limits, CancellationToken cancellationToken) : IDisposable
    {
        private readonly HashSet<string> _layerPaths = new(StringComparer.Ordinal);

        // The last entry's directory, resolved in-root once for the entries after it in the same
        // directory (tar writers group a directory's entries). Entries only ever create, replace or
        // remove children of it, which leaves its own resolution intact; whiteouts and opaque
        // markers, which resolve and remove elsewhere, drop it.
        private string? _parentPath;
        private SafeFileHandle? _parent;

        // Owner that a file created in that directory gets (our fsuid, and our fsgid or the
        // directory's group under setgid or grpid), learned from the first one: entries with that
        // owner need no fchown.
        private (uint Uid, uint Gid)? _createdOwner;
        private readonly HashSet<string> _opaqueDone = new(StringComparer.Ordinal);
        private readonly List<(string Path, DateTimeOffset Atime, DateTimeOffset Mtime)> _directoryTimes = [];

        public long Bytes { get; private set; }

        public long Entries { get; private set; }

        public List<string> Warnings { get; } = [];

        public void Apply(TarEntry entry)
        {
            if (entry.EntryType == TarEntryType.GlobalExtendedAttributes)
            {
                return;
            }

            if (++Entries > limits.MaxEntries)
            {
                throw Invalid($"layer has more than {limits.MaxEntries} entries");
            }

            var path = SafeRoot.Clean(entry.Name);
            if (path.Length == 0)
            {
                // The root itself ("./", "/"): its metadata belongs to the rootfs owner, not the layer.
                if (entry.EntryType != TarEntryType.Directory)
                {
                    throw Invalid($"entry \"{entry.Name}\" names the root but is not a directory");
                }

                return;
            }

            // PATH_MAX: both lookup paths (openat2 and the walker) then agree on what is too long.
            if (Encoding.UTF8.GetByteCount(path) >= 4096 || Encoding.UTF8.GetByteCount(entry.LinkName) >= 4096)
            {
                throw Invalid($"entry name or link target longer than 4096 bytes: \"{path[..Math.Min(path.Length, 64)]}…\"");
            }

            var slash = path.LastIndexOf('/');
            var directory = slash < 0 ? string.Empty : path[..slash];
            var name = slash < 0 ? path : path[(slash + 1)..];
            try
            {
                if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
                {
                    ApplyWhiteout(entry, directory, name);
                    return;
                }

                Remember(path);
                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        ApplyDirectory(entry, path);
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        ApplyRegular(entry, path);
                        break;
                    case TarEntryType.SymbolicLink:
                        ApplySymlink(entry, path);
                        break;
                    case TarEntryType.HardLink:
                        ApplyHardLink(entry, path);
                        break;
                    case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                        ApplyNode(entry, path);
                        break;
                    default:
                        throw Invalid($"entry \"{path}\" has unsupported tar type {entry.EntryType}");
                }
            }
            catch (SyscallException e)
            {
                throw new ImageException(e.Errno == Errno.ENOSPC ? ImageErrorKind.Io : ImageErrorKind.InvalidSpec, $"layer entry \"{path}\": {e.Message}", e);
            }
        }

        public void Dispose() => ForgetParent();

        public void ForgetParent()
        {
            _parent?.Dispose();
            _parent = null;
            _parentPath = null;
            _createdOwner = null;
        }

        public void FinishDirectoryTimes()
        {
            // Creating children changed the directories' mtimes; the recorded ones go on last, deepest first.
            for (var i = _directoryTimes.Count - 1; i >= 0; i--)
            {
                var (path, atime, mtime) = _directoryTimes[i];
                try
                {
                    using var parent = root.OpenParent(path, out var name);
                    if (FileCalls.TryStatAt(parent, name) is { Kind: FileKind.Directory })
                    {
                        FileCalls.LutimesAt(parent, name, atime, mtime);
                    }
                }
                catch (SyscallException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
                {
                    // Removed or replaced later in the same layer.
                }
            }
        }

        private void Remember(string path)
        {
            var current = path;
            while (_layerPaths.Add(current))
            {
                var slash = current.LastIndexOf('/');
                if (slash < 0)
                {
                    break;
                }

                current = current[..slash];
            }
        }

        private void ApplyWhiteout(TarEntry entry, string directory, string name)
        {
            ForgetParent();
            if (name == OpaqueWhiteout)
            {
                ApplyOpaque(directory);
                return;
            }

            if (name.StartsWith(WhiteoutMetaPrefix, StringComparison.Ordinal))
            {
                // AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs) that docker once exported; it names nothing to delete.
                Warnings.Add($"ignored whiteout metadata entry \"{entry.Name}\"");
                return;
            }

            var target = name[WhiteoutPrefix.Length..];

            // image-spec layer.md: a whiteout names one sibling; ".wh..", ".wh." and ".wh..." would
            // name the directory itself, its parent or nothing (containerd TestBreakouts Whiteout*).
            if (target.Length == 0 || target == "." || target == "..")
            {
                throw Invalid($"invalid whiteout entry \"{entry.Name}\"");
            }

            var targetPath = directory.Length == 0 ? target : directory + "/" + target;
            if (_layerPaths.Contains(targetPath))
            {
                // Whiteouts hide lower layers only; the same layer's own entry stays.
                return;
            }

            using var parent = root.TryOpen(directory, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
            if (parent is not null)
            {
                SafeRoot.RemoveAllAt(parent, target);
            }
        }

        private void ApplyOpaque(string directory)
        {
            if (!_opaqueDone.Add(directory))
            {
                // Repeated markers (containerd CVE-2026-95838 class): the lower entries are gone already.
                return;
            }

            if (directory.Length > 0)
            {
                Remember(directory);
            }

            using var handle = root.MkdirAll(directory, 0x1ED);
            foreach (var child in SafeRoot.ListNames(handle))
            {
                var childPath = directory.Length == 0 ? child : directory + "/" + child;
                if (!_layerPaths.Contains(childPath))
                {
                    SafeRoot.RemoveAllAt(handle, child);
                }
            }
        }

        /// <summary>The entry's directory, resolved (and created) in-root; owned by the cache, not the caller.</summary>
        private SafeFileHandle Parent(string path, out string name)
        {
            var slash = path.LastIndexOf('/');
            name = slash < 0 ? path : path[(slash + 1)..];
            var directory = slash < 0 ? string.Empty : path[..slash];
            if (_parent is not null && string.Equals(_parentPath, directory, StringComparison.Ordinal))
            {
                return _parent;
            }

            ForgetParent();
            _parent = root.MkdirAll(directory, 0x1ED);
            _parentPath = directory;
            return _parent;
        }

        private void ApplyDirectory(TarEntry entry, string path)
        {
            var parent = Parent(path, out var name);
            var existing = FileCalls.TryStatAt(parent, name);
            if (existing is { Kind: not FileKind.Directory })
            {
                SafeRoot.RemoveAllAt(parent, name);
                existing = null;
            }

            if (existing is null)
            {
                FileCalls.MkdirAt(parent, name, 0x1C0);
            }

            ApplyMetadata(entry, parent, name, path, regularFile: null);
            _directoryTimes.Add((path, AccessTime(entry), entry.ModificationTime));
        }

        private void ApplyRegular(TarEntry entry, string path)
        {
            if (entry.Length < 0 || entry.Length > limits.MaxUncompressedBytes - Bytes)
            {
                throw Invalid($"layer is larger than the limit of {limits.MaxUncompressedBytes} bytes");
            }

            Bytes += entry.Length;
            var parent = Parent(path, out var name);
            using var file = CreateFile(parent, name);
            if (entry.DataStream is { } data && entry.Length > 0)
            {
                Copy(data, file, entry.Length);
            }

            ApplyMetadata(entry, parent, name, path, file);
        }

        /// <summary>Creates a new regular file (mode 0600 until its metadata is applied), replacing whatever had the name.</summary>
        private SafeFileHandle CreateFile(SafeFileHandle parent, string name)
        {
            const int flags = FileCalls.O_WRONLY | FileCalls.O_CREAT | FileCalls.O_EXCL;
            if (root.UsesOpenat2)
            {
                // Create first and remove only on EEXIST: most names are new, so this saves a statx
                // per file. openat2 reports the errno without an exception.
                var rc = FileCalls.OpenAt2(parent, name, flags | FileCalls.O_NOFOLLOW, 0x180, FileCalls.RESOLVE_NO_SYMLINKS | FileCalls.RESOLVE_BENEATH, out var created);
                if (rc == 0)
                {
                    return created!;
                }

                if (rc != -Errno.EEXIST && rc != -Errno.ENOSYS && rc != -Errno.E2BIG && rc != -Errno.EPERM)
                {
                    throw new SyscallException("openat2", -rc, name);
                }
            }

            SafeRoot.RemoveAllAt(parent, name);
            return FileCalls.OpenAt(parent, name, flags | FileCalls.O_NOFOLLOW, 0x180);
        }

        private void ApplySymlink(TarEntry entry, string path)
        {
            if (entry.LinkName.Length == 0 || entry.LinkName.Contains('\0', StringComparison.Ordinal))
            {
                throw Invalid($"symlink \"{path}\" has an invalid target");
            }

            var parent = Parent(path, out var name);
            SafeRoot.RemoveAllAt(parent, name);

            // The target is stored verbatim: absolute targets are legitimate and are evaluated in-root
            // whenever this store resolves through them (security.md B0).
            FileCalls.SymlinkAt(entry.LinkName, parent, name);
            FileCalls.LchownAt(parent, name, (uint)entry.Uid, (uint)entry.Gid);
            FileCalls.LutimesAt(parent, name, AccessTime(entry), entry.ModificationTime);
        }

        private void ApplyHardLink(TarEntry entry, string path)
        {
            var target = SafeRoot.Clean(entry.LinkName);
            if (target.Length == 0)
            {
                throw Invalid($"hardlink \"{path}\" points at the root");
            }

            if (target == path)
            {
                return;
            }

            // The link source is looked up in-root like any path; its final component is not followed,
            // so a hardlink to a symlink makes a second symlink (umoci TestUnpackHardlink).
            using var sourceParent = root.OpenParent(target, out var sourceName);
            var source = FileCalls.TryStatAt(sourceParent, sourceName)
                ?? throw Invalid($"hardlink \"{path}\" points at missing \"{target}\"");
            if (source.Kind == FileKind.Directory)
            {
                throw Invalid($"hardlink \"{path}\" points at directory \"{target}\"");
            }

            var parent = Parent(path, out var name);
            SafeRoot.RemoveAllAt(parent, name);
            FileCalls.LinkAt(sourceParent, sourceName, parent, name);
        }

        private void ApplyNode(TarEntry entry, string path)
        {
            var kind = entry.EntryType switch
            {
                TarEntryType.CharacterDevice => FileKind.CharDevice,
                TarEntryType.BlockDevice => FileKind.BlockDevice,
                _ => FileKind.Fifo,
            };

            // Linux dev_t holds a 12-bit major and 20-bit minor; larger numbers would be truncated
            // into another device (containerd rejects them rather than truncating, security.md B6).
            var posix = entry as PosixTarEntry;
            var (deviceMajor, deviceMinor) = posix is null ? (0, 0) : (posix.DeviceMajor, posix.DeviceMinor);
            if (kind != FileKind.Fifo && (deviceMajor is < 0 or > 0xFFF || deviceMinor is < 0 or > 0xFFFFF))
            {
                throw Invalid($"device \"{path}\" has out-of-range numbers {deviceMajor}:{deviceMinor}");
            }

            var parent = Parent(path, out var name);
            SafeRoot.RemoveAllAt(parent, name);
            var major = kind == FileKind.Fifo ? 0u : (uint)deviceMajor;
            var minor = kind == FileKind.Fifo ? 0u : (uint)deviceMinor;
            FileCalls.MknodAt(parent, name, kind, 0x180, major, minor);
            ApplyMetadata(entry, parent, name, path, regularFile: null);
        }

        private void ApplyMetadata(TarEntry entry, SafeFileHandle parent, string name, string path, SafeFileHandle? regularFile)
        {
            var mode = (uint)entry.Mode & 0xFFF;
            if (regularFile is not null)
            {
                // chown first: it clears setuid/setgid, which chmod then sets (the file was created
                // 0600, so a skipped chown leaves nothing to clear).
                if (_createdOwner is null)
                {
                    var created = FileCalls.Stat(regularFile);
                    _createdOwner = (created.Uid, created.Gid);
                }

                if (_createdOwner != ((uint)entry.Uid, (uint)entry.Gid))
                {
                    FileCalls.Fchown(regularFile, (uint)entry.Uid, (uint)entry.Gid);
                }

                FileCalls.Fchmod(regularFile, mode);
                ApplyXattrs(entry, path, (n, v) => FileCalls.Fsetxattr(regularFile, n, v));
                FileCalls.Futimens(regularFile, AccessTime(entry), entry.ModificationTime);
                return;
            }

            FileCalls.LchownAt(parent, name, (uint)entry.Uid, (uint)entry.Gid);
            using var handle = FileCalls.OpenAt(parent, name, FileCalls.O_PATH | FileCalls.O_NOFOLLOW);
            FileCalls.ChmodPathFd(handle, mode, path);
            ApplyXattrs(entry, path, (n, v) => FileCalls.SetXattrPathFd(handle, n, v));
            if (entry.EntryType != TarEntryType.Directory)
            {
                FileCalls.LutimesAt(parent, name, AccessTime(entry), entry.ModificationTime);
            }
        }

        private void ApplyXattrs(TarEntry entry, string path, XattrSetter set)
        {
            if (entry is not PaxTarEntry pax)
            {
                return;
            }

            foreach (var (key, value) in pax.ExtendedAttributes)
            {
                if (!key.StartsWith(XattrPaxPrefix, StringComparison.Ordinal))
                {
                    continue;
                }

                var xattr = key[XattrPaxPrefix.Length..];

                // trusted.* would let a layer forge overlayfs whiteouts/opaque markers and other
                // privileged metadata (security.md B5, containerd refuses trusted. keys); the host's
                // security.selinux labels are not the image's to choose.
                if (!xattr.StartsWith("user.", StringComparison.Ordinal) && xattr != "security.capability")
                {
                    Warnings.Add($"\"{path}\": refused xattr {xattr}");
                    continue;
                }

                if (value.Contains('\uFFFD', StringComparison.Ordinal))
                {
                    // TarReader decodes PAX values as UTF-8; a binary value did not survive that.
                    Warnings.Add($"\"{path}\": skipped xattr {xattr} with a non-UTF-8 value");
                    continue;
                }

                set(xattr, Encoding.UTF8.GetBytes(value));
            }
        }

        private void Copy(Stream data, SafeFileHandle file, long length)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(1 << 17);
            try
            {
                long offset = 0;
                while (offset < length)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var n = data.Read(buffer, 0, (int)Math.Min(buffer.Length, length - offset));
                    if (n == 0)
                    {
                        throw new EndOfStreamException();
                    }

                    FileData.PWriteAll(file, buffer.AsSpan(0, n), offset);
                    offset += n;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private static DateTimeOffset AccessTime(TarEntry entry) => entry switch
        {
            PaxTarEntry pax when pax.ExtendedAttributes.TryGetValue("atime", out var text)
                && decimal.TryParse(text, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
                && seconds < 253_402_300_799m => DateTimeOffset.UnixEpoch.AddTicks((long)(seconds * TimeSpan.TicksPerSecond)),
            GnuTarEntry gnu when gnu.AccessTime != default => gnu.AccessTime,
            _ => entry.ModificationTime,
        };
    }

    private delegate void XattrSetter(string name, byte[] value);

    private static ImageException Invalid(string message) => new(ImageErrorKind.InvalidSpec, message);
}
