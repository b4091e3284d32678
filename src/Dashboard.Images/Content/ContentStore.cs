using System.Buffers;
using Dashboard.Oci;

namespace Dashboard.Images.Content;

/// <summary>
/// Content-addressed blobs under <c>blobs/&lt;algorithm&gt;/&lt;hex&gt;</c>. A blob is written to a
/// private temp file under <c>ingest/</c>, verified against its digest and size while it streams
/// (a blob larger than declared is cut off at once), fsynced, and renamed into place, so readers
/// never see partial content and concurrent writers of the same blob are harmless (each renames a
/// complete, verified copy). Paths are built only from parsed <see cref="Digest"/> values
/// (security.md B8, C4).
/// </summary>
public sealed class ContentStore
{
    private const int BufferSize = 1 << 20;

    public ContentStore(string root)
    {
        Root = Path.GetFullPath(root);
        CreatePrivateDirectory(Root);
        CreatePrivateDirectory(Path.Combine(Root, "blobs"));
        CreatePrivateDirectory(IngestDirectory);
    }

    public string Root { get; }

    private string IngestDirectory => Path.Combine(Root, "ingest");

    public string GetPath(Digest digest)
    {
        if (digest.IsEmpty)
        {
            throw new ImageException(ImageErrorKind.InvalidSpec, "empty digest");
        }

        return Path.Combine(Root, "blobs", digest.Algorithm, digest.Encoded);
    }

    public bool Exists(Digest digest) => File.Exists(GetPath(digest));

    public long GetSize(Digest digest)
    {
        var info = new FileInfo(GetPath(digest));
        return info.Exists ? info.Length : throw NotFound(digest);
    }

    public FileStream OpenRead(Digest digest)
    {
        try
        {
            return new FileStream(GetPath(digest), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (FileNotFoundException)
        {
            throw NotFound(digest);
        }
        catch (DirectoryNotFoundException)
        {
            throw NotFound(digest);
        }
    }

    /// <summary>Reads a small blob (a manifest or config) whole, bounded by maxSize, and re-verifies its digest.</summary>
    public async Task<byte[]> ReadAllAsync(Digest digest, long maxSize, CancellationToken cancellationToken = default)
    {
        await using var stream = OpenRead(digest);
        if (stream.Length > maxSize)
        {
            throw new ImageException(ImageErrorKind.InvalidSpec, $"blob {digest} is {stream.Length} bytes, more than the limit of {maxSize}");
        }

        var bytes = new byte[stream.Length];
        await stream.ReadExactlyAsync(bytes, cancellationToken);
        if (Digest.Compute(bytes, digest.Algorithm) != digest)
        {
            throw new ImageException(ImageErrorKind.Io, $"blob {digest} is corrupt in the store");
        }

        return bytes;
    }

    /// <summary>Writes a blob whose digest (and size, when known) is declared; verifies both while streaming.</summary>
    public async Task WriteAsync(Digest expected, long? expectedSize, Stream content, CancellationToken cancellationToken = default)
    {
        if (expectedSize is < 0)
        {
            throw new ImageException(ImageErrorKind.InvalidSpec, $"blob {expected}: invalid size {expectedSize}");
        }

        var (digest, size, temp) = await IngestAsync(content, expected.Algorithm, expectedSize, $"blob {expected}", cancellationToken);
        try
        {
            if (expectedSize is { } declared && size != declared)
            {
                throw new ImageException(ImageErrorKind.InvalidSpec, $"blob {expected}: size mismatch: got {size} bytes, want {declared}");
            }

            if (digest != expected)
            {
                throw new ImageException(ImageErrorKind.InvalidSpec, $"blob {expected}: digest mismatch: content is {digest}");
            }

            Commit(temp, digest);
            temp = null;
        }
        finally
        {
            DeleteQuietly(temp);
        }
    }

    /// <summary>Writes a blob of unknown digest (e.g. a docker save layer) and returns its digest and size.</summary>
    public async Task<(Digest Digest, long Size)> WriteAsync(Stream content, long? maxSize = null, string algorithm = Digest.Sha256, CancellationToken cancellationToken = default)
    {
        var (digest, size, temp) = await IngestAsync(content, algorithm, maxSize, "blob", cancellationToken);
        try
        {
            Commit(temp, digest);
            temp = null;
            return (digest, size);
        }
        finally
        {
            DeleteQuietly(temp);
        }
    }

    public Task<(Digest Digest, long Size)> WriteAsync(ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var stream = new MemoryStream(content.ToArray(), writable: false);
        return WriteAsync(stream, content.Length, Digest.Sha256, cancellationToken);
    }

    public bool Delete(Digest digest)
    {
        var path = GetPath(digest);
        if (!File.Exists(path))
        {
            return false;
        }

        File.Delete(path);
        return true;
    }

    public IEnumerable<Digest> List()
    {
        var blobs = Path.Combine(Root, "blobs");
        foreach (var algorithmDir in Directory.EnumerateDirectories(blobs))
        {
            var algorithm = Path.GetFileName(algorithmDir);
            foreach (var file in Directory.EnumerateFiles(algorithmDir))
            {
                if (Digest.TryParse($"{algorithm}:{Path.GetFileName(file)}", out var digest))
                {
                    yield return digest;
                }
            }
        }
    }

    /// <summary>Deletes every blob not in <paramref name="keep"/> and stale ingest files; returns the bytes freed.</summary>
    public long GarbageCollect(IReadOnlySet<Digest> keep, TimeSpan? ingestGrace = null)
    {
        long freed = 0;
        foreach (var digest in List().ToList())
        {
            if (keep.Contains(digest))
            {
                continue;
            }

            var path = GetPath(digest);
            var length = new FileInfo(path).Length;
            if (Delete(digest))
            {
                freed += length;
            }
        }

        // A writer may be mid-stream: only ingest files idle for the grace period are abandoned.
        var cutoff = DateTime.UtcNow - (ingestGrace ?? TimeSpan.FromHours(1));
        foreach (var file in Directory.EnumerateFiles(IngestDirectory))
        {
            var info = new FileInfo(file);
            if (info.LastWriteTimeUtc < cutoff)
            {
                freed += info.Length;
                DeleteQuietly(file);
            }
        }

        return freed;
    }

    private async Task<(Digest Digest, long Size, string? Temp)> IngestAsync(Stream content, string algorithm, long? limit, string what, CancellationToken cancellationToken)
    {
        var temp = Path.Combine(IngestDirectory, Guid.NewGuid().ToString("N"));
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            using var hash = Digest.CreateHash(algorithm);
            long total = 0;
            await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None))
            {
                while (true)
                {
                    var n = await content.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken);
                    if (n == 0)
                    {
                        break;
                    }

                    total += n;
                    if (limit is { } max && total > max)
                    {
                        throw new ImageException(ImageErrorKind.InvalidSpec, $"{what}: size mismatch: more than {max} bytes");
                    }

                    hash.AppendData(buffer, 0, n);
                    await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                }

                output.Flush(flushToDisk: true);
            }

            return (Digest.FromHash(algorithm, hash.GetHashAndReset()), total, temp);
        }
        catch
        {
            DeleteQuietly(temp);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Commit(string? temp, Digest digest)
    {
        var directory = Path.Combine(Root, "blobs", digest.Algorithm);
        CreatePrivateDirectory(directory);
        File.SetUnixFileMode(temp!, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.Move(temp!, GetPath(digest), overwrite: true);
        FsyncDirectory(directory);
    }

    private static void FsyncDirectory(string directory)
    {
        using var handle = Dashboard.Linux.Fs.FileCalls.Open(directory, Dashboard.Linux.Fs.FileCalls.O_RDONLY | Dashboard.Linux.Fs.FileCalls.O_DIRECTORY);
        Dashboard.Linux.Fs.FileCalls.Fsync(handle);
    }

    internal static void CreatePrivateDirectory(string path)
    {
        if (!Directory.Exists(path))
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static void DeleteQuietly(string? path)
    {
        if (path is null)
        {
            return;
        }

        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    private static ImageException NotFound(Digest digest) => new(ImageErrorKind.NotFound, $"blob {digest}: not found");
}
