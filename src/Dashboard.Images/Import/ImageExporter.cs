using Dashboard.Images.Content;
using Dashboard.Images.Records;
using Dashboard.Oci;
using Dashboard.Oci.Image;

namespace Dashboard.Images.Import;

/// <summary>
/// Writes images as an OCI image layout directory (image-layout.md) that umoci and skopeo read:
/// blobs copied from the content store, one index entry per name, annotated with the tag
/// (<c>org.opencontainers.image.ref.name</c>) and the full name (<c>io.containerd.image.name</c>).
/// </summary>
public sealed class ImageExporter(ContentStore content)
{
    public async Task ExportOciLayoutAsync(IReadOnlyList<ImageRecord> images, string directory, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(Path.Combine(directory, "blobs"));
        await File.WriteAllBytesAsync(Path.Combine(directory, "oci-layout"), ImageJson.Serialize(new ImageLayoutHeader()), cancellationToken);
        var index = new ImageIndex { MediaType = MediaTypes.OciIndex };
        foreach (var image in images)
        {
            var manifestBytes = await content.ReadAllAsync(image.ManifestDigest, ImageJson.MaxDocumentSize, cancellationToken);
            var manifest = ImageJson.ParseManifest(manifestBytes);
            await CopyBlobAsync(image.ManifestDigest, directory, cancellationToken);
            await CopyBlobAsync(manifest.Config.Digest, directory, cancellationToken);
            foreach (var layer in manifest.Layers)
            {
                await CopyBlobAsync(layer.Digest, directory, cancellationToken);
            }

            IReadOnlyList<string?> names = image.Names.Count > 0 ? [.. image.Names] : [null];
            foreach (var name in names)
            {
                var descriptor = new Descriptor
                {
                    MediaType = image.ManifestMediaType,
                    Digest = image.ManifestDigest,
                    Size = manifestBytes.Length,
                    Platform = new Platform { Os = image.Os, Architecture = image.Architecture },
                };
                if (name is not null)
                {
                    var tag = name.Contains('@', StringComparison.Ordinal) ? null : name[(name.LastIndexOf(':') + 1)..];
                    descriptor.Annotations = new Dictionary<string, string> { [AnnotationKeys.ContainerdImageName] = name };
                    if (tag is not null)
                    {
                        descriptor.Annotations[AnnotationKeys.RefName] = tag;
                    }
                }

                index.Manifests.Add(descriptor);
            }
        }

        var temp = Path.Combine(directory, "index.json.tmp");
        await File.WriteAllBytesAsync(temp, ImageJson.Serialize(index), cancellationToken);
        File.Move(temp, Path.Combine(directory, "index.json"), overwrite: true);
    }

    private async Task CopyBlobAsync(Digest digest, string directory, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(directory, "blobs", digest.Algorithm);
        Directory.CreateDirectory(folder);
        var target = Path.Combine(folder, digest.Encoded);
        if (File.Exists(target))
        {
            return;
        }

        await using var source = content.OpenRead(digest);
        var temp = target + ".tmp";
        await using (var output = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            await source.CopyToAsync(output, cancellationToken);
        }

        File.Move(temp, target, overwrite: true);
    }
}
