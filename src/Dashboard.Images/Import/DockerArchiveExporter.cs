using System.Formats.Tar;
using Dashboard.Images.Content;
using Dashboard.Images.Layers;
using Dashboard.Images.Records;
using Dashboard.Oci;
using Dashboard.Oci.Image;

namespace Dashboard.Images.Import;

/// <summary>
/// Writes images as a <c>docker save</c> archive (the legacy layout <c>docker load</c>, skopeo's
/// <c>docker-archive:</c> and our importer read): <c>manifest.json</c> with Config, RepoTags and
/// Layers, <c>repositories</c>, the config as <c>&lt;config-hex&gt;.json</c> and each layer
/// uncompressed as <c>&lt;diff_id-hex&gt;/layer.tar</c>, so each layer file's digest is its diff_id
/// as that format assumes. Layers shared by several images are written once.
/// </summary>
public sealed class DockerArchiveExporter(ContentStore content)
{
    public async Task ExportAsync(IReadOnlyList<ImageRecord> images, Stream output, CancellationToken cancellationToken = default)
    {
        var entries = new List<DockerArchiveEntry>();
        var repositories = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        var written = new HashSet<string>(StringComparer.Ordinal);
        var scratch = Directory.CreateTempSubdirectory("dashboard-docker-save-").FullName;
        try
        {
            await using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
            foreach (var image in images)
            {
                var manifest = ImageJson.ParseManifest(await content.ReadAllAsync(image.ManifestDigest, ImageJson.MaxDocumentSize, cancellationToken));
                var configBytes = await content.ReadAllAsync(manifest.Config.Digest, ImageJson.MaxDocumentSize, cancellationToken);
                var config = ImageJson.ParseConfig(configBytes);
                if (config.RootFs.DiffIds.Count != manifest.Layers.Count)
                {
                    throw new ImageException(ImageErrorKind.InvalidSpec, $"image {image.Id.Encoded[..12]}: {manifest.Layers.Count} layers but {config.RootFs.DiffIds.Count} diff_ids");
                }

                var configName = manifest.Config.Digest.Encoded + ".json";
                if (written.Add(configName))
                {
                    await WriteFileAsync(writer, configName, new MemoryStream(configBytes), cancellationToken);
                }

                var layerNames = new List<string>();
                for (var i = 0; i < manifest.Layers.Count; i++)
                {
                    var name = config.RootFs.DiffIds[i].Encoded + "/layer.tar";
                    layerNames.Add(name);
                    if (written.Add(name))
                    {
                        await WriteLayerAsync(writer, name, manifest.Layers[i], config.RootFs.DiffIds[i], scratch, cancellationToken);
                    }
                }

                var tags = image.Names.Where(n => !n.Contains('@', StringComparison.Ordinal)).Select(ImageReference.Familiar).ToList();
                entries.Add(new DockerArchiveEntry { Config = configName, RepoTags = tags, Layers = layerNames });
                foreach (var tag in tags)
                {
                    var colon = tag.LastIndexOf(':');
                    var repository = tag[..colon];
                    if (!repositories.TryGetValue(repository, out var byTag))
                    {
                        repositories[repository] = byTag = new Dictionary<string, string>(StringComparer.Ordinal);
                    }

                    byTag[tag[(colon + 1)..]] = layerNames.Count > 0 ? layerNames[^1].Split('/')[0] : manifest.Config.Digest.Encoded;
                }
            }

            await WriteFileAsync(writer, "manifest.json", new MemoryStream(ImageJson.Serialize(entries)), cancellationToken);
            await WriteFileAsync(writer, "repositories", new MemoryStream(ImageJson.Serialize(repositories)), cancellationToken);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private async Task WriteLayerAsync(TarWriter writer, string name, Descriptor layer, Digest diffId, string scratch, CancellationToken cancellationToken)
    {
        var compression = MediaTypes.GetLayerCompression(layer.MediaType)
            ?? throw new ImageException(ImageErrorKind.Unsupported, $"layer {layer.Digest}: unsupported media type {layer.MediaType}");
        var temp = Path.Combine(scratch, diffId.Encoded);
        await using (var source = LayerApplier.Decompress(content.OpenRead(layer.Digest), compression))
        await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
        {
            await source.CopyToAsync(file, cancellationToken);
        }

        // The uncompressed file is what the archive's readers hash as the diff_id.
        await using (var check = File.OpenRead(temp))
        {
            using var hash = diffId.CreateHash();
            var buffer = new byte[1 << 20];
            int n;
            while ((n = await check.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, n);
            }

            if (Digest.FromHash(diffId.Algorithm, hash.GetHashAndReset()) != diffId)
            {
                throw new ImageException(ImageErrorKind.InvalidSpec, $"layer {layer.Digest}: diff_id mismatch");
            }
        }

        var directory = new PaxTarEntry(TarEntryType.Directory, diffId.Encoded + "/") { Mode = (UnixFileMode)0x1ED, ModificationTime = DateTimeOffset.UnixEpoch };
        await writer.WriteEntryAsync(directory, cancellationToken);
        await using var data = File.OpenRead(temp);
        await WriteFileAsync(writer, name, data, cancellationToken);
        File.Delete(temp);
    }

    private static async Task WriteFileAsync(TarWriter writer, string name, Stream data, CancellationToken cancellationToken)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = (UnixFileMode)0x1A4, ModificationTime = DateTimeOffset.UnixEpoch, DataStream = data };
        await writer.WriteEntryAsync(entry, cancellationToken);
    }
}
