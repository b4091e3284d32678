using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Dashboard.Engine.Api;
using Dashboard.Linux;
using Dashboard.Linux.Fs;
using Microsoft.Win32.SafeHandles;

namespace Dashboard.Engine.Archive;

/// <summary>What <c>X-Docker-Container-Path-Stat</c> carries (base64 JSON).</summary>
public sealed record PathStat(
    [property: System.Text.Json.Serialization.JsonPropertyName("name")] string Name,
    [property: System.Text.Json.Serialization.JsonPropertyName("size")] long Size,
    [property: System.Text.Json.Serialization.JsonPropertyName("mode")] uint Mode,
    [property: System.Text.Json.Serialization.JsonPropertyName("mtime")] string Mtime,
    [property: System.Text.Json.Serialization.JsonPropertyName("linkTarget")] string LinkTarget);

/// <summary>
/// Tar in and out of a container's root filesystem for <c>/containers/{id}/archive</c> and
/// <c>export</c>. Every path is resolved inside the root (<see cref="SafeRoot"/>: openat2
/// RESOLVE_IN_ROOT, or its tested fallback) and every file is reached fd-relative with no-follow,
/// so a symlink in the container (<c>link -&gt; /etc</c>) is followed inside the container, never on
/// the host (security.md B11, CVE-2018-15664). Decompression happens in-process; no helper binary
/// ever runs against the container's files (CVE-2019-14271, CVE-2026-41567).
/// </summary>
public static class ContainerArchive
{
    private const int MaxEntries = 1_000_000;

    /// <summary>Mode bits as Go's os.FileMode encodes them (Docker's path stat is a Go FileMode).</summary>
    private static uint GoMode(FileStatus st) => st.Permissions & 0x1FF | st.Kind switch
    {
        FileKind.Directory => 1u << 31,
        FileKind.Symlink => 1u << 27,
        FileKind.CharDevice => (1u << 26) | (1u << 21),
        FileKind.BlockDevice => 1u << 26,
        FileKind.Fifo => 1u << 25,
        FileKind.Socket => 1u << 24,
        _ => 0u,
    } | ((st.Permissions & 0x800) != 0 ? 1u << 23 : 0) | ((st.Permissions & 0x400) != 0 ? 1u << 22 : 0) | ((st.Permissions & 0x200) != 0 ? 1u << 20 : 0);

    public static string EncodeStat(PathStat stat) => Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(stat, DockerJson.Info<PathStat>(DockerJson.Plain)));

    /// <summary>Stats <paramref name="path"/> inside the root (following symlinks in-root); NotFound when absent.</summary>
    public static PathStat Stat(string rootfs, string path)
    {
        using var root = SafeRoot.Open(rootfs);
        using var handle = OpenInRoot(root, path, FileCalls.O_PATH);
        var st = FileCalls.Stat(handle);
        var name = BaseName(path);
        return new PathStat(name, st.Size, GoMode(st), st.ModifiedTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", System.Globalization.CultureInfo.InvariantCulture), "");
    }

    /// <summary>Writes <paramref name="path"/> (a file or a whole directory tree) as a tar whose entries start with its base name.</summary>
    public static async Task WriteTarAsync(string rootfs, string path, Stream output, bool asRoot, CancellationToken cancellationToken)
    {
        using var root = SafeRoot.Open(rootfs);
        using var handle = OpenInRoot(root, path, FileCalls.O_PATH);
        await using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        var st = FileCalls.Stat(handle);
        var name = asRoot ? "" : BaseName(path);
        var count = 0;
        if (st.Kind == FileKind.Directory)
        {
            if (!asRoot)
            {
                await WriteEntryAsync(writer, name + "/", st, null, null, cancellationToken);
            }

            await WriteChildrenAsync(writer, handle, asRoot ? "" : name + "/", () => ++count, cancellationToken);
        }
        else
        {
            using var parent = root.OpenParent(path, out var last);
            await WriteOneAsync(writer, parent, last, name, cancellationToken);
        }
    }

    private static async Task WriteChildrenAsync(TarWriter writer, SafeFileHandle dir, string prefix, Func<int> count, CancellationToken cancellationToken)
    {
        foreach (var child in SafeRoot.ListNames(dir).Order(StringComparer.Ordinal))
        {
            if (count() > MaxEntries)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"more than {MaxEntries} files to archive");
            }

            var st = FileCalls.StatAt(dir, child);
            if (st.Kind == FileKind.Directory)
            {
                await WriteEntryAsync(writer, prefix + child + "/", st, null, null, cancellationToken);
                using var sub = FileCalls.OpenAt(dir, child, FileCalls.O_PATH | FileCalls.O_DIRECTORY | FileCalls.O_NOFOLLOW);
                await WriteChildrenAsync(writer, sub, prefix + child + "/", count, cancellationToken);
                continue;
            }

            await WriteOneAsync(writer, dir, child, prefix + child, cancellationToken);
        }
    }

    private static async Task WriteOneAsync(TarWriter writer, SafeFileHandle dir, string name, string entryName, CancellationToken cancellationToken)
    {
        var st = FileCalls.StatAt(dir, name);
        switch (st.Kind)
        {
            case FileKind.Regular:
                using (var file = FileCalls.OpenAt(dir, name, FileCalls.O_RDONLY | FileCalls.O_NOFOLLOW | FileCalls.O_NONBLOCK))
                await using (var stream = new FileStream(file, FileAccess.Read, 1))
                {
                    await WriteEntryAsync(writer, entryName, st, stream, null, cancellationToken);
                }

                break;
            case FileKind.Symlink:
                await WriteEntryAsync(writer, entryName, st, null, FileCalls.ReadLinkAt(dir, name), cancellationToken);
                break;
            case FileKind.CharDevice or FileKind.BlockDevice or FileKind.Fifo:
                await WriteEntryAsync(writer, entryName, st, null, null, cancellationToken);
                break;
        }
    }

    private static async Task WriteEntryAsync(TarWriter writer, string name, FileStatus st, Stream? data, string? linkTarget, CancellationToken cancellationToken)
    {
        var type = st.Kind switch
        {
            FileKind.Directory => TarEntryType.Directory,
            FileKind.Symlink => TarEntryType.SymbolicLink,
            FileKind.CharDevice => TarEntryType.CharacterDevice,
            FileKind.BlockDevice => TarEntryType.BlockDevice,
            FileKind.Fifo => TarEntryType.Fifo,
            _ => TarEntryType.RegularFile,
        };
        var entry = new PaxTarEntry(type, name)
        {
            Mode = (UnixFileMode)st.Permissions,
            Uid = (int)st.Uid,
            Gid = (int)st.Gid,
            ModificationTime = st.ModifiedTime,
        };
        if (data is not null)
        {
            entry.DataStream = data;
        }

        if (linkTarget is not null)
        {
            entry.LinkName = linkTarget;
        }

        if (type is TarEntryType.CharacterDevice or TarEntryType.BlockDevice)
        {
            entry.DeviceMajor = (int)st.RdevMajor;
            entry.DeviceMinor = (int)st.RdevMinor;
        }

        await writer.WriteEntryAsync(entry, cancellationToken);
    }

    /// <summary>
    /// Extracts a tar (plain or gzip) into the directory <paramref name="path"/> inside the root.
    /// Entry names are cleaned and resolved in-root below that directory; absolute and <c>..</c>
    /// names stay inside the root; hardlinks must point at files in the root.
    /// </summary>
    public static async Task ExtractAsync(string rootfs, string path, Stream input, bool noOverwriteDirNonDir, CancellationToken cancellationToken)
    {
        using var root = SafeRoot.Open(rootfs);
        using (var target = OpenInRoot(root, path, FileCalls.O_PATH))
        {
            if (FileCalls.Stat(target).Kind != FileKind.Directory)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"extraction point is not a directory: {path}");
            }
        }

        var buffered = new BufferedStream(input, 1 << 16);
        var magic = new byte[2];
        var peek = await buffered.ReadAtLeastAsync(magic, 2, throwOnEndOfStream: false, cancellationToken);
        Stream tar = new PrefixStream(magic.AsMemory(0, peek), buffered);
        if (peek == 2 && magic[0] == 0x1F && magic[1] == 0x8B)
        {
            tar = new GZipStream(tar, CompressionMode.Decompress);
        }

        await using var reader = new TarReader(tar);
        var count = 0;
        try
        {
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                if (++count > MaxEntries)
                {
                    throw new EngineException(ErrorKind.InvalidArgument, $"archive has more than {MaxEntries} entries");
                }

                var clean = SafeRoot.Clean(entry.Name);
                if (clean.Length == 0)
                {
                    continue;
                }

                var full = path.TrimEnd('/') + "/" + clean;
                Apply(root, full, entry, noOverwriteDirNonDir);
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid tar archive: {e.Message}", e);
        }
    }

    private static void Apply(SafeRoot root, string full, TarEntry entry, bool noOverwriteDirNonDir)
    {
        var mode = (uint)entry.Mode & 0xFFF;
        if (entry.EntryType == TarEntryType.Directory)
        {
            using var dir = root.MkdirAll(full, mode);
            FileCalls.FchownPathFd(dir, (uint)entry.Uid, (uint)entry.Gid);
            FileCalls.ChmodPathFd(dir, mode);
            return;
        }

        using var parent = root.OpenParent(full, out var name, createDirectories: true);
        var existing = FileCalls.TryStatAt(parent, name);
        if (existing is { Kind: FileKind.Directory })
        {
            if (noOverwriteDirNonDir)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"cannot overwrite directory {full} with non-directory");
            }

            SafeRoot.RemoveAllAt(parent, name);
        }
        else if (existing is not null)
        {
            FileCalls.UnlinkAt(parent, name);
        }

        switch (entry.EntryType)
        {
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                using (var file = FileCalls.OpenAt(parent, name, FileCalls.O_WRONLY | FileCalls.O_CREAT | FileCalls.O_EXCL | FileCalls.O_NOFOLLOW, 0x180))
                {
                    using (var output = new FileStream(file, FileAccess.Write, 1))
                    {
                        entry.DataStream?.CopyTo(output, 1 << 17);
                    }
                }

                break;
            case TarEntryType.SymbolicLink:
                FileCalls.SymlinkAt(entry.LinkName, parent, name);
                break;
            case TarEntryType.HardLink:
                var linkClean = SafeRoot.Clean(entry.LinkName);
                using (var linkParent = root.OpenParent(linkClean, out var linkName))
                {
                    FileCalls.LinkAt(linkParent, linkName, parent, name);
                }

                return;
            case TarEntryType.Fifo:
                FileCalls.MknodAt(parent, name, FileKind.Fifo, 0x180, 0, 0);
                break;
            default:
                throw new EngineException(ErrorKind.InvalidArgument, $"unsupported tar entry type {entry.EntryType} for {full}");
        }

        FileCalls.LchownAt(parent, name, (uint)entry.Uid, (uint)entry.Gid);
        if (entry.EntryType != TarEntryType.SymbolicLink)
        {
            using var node = FileCalls.OpenAt(parent, name, FileCalls.O_PATH | FileCalls.O_NOFOLLOW);
            FileCalls.ChmodPathFd(node, mode);
        }

        FileCalls.LutimesAt(parent, name, entry.ModificationTime, entry.ModificationTime);
    }

    private static SafeFileHandle OpenInRoot(SafeRoot root, string path, int flags)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw new EngineException(ErrorKind.InvalidArgument, "path is required");
        }

        try
        {
            return SafeRoot.Clean(path).Length == 0 ? root.Open(".", flags) : root.Open(path, flags);
        }
        catch (SyscallException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
        {
            throw new EngineException(ErrorKind.NotFound, $"Could not find the file {path} in container");
        }
    }

    private static string BaseName(string path)
    {
        var clean = SafeRoot.Clean(path);
        return clean.Length == 0 ? "/" : clean[(clean.LastIndexOf('/') + 1)..];
    }

    /// <summary>Replays bytes already read before the rest of a stream.</summary>
    private sealed class PrefixStream(ReadOnlyMemory<byte> prefix, Stream rest) : Stream
    {
        private ReadOnlyMemory<byte> _prefix = prefix;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_prefix.Length > 0)
            {
                var n = Math.Min(buffer.Length, _prefix.Length);
                _prefix.Span[..n].CopyTo(buffer);
                _prefix = _prefix[n..];
                return n;
            }

            return rest.Read(buffer);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_prefix.Length > 0)
            {
                return Read(buffer.Span);
            }

            return await rest.ReadAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
