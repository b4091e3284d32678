using System.Formats.Tar;
using Dashboard.Images.Content;
using Dashboard.Images.Import;
using Dashboard.Oci;
using Dashboard.Oci.Image;
using ImageRecord = Dashboard.Images.Records.ImageRecord;

namespace Dashboard.Engine.Images;

/// <summary>
/// Streams images as the archive <c>docker save</c> (v25+) writes: an OCI image layout
/// (<c>oci-layout</c>, <c>index.json</c>, <c>blobs/sha256/…</c>) plus the legacy <c>manifest.json</c>
/// whose entries point at the same blobs. <c>docker load</c>, skopeo/umoci (OCI side) and our own
/// importer read it. Layers stay as stored (usually gzip): Docker's loader decompresses them.
/// Written straight from the content store into the response, so no temp copy of the images is made.
/// </summary>
public static class DockerArchiveWriter
{
    private static readonly DateTimeOffset s_epoch = DateTimeOffset.UnixEpoch;

    public static async Task WriteAsync(IReadOnlyList<ImageRecord> images, ContentStore content, Stream output, CancellationToken cancellationToken)
    {
        await using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        await WriteDirectoryAsync(writer, "blobs/", cancellationToken);
        await WriteDirectoryAsync(writer, "blobs/sha256/", cancellationToken);
        var written = new HashSet<Digest>();
        var index = new ImageIndex { MediaType = MediaTypes.OciIndex };
        var dockerManifest = new List<DockerArchiveEntry>();
        foreach (var image in images)
        {
            var manifestBytes = await content.ReadAllAsync(image.ManifestDigest, ImageJson.MaxDocumentSize, cancellationToken);
            var manifest = ImageJson.ParseManifest(manifestBytes);
            foreach (var digest in new[] { image.ManifestDigest, manifest.Config.Digest }.Concat(manifest.Layers.Select(l => l.Digest)))
            {
                if (written.Add(digest))
                {
                    await WriteBlobAsync(writer, content, digest, cancellationToken);
                }
            }

            var names = image.Names.Where(n => !n.Contains('@', StringComparison.Ordinal)).ToList();
            foreach (var name in names.Count > 0 ? names.Cast<string?>() : [null])
            {
                var descriptor = new Descriptor
                {
                    MediaType = image.ManifestMediaType,
                    Digest = image.ManifestDigest,
                    Size = manifestBytes.Length,
                };
                if (name is not null)
                {
                    descriptor.Annotations = new Dictionary<string, string>
                    {
                        [AnnotationKeys.ContainerdImageName] = name,
                        [AnnotationKeys.RefName] = name[(name.LastIndexOf(':') + 1)..],
                    };
                }

                index.Manifests.Add(descriptor);
            }

            dockerManifest.Add(new DockerArchiveEntry
            {
                Config = BlobPath(manifest.Config.Digest),
                RepoTags = names.Count > 0 ? names.Select(ImageReference.Familiar).ToList() : null,
                Layers = manifest.Layers.Select(l => BlobPath(l.Digest)).ToList(),
            });
        }

        await WriteFileAsync(writer, "oci-layout", ImageJson.Serialize(new ImageLayoutHeader()), cancellationToken);
        await WriteFileAsync(writer, "index.json", ImageJson.Serialize(index), cancellationToken);
        await WriteFileAsync(writer, "manifest.json", ImageJson.Serialize(dockerManifest), cancellationToken);
    }

    private static string BlobPath(Digest digest) => $"blobs/{digest.Algorithm}/{digest.Encoded}";

    private static async Task WriteBlobAsync(TarWriter writer, ContentStore content, Digest digest, CancellationToken cancellationToken)
    {
        await using var stream = content.OpenRead(digest);
        var entry = new PaxTarEntry(TarEntryType.RegularFile, BlobPath(digest))
        {
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            ModificationTime = s_epoch,
            DataStream = stream,
        };
        await writer.WriteEntryAsync(entry, cancellationToken);
    }

    private static async Task WriteFileAsync(TarWriter writer, string name, byte[] data, CancellationToken cancellationToken)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            ModificationTime = s_epoch,
            DataStream = new MemoryStream(data),
        };
        await writer.WriteEntryAsync(entry, cancellationToken);
    }

    private static async Task WriteDirectoryAsync(TarWriter writer, string name, CancellationToken cancellationToken)
    {
        var entry = new PaxTarEntry(TarEntryType.Directory, name)
        {
            Mode = (UnixFileMode)0x1ED,
            ModificationTime = s_epoch,
        };
        await writer.WriteEntryAsync(entry, cancellationToken);
    }
}
