using System.IO.Compression;
using Dashboard.Images.Import;
using Dashboard.Images.Records;
using Dashboard.Images.Rootfs;
using Dashboard.Oci;
using Dashboard.Oci.Image;

namespace Dashboard.Images;

/// <summary>"Commit container to image": the container's changes become one new gzip layer on top of its image.</summary>
public sealed partial class ImageStore
{
    /// <summary>
    /// Creates an image from <paramref name="baseImage"/> plus the changes in a container's overlay
    /// <paramref name="upperDirectory"/>; <paramref name="configChanges"/> (if given) replaces the
    /// runtime part of the config (Cmd, Env, …). Returns the new record, named <paramref name="name"/> if given.
    /// </summary>
    public Task<ImageRecord> CommitAsync(ImageRecord baseImage, string upperDirectory, string? name = null, ContainerConfig? configChanges = null, string? comment = null, CancellationToken cancellationToken = default) =>
        CommitAsync(baseImage, tar => ContainerDiff.WriteLayer(upperDirectory, tar, cancellationToken), name, configChanges, comment, cancellationToken);

    /// <summary>
    /// As <see cref="CommitAsync(ImageRecord, string, string?, ContainerConfig?, string?, CancellationToken)"/>
    /// for a container root filesystem of either kind: an overlay one contributes its upper directory,
    /// a copied one its differences against the image's unpacked tree.
    /// </summary>
    public async Task<ImageRecord> CommitAsync(ImageRecord baseImage, ContainerRootfs rootfs, string? name = null, ContainerConfig? configChanges = null, string? comment = null, CancellationToken cancellationToken = default)
    {
        if (rootfs.Kind == RootfsKind.Overlay)
        {
            return await CommitAsync(baseImage, rootfs.UpperPath, name, configChanges, comment, cancellationToken);
        }

        var chainIds = await UnpackAsync(baseImage, cancellationToken);
        var lowers = Layers.GetLowerDirectories(chainIds);
        if (lowers.Count > 1)
        {
            throw new ImageException(ImageErrorKind.Unsupported, "a copied rootfs needs the copy layer driver (overlay layer dirs hold only differences)");
        }

        var imageTree = lowers.Count == 1 ? lowers[0] : null;
        return await CommitAsync(baseImage, tar =>
        {
            if (imageTree is null)
            {
                // An image without layers: every entry of the container is a change.
                ContainerDiff.WriteLayer(rootfs.RootfsPath, tar, cancellationToken);
            }
            else
            {
                ContainerDiff.WriteLayerFromCopy(imageTree, rootfs.RootfsPath, tar, cancellationToken);
            }
        }, name, configChanges, comment, cancellationToken);
    }

    private async Task<ImageRecord> CommitAsync(ImageRecord baseImage, Action<Stream> writeDiff, string? name, ContainerConfig? configChanges, string? comment, CancellationToken cancellationToken)
    {
        var (manifest, _) = await LoadAsync(baseImage, cancellationToken);
        var config = ImageJson.ParseConfig(await Content.ReadAllAsync(manifest.Config.Digest, ImageJson.MaxDocumentSize, cancellationToken));
        var temp = Path.Combine(Content.Root, "ingest", "diff-" + Guid.NewGuid().ToString("N"));
        Digest diffId;
        (Digest Digest, long Size) layer;
        try
        {
            await using (var tar = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose))
            {
                await Task.Run(() => writeDiff(tar), cancellationToken);
                tar.Position = 0;
                using (var hash = Digest.CreateHash(Digest.Sha256))
                {
                    var buffer = new byte[1 << 20];
                    int n;
                    while ((n = await tar.ReadAsync(buffer, cancellationToken)) > 0)
                    {
                        hash.AppendData(buffer, 0, n);
                    }

                    diffId = Digest.FromHash(Digest.Sha256, hash.GetHashAndReset());
                }

                tar.Position = 0;
                await using var gzipped = new FileStream(temp + ".gz", FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
                await using (var gzip = new GZipStream(gzipped, CompressionLevel.Fastest, leaveOpen: true))
                {
                    await tar.CopyToAsync(gzip, cancellationToken);
                }

                gzipped.Position = 0;
                layer = await Content.WriteAsync(gzipped, null, Digest.Sha256, cancellationToken);
            }
        }
        catch (Linux.SyscallException e)
        {
            throw new ImageException(ImageErrorKind.Io, $"commit {baseImage.Id.Encoded[..12]}: {e.Message}", e);
        }

        var docker = baseImage.ManifestMediaType == MediaTypes.DockerManifest;
        var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", System.Globalization.CultureInfo.InvariantCulture);
        config.Created = now;
        config.Config = configChanges ?? config.Config;
        config.RootFs.DiffIds.Add(diffId);
        config.History ??= [];
        config.History.Add(new History { Created = now, CreatedBy = "dashboard commit", Comment = comment });
        var configBytes = ImageJson.Serialize(config);
        var (configDigest, _) = await Content.WriteAsync(configBytes, cancellationToken);
        manifest.Config = new Descriptor { MediaType = docker ? MediaTypes.DockerConfig : MediaTypes.OciConfig, Digest = configDigest, Size = configBytes.Length };
        manifest.Layers.Add(new Descriptor { MediaType = docker ? MediaTypes.DockerLayerGzip : MediaTypes.OciLayerGzip, Digest = layer.Digest, Size = layer.Size });
        manifest.MediaType = baseImage.ManifestMediaType;
        var manifestBytes = ImageJson.Serialize(manifest);
        var (manifestDigest, _) = await Content.WriteAsync(manifestBytes, cancellationToken);
        var record = new ImageRecord
        {
            Id = configDigest,
            ManifestDigest = manifestDigest,
            ManifestMediaType = baseImage.ManifestMediaType,
            Names = name is null ? [] : [ImageReference.Normalize(name)],
            Created = DateTimeOffset.UtcNow,
            Os = config.Os,
            Architecture = config.Architecture,
            Size = manifest.Config.Size + manifest.Layers.Sum(l => l.Size),
        };
        await Records.PutAsync(record, cancellationToken);
        return record;
    }
}
