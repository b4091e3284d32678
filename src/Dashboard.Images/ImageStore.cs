using Dashboard.Images.Content;
using Dashboard.Images.Import;
using Dashboard.Images.Layers;
using Dashboard.Images.Records;
using Dashboard.Images.Rootfs;
using Dashboard.Oci;
using Dashboard.Oci.Image;

namespace Dashboard.Images;

/// <summary>Settings of an <see cref="ImageStore"/>; every path is injected (STYLE.md habit 2).</summary>
public sealed record ImageStoreOptions
{
    /// <summary>Data root; blobs go to <c>blobs/</c>, layers to <c>layers/</c> (DESIGN.md §4).</summary>
    public required string Root { get; init; }

    public LayerDriver? LayerDriver { get; init; }

    public LayerLimits Limits { get; init; } = new();
}

/// <summary>
/// The image store: content-addressed blobs, unpacked layers and image records, with import,
/// unpack, tag/untag/remove and garbage collection.
/// </summary>
public sealed partial class ImageStore
{
    private readonly ImageImporter _importer;

    public ImageStore(ImageStoreOptions options, IImageRecordStore records)
    {
        var root = Path.GetFullPath(options.Root);
        ContentStore.CreatePrivateDirectory(root);
        Content = new ContentStore(root);
        Layers = new LayerStore(Path.Combine(root, "layers"), Content, options.LayerDriver, options.Limits);
        Records = records;
        _importer = new ImageImporter(Content);
    }

    public ContentStore Content { get; }

    public LayerStore Layers { get; }

    public IImageRecordStore Records { get; }

    /// <summary>
    /// Imports an OCI layout (directory or tar) or a docker save archive. <paramref name="name"/>
    /// tags the image when the archive holds exactly one.
    /// </summary>
    public async Task<IReadOnlyList<ImageRecord>> ImportAsync(string path, string? name = null, Platform? platform = null, CancellationToken cancellationToken = default)
    {
        var images = await _importer.ImportAsync(path, platform, cancellationToken);
        if (name is not null && images.Count != 1)
        {
            throw new ImageException(ImageErrorKind.InvalidSpec, $"import {path}: a name needs exactly one image, the archive has {images.Count}");
        }

        var records = new List<ImageRecord>();
        foreach (var image in images)
        {
            var existing = await Records.GetAsync(image.ConfigDigest, cancellationToken);
            var names = (existing?.Names ?? []).Concat(image.Names);
            if (name is not null)
            {
                names = names.Append(ImageReference.Normalize(name));
            }

            var record = new ImageRecord
            {
                Id = image.ConfigDigest,
                ManifestDigest = image.ManifestDigest,
                ManifestMediaType = image.ManifestMediaType,
                Names = names.Distinct(StringComparer.Ordinal).ToList(),
                Created = DateTimeOffset.TryParse(image.Config.Created, System.Globalization.CultureInfo.InvariantCulture, out var created) ? created : DateTimeOffset.UtcNow,
                Os = image.Config.Os,
                Architecture = image.Config.Architecture,
                Size = image.Manifest.Config.Size + image.Manifest.Layers.Sum(l => l.Size),
            };
            await Records.PutAsync(record, cancellationToken);
            records.Add(record);
        }

        return records;
    }

    /// <summary>Writes images (by name or id) as an OCI image layout directory.</summary>
    public async Task ExportOciLayoutAsync(IEnumerable<string> namesOrIds, string directory, CancellationToken cancellationToken = default)
    {
        var records = new List<ImageRecord>();
        foreach (var nameOrId in namesOrIds)
        {
            var record = await ResolveAsync(nameOrId, cancellationToken);
            var normalized = ImageReference.TryNormalize(nameOrId, out var n) && record.Names.Contains(n, StringComparer.Ordinal) ? n : null;
            records.Add(normalized is null ? record : record with { Names = [normalized] });
        }

        await new ImageExporter(Content).ExportOciLayoutAsync(records, directory, cancellationToken);
    }

    /// <summary>Writes images (by name or id) as a <c>docker save</c> archive.</summary>
    public async Task ExportDockerArchiveAsync(IEnumerable<string> namesOrIds, Stream output, CancellationToken cancellationToken = default)
    {
        var records = new List<ImageRecord>();
        foreach (var nameOrId in namesOrIds)
        {
            var record = await ResolveAsync(nameOrId, cancellationToken);
            var normalized = ImageReference.TryNormalize(nameOrId, out var n) && record.Names.Contains(n, StringComparer.Ordinal) ? n : null;
            records.Add(normalized is null ? record : record with { Names = [normalized] });
        }

        await new DockerArchiveExporter(Content).ExportAsync(records, output, cancellationToken);
    }

    /// <summary>Finds an image by name (normalized), full id, or an unambiguous id prefix of 12+ hex digits.</summary>
    public async Task<ImageRecord> ResolveAsync(string nameOrId, CancellationToken cancellationToken = default)
    {
        var all = await Records.ListAsync(cancellationToken);
        if (ImageReference.TryNormalize(nameOrId, out var normalized))
        {
            var byName = all.FirstOrDefault(r => r.Names.Contains(normalized, StringComparer.Ordinal));
            if (byName is not null)
            {
                return byName;
            }
        }

        var hex = nameOrId.StartsWith("sha256:", StringComparison.Ordinal) ? nameOrId[7..] : nameOrId;
        if (hex.Length >= 12 && hex.All(char.IsAsciiHexDigitLower))
        {
            var matches = all.Where(r => r.Id.Encoded.StartsWith(hex, StringComparison.Ordinal)).ToList();
            if (matches.Count == 1)
            {
                return matches[0];
            }

            if (matches.Count > 1)
            {
                throw new ImageException(ImageErrorKind.InvalidSpec, $"image id prefix {hex} is ambiguous");
            }
        }

        throw new ImageException(ImageErrorKind.NotFound, $"no such image: {nameOrId}");
    }

    public async Task<(ImageManifest Manifest, ImageConfig Config)> LoadAsync(ImageRecord record, CancellationToken cancellationToken = default)
    {
        var manifest = ImageJson.ParseManifest(await Content.ReadAllAsync(record.ManifestDigest, ImageJson.MaxDocumentSize, cancellationToken));
        var config = ImageJson.ParseConfig(await Content.ReadAllAsync(manifest.Config.Digest, ImageJson.MaxDocumentSize, cancellationToken));
        return (manifest, config);
    }

    /// <summary>Unpacks the image's layers (each once) and returns their chain ids, bottom first.</summary>
    public async Task<IReadOnlyList<Digest>> UnpackAsync(ImageRecord record, CancellationToken cancellationToken = default)
    {
        var (manifest, config) = await LoadAsync(record, cancellationToken);
        return await Layers.UnpackAsync(manifest, config, cancellationToken);
    }

    /// <summary>Unpacks the image if needed and creates a container root filesystem from it.</summary>
    public async Task<ContainerRootfs> CreateRootfsAsync(ImageRecord record, string containerDirectory, RootfsKind? kind = null, CancellationToken cancellationToken = default)
    {
        var chainIds = await UnpackAsync(record, cancellationToken);
        return ContainerRootfs.Create(Layers, chainIds, containerDirectory, kind);
    }

    public async Task TagAsync(string nameOrId, string newName, CancellationToken cancellationToken = default)
    {
        var record = await ResolveAsync(nameOrId, cancellationToken);
        var name = ImageReference.Normalize(newName);
        await Records.PutAsync(record with { Names = record.Names.Append(name).Distinct(StringComparer.Ordinal).ToList() }, cancellationToken);
    }

    public async Task UntagAsync(string name, CancellationToken cancellationToken = default)
    {
        var normalized = ImageReference.Normalize(name);
        var record = await ResolveAsync(normalized, cancellationToken);
        await Records.PutAsync(record with { Names = record.Names.Where(n => n != normalized).ToList() }, cancellationToken);
    }

    /// <summary>Removes an image record; refused while <paramref name="inUse"/> says a container uses it, unless forced.</summary>
    public async Task RemoveAsync(string nameOrId, Func<Digest, bool>? inUse = null, bool force = false, CancellationToken cancellationToken = default)
    {
        var record = await ResolveAsync(nameOrId, cancellationToken);
        if (!force && inUse?.Invoke(record.Id) == true)
        {
            throw new ImageException(ImageErrorKind.InvalidState, $"image {record.Id.Encoded[..12]} is being used by a container");
        }

        await Records.DeleteAsync(record.Id, cancellationToken);
    }

    /// <summary>Deletes blobs and layer directories no image record references; returns the bytes of blobs freed.</summary>
    public async Task<long> GarbageCollectAsync(CancellationToken cancellationToken = default)
    {
        var keepBlobs = new HashSet<Digest>();
        var keepLayers = new HashSet<Digest>();
        foreach (var record in await Records.ListAsync(cancellationToken))
        {
            keepBlobs.Add(record.ManifestDigest);
            var (manifest, config) = await LoadAsync(record, cancellationToken);
            keepBlobs.Add(manifest.Config.Digest);
            keepBlobs.UnionWith(manifest.Layers.Select(l => l.Digest));
            keepLayers.UnionWith(LayerStore.ChainIds(config.RootFs.DiffIds));
        }

        Layers.GarbageCollect(keepLayers);
        return Content.GarbageCollect(keepBlobs);
    }
}
