using System.Formats.Tar;
using Dashboard.Images.Content;
using Dashboard.Oci;
using Dashboard.Oci.Image;

namespace Dashboard.Images.Import;

/// <summary>An image found in an archive or layout, with its blobs already in the content store.</summary>
public sealed record ImportedImage(Digest ManifestDigest, string ManifestMediaType, ImageManifest Manifest, Digest ConfigDigest, ImageConfig Config, IReadOnlyList<string> Names);

/// <summary>
/// Imports OCI image layouts (directory or tar: <c>oci-layout</c>, <c>index.json</c>, <c>blobs/</c>)
/// and <c>docker save</c> archives (<c>manifest.json</c> + <c>repositories</c>). Every blob goes
/// through the verifying content store; every document goes through the strict parsers
/// (security.md B8, B9); index nesting is bounded; a multi-platform index yields the manifest for
/// the requested platform or an error, never "the first entry".
/// </summary>
public sealed class ImageImporter(ContentStore content)
{
    private const int MaxIndexDepth = 8;
    private const long MaxMetadataFileSize = ImageJson.MaxDocumentSize;

    public async Task<IReadOnlyList<ImportedImage>> ImportAsync(string path, Platform? platform = null, CancellationToken cancellationToken = default)
    {
        try
        {
            if (Directory.Exists(path))
            {
                return await ImportLayoutDirectoryAsync(path, platform ?? Platform.Current, cancellationToken);
            }

            await using var stream = File.OpenRead(path);
            return await ImportArchiveAsync(stream, platform ?? Platform.Current, cancellationToken);
        }
        catch (ImageDocumentException e)
        {
            throw new ImageException(ImageErrorKind.InvalidSpec, $"import {path}: {e.Message}", e);
        }
        catch (InvalidDataException e)
        {
            throw new ImageException(ImageErrorKind.InvalidSpec, $"import {path}: invalid archive: {e.Message}", e);
        }
        catch (EndOfStreamException e)
        {
            throw new ImageException(ImageErrorKind.InvalidSpec, $"import {path}: the archive ends early (truncated)", e);
        }
        catch (ImageException e)
        {
            throw new ImageException(e.Kind, $"import {path}: {e.Message}", e);
        }
    }

    public async Task<IReadOnlyList<ImportedImage>> ImportLayoutDirectoryAsync(string directory, Platform platform, CancellationToken cancellationToken)
    {
        var layout = await ReadLimitedAsync(Path.Combine(directory, "oci-layout"), cancellationToken);
        CheckLayoutVersion(layout);
        var indexBytes = await ReadLimitedAsync(Path.Combine(directory, "index.json"), cancellationToken);
        var index = ImageJson.ParseIndex(indexBytes);
        var results = new List<ImportedImage>();
        foreach (var entry in index.Manifests)
        {
            results.Add(await ResolveAsync(entry, platform, d => CopyLayoutBlobAsync(directory, d, cancellationToken), cancellationToken));
        }

        return results;
    }

    public async Task<IReadOnlyList<ImportedImage>> ImportArchiveAsync(Stream archive, Platform platform, CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var files = new Dictionary<string, (Digest Digest, long Size)>(StringComparer.Ordinal);
        await using (var reader = new TarReader(archive, leaveOpen: true))
        {
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    continue;
                }

                var name = CleanName(entry.Name);
                if (name is "oci-layout" or "index.json" or "manifest.json" or "repositories")
                {
                    if (entry.Length > MaxMetadataFileSize)
                    {
                        throw Invalid($"archive file {name} is larger than {MaxMetadataFileSize} bytes");
                    }

                    var bytes = new byte[entry.Length];
                    if (entry.DataStream is { } data)
                    {
                        await data.ReadExactlyAsync(bytes, cancellationToken);
                    }

                    metadata[name] = bytes;
                    continue;
                }

                var stream = entry.DataStream ?? Stream.Null;
                if (TryBlobName(name, out var digest))
                {
                    // Content-addressed name: verified against the digest it claims.
                    if (!content.Exists(digest))
                    {
                        await content.WriteAsync(digest, entry.Length, stream, cancellationToken);
                    }

                    files[name] = (digest, entry.Length);
                }
                else
                {
                    // docker save's legacy layout names layers by id; the content decides the digest.
                    files[name] = await content.WriteAsync(stream, entry.Length, Digest.Sha256, cancellationToken);
                }
            }
        }

        if (metadata.TryGetValue("index.json", out var indexBytes) && metadata.TryGetValue("oci-layout", out var layout))
        {
            CheckLayoutVersion(layout);
            var index = ImageJson.ParseIndex(indexBytes);
            var results = new List<ImportedImage>();
            foreach (var entry in index.Manifests)
            {
                results.Add(await ResolveAsync(entry, platform, d => RequireBlob(d), cancellationToken));
            }

            // docker save (v25+) writes both formats; the OCI index lacks the repo tags that manifest.json has.
            if (metadata.TryGetValue("manifest.json", out var dockerManifest))
            {
                results = AddDockerNames(results, ImageJson.ParseDockerArchiveManifest(dockerManifest), files);
            }

            return results;
        }

        if (metadata.TryGetValue("manifest.json", out var manifestJson))
        {
            return await ImportDockerArchiveAsync(ImageJson.ParseDockerArchiveManifest(manifestJson), files, cancellationToken);
        }

        throw Invalid("archive is neither an OCI image layout nor a docker save archive");
    }

    private async Task<IReadOnlyList<ImportedImage>> ImportDockerArchiveAsync(List<DockerArchiveEntry> entries, Dictionary<string, (Digest Digest, long Size)> files, CancellationToken cancellationToken)
    {
        var results = new List<ImportedImage>();
        foreach (var entry in entries)
        {
            var (configDigest, configSize) = Lookup(files, entry.Config);
            var configBytes = await content.ReadAllAsync(configDigest, MaxMetadataFileSize, cancellationToken);
            var config = ImageJson.ParseConfig(configBytes);
            var manifest = new ImageManifest
            {
                MediaType = MediaTypes.OciManifest,
                Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = configDigest, Size = configSize },
            };
            foreach (var layerName in entry.Layers)
            {
                var (digest, size) = Lookup(files, layerName);
                manifest.Layers.Add(new Descriptor { MediaType = SniffLayerMediaType(digest), Digest = digest, Size = size });
            }

            var manifestBytes = ImageJson.Serialize(manifest);
            var (manifestDigest, _) = await content.WriteAsync(manifestBytes, cancellationToken);
            var names = (entry.RepoTags ?? []).Select(ImageReference.Normalize).ToList();
            results.Add(new ImportedImage(manifestDigest, MediaTypes.OciManifest, manifest, configDigest, config, names));
        }

        return results;
    }

    private static List<ImportedImage> AddDockerNames(List<ImportedImage> images, List<DockerArchiveEntry> entries, Dictionary<string, (Digest Digest, long Size)> files)
    {
        var result = new List<ImportedImage>();
        foreach (var image in images)
        {
            var names = image.Names.ToList();
            foreach (var entry in entries)
            {
                if (files.TryGetValue(CleanName(entry.Config), out var config) && config.Digest == image.ConfigDigest)
                {
                    names.AddRange((entry.RepoTags ?? []).Select(ImageReference.Normalize));
                }
            }

            result.Add(image with { Names = names.Distinct(StringComparer.Ordinal).ToList() });
        }

        return result;
    }

    private string SniffLayerMediaType(Digest digest)
    {
        Span<byte> magic = stackalloc byte[4];
        using var stream = content.OpenRead(digest);
        var n = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        return n >= 2 && magic[0] == 0x1F && magic[1] == 0x8B ? MediaTypes.OciLayerGzip
            : n >= 4 && magic[0] == 0x28 && magic[1] == 0xB5 && magic[2] == 0x2F && magic[3] == 0xFD ? MediaTypes.OciLayerZstd
            : MediaTypes.OciLayer;
    }

    /// <summary>Follows one top-level index entry to a manifest, importing the blobs it needs.</summary>
    private async Task<ImportedImage> ResolveAsync(Descriptor entry, Platform platform, Func<Descriptor, Task> fetch, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        if (entry.Annotations is { } annotations)
        {
            if (annotations.TryGetValue(AnnotationKeys.ContainerdImageName, out var full))
            {
                names.Add(ImageReference.Normalize(full));
            }
            // A ref.name is often only a tag ("latest"); only a full reference names an image.
            else if (annotations.TryGetValue(AnnotationKeys.RefName, out var refName) && refName.Contains('/', StringComparison.Ordinal)
                && ImageReference.TryNormalize(refName, out var normalized))
            {
                names.Add(normalized);
            }
        }

        var current = entry;
        for (var depth = 0; ; depth++)
        {
            if (depth > MaxIndexDepth)
            {
                throw Invalid($"index nesting deeper than {MaxIndexDepth} at {current.Digest}");
            }

            await fetch(current);
            var bytes = await content.ReadAllAsync(current.Digest, ImageJson.MaxDocumentSize, cancellationToken);
            var document = ImageJson.ParseDocument(bytes, current.MediaType);
            if (document.Index is { } index)
            {
                current = SelectPlatform(index, platform, current.Digest);
                continue;
            }

            var manifest = document.Manifest!;
            if (!MediaTypes.IsConfig(manifest.Config.MediaType))
            {
                throw new ImageException(ImageErrorKind.Unsupported, $"manifest {current.Digest}: config media type {manifest.Config.MediaType} is not an image config");
            }

            await fetch(manifest.Config);
            var config = ImageJson.ParseConfig(await content.ReadAllAsync(manifest.Config.Digest, ImageJson.MaxDocumentSize, cancellationToken));
            foreach (var layer in manifest.Layers)
            {
                if (MediaTypes.GetLayerCompression(layer.MediaType) is null)
                {
                    throw new ImageException(ImageErrorKind.Unsupported, $"layer {layer.Digest}: unsupported media type {layer.MediaType}");
                }

                await fetch(layer);
            }

            return new ImportedImage(current.Digest, document.MediaType, manifest, manifest.Config.Digest, config, names);
        }
    }

    /// <summary>The manifest of an index for a platform; an index without a match is an error (security.md C6).</summary>
    public static Descriptor SelectPlatform(ImageIndex index, Platform platform, Digest indexDigest)
    {
        var candidates = index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType) || MediaTypes.IsIndex(m.MediaType)).ToList();
        var match = candidates.FirstOrDefault(m => platform.Accepts(m.Platform) && !string.IsNullOrEmpty(m.Platform?.Variant) && m.Platform.Variant == platform.Variant)
            ?? candidates.FirstOrDefault(m => platform.Accepts(m.Platform));
        return match ?? throw new ImageException(ImageErrorKind.NotFound, $"index {indexDigest}: no manifest for platform {platform}");
    }

    private async Task CopyLayoutBlobAsync(string directory, Descriptor descriptor, CancellationToken cancellationToken)
    {
        if (content.Exists(descriptor.Digest))
        {
            if (content.GetSize(descriptor.Digest) != descriptor.Size)
            {
                throw Invalid($"blob {descriptor.Digest}: size mismatch: descriptor says {descriptor.Size}");
            }

            return;
        }

        // The digest was validated by the parser, so this path stays inside the layout.
        var path = Path.Combine(directory, "blobs", descriptor.Digest.Algorithm, descriptor.Digest.Encoded);
        if (!File.Exists(path))
        {
            throw new ImageException(ImageErrorKind.NotFound, $"blob {descriptor.Digest}: not in the layout");
        }

        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        await content.WriteAsync(descriptor.Digest, descriptor.Size, stream, cancellationToken);
    }

    private Task RequireBlob(Descriptor descriptor)
    {
        if (!content.Exists(descriptor.Digest))
        {
            throw new ImageException(ImageErrorKind.NotFound, $"blob {descriptor.Digest}: not in the archive");
        }

        if (content.GetSize(descriptor.Digest) != descriptor.Size)
        {
            throw Invalid($"blob {descriptor.Digest}: size mismatch: descriptor says {descriptor.Size}");
        }

        return Task.CompletedTask;
    }

    private static void CheckLayoutVersion(byte[] layout)
    {
        var header = ImageJson.ParseLayoutHeader(layout);
        if (!header.ImageLayoutVersion.StartsWith("1.", StringComparison.Ordinal))
        {
            throw new ImageException(ImageErrorKind.Unsupported, $"unsupported imageLayoutVersion {header.ImageLayoutVersion}");
        }
    }

    private static (Digest Digest, long Size) Lookup(Dictionary<string, (Digest Digest, long Size)> files, string name) =>
        files.TryGetValue(CleanName(name), out var found) ? found : throw Invalid($"archive lacks {name}");

    private static bool TryBlobName(string name, out Digest digest)
    {
        digest = default;
        var parts = name.Split('/');
        return parts.Length == 3 && parts[0] == "blobs" && Digest.TryParse($"{parts[1]}:{parts[2]}", out digest);
    }

    private static string CleanName(string name) => Dashboard.Linux.Fs.SafeRoot.Clean(name);

    private static async Task<byte[]> ReadLimitedAsync(string path, CancellationToken cancellationToken)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new ImageException(ImageErrorKind.NotFound, $"{path}: no such file");
        }

        if (info.Length > MaxMetadataFileSize)
        {
            throw Invalid($"{path} is larger than {MaxMetadataFileSize} bytes");
        }

        return await File.ReadAllBytesAsync(path, cancellationToken);
    }

    private static ImageException Invalid(string message) => new(ImageErrorKind.InvalidSpec, message);
}
