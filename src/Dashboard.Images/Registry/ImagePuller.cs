using Dashboard.Images.Import;
using Dashboard.Images.Layers;
using Dashboard.Images.Records;
using Dashboard.Oci;
using Dashboard.Oci.Image;

namespace Dashboard.Images.Registry;

/// <summary>
/// Pulls an image from a registry into an <see cref="ImageStore"/>: index → platform manifest →
/// config → layers, every blob verified by digest and size while it streams into the content
/// store (security.md B8), layers downloaded concurrently (bounded) with progress and skipped when
/// present, then unpacked by the layer store and recorded under the reference's name. Manifest and
/// config are committed only after every layer verified, so a failed pull leaves no image behind.
/// </summary>
public sealed class ImagePuller(ImageStore store, RegistrySettingsStore? settings = null, RegistryClientOptions? options = null)
{
    private const int MaxIndexDepth = 8;
    private const long ProgressStep = 512 << 10;

    private readonly RegistryClientOptions _options = options ?? new RegistryClientOptions();

    public Task<ImageRecord> PullAsync(string reference, IProgress<PullProgress>? progress = null, CancellationToken cancellationToken = default) =>
        PullAsync(reference, new PullOptions(), progress, cancellationToken);

    public async Task<ImageRecord> PullAsync(string reference, PullOptions pullOptions, IProgress<PullProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var parsed = RegistryReference.Parse(reference);
        try
        {
            using var client = await RegistryClient.CreateAsync(parsed.Registry, settings, _options, cancellationToken);
            return await PullAsync(client, parsed, pullOptions, progress, cancellationToken);
        }
        catch (RegistryException e)
        {
            throw e.WithContext($"pull {parsed}");
        }
    }

    internal async Task<ImageRecord> PullAsync(RegistryClient client, RegistryReference reference, PullOptions pullOptions, IProgress<PullProgress>? progress, CancellationToken cancellationToken)
    {
        var repository = reference.Repository;
        var platform = pullOptions.Platform ?? Platform.Current;
        var fetched = await client.GetManifestAsync(repository, reference.ManifestReference, cancellationToken);
        var documents = new List<RegistryManifest>();
        ImageManifest manifest;
        string mediaType;
        for (var depth = 0; ; depth++)
        {
            if (depth > MaxIndexDepth)
            {
                throw new RegistryException(RegistryErrorKind.Protocol, $"index nesting deeper than {MaxIndexDepth} at {fetched.Digest}");
            }

            var document = ParseDocument(fetched);
            documents.Add(fetched);
            if (document.Index is { } index)
            {
                Descriptor entry;
                try
                {
                    entry = ImageImporter.SelectPlatform(index, platform, fetched.Digest);
                }
                catch (ImageException e) when (e.Kind == ImageErrorKind.NotFound)
                {
                    throw new RegistryException(RegistryErrorKind.NotFound, e.Message, inner: e);
                }

                fetched = await client.GetManifestAsync(repository, entry.Digest.ToString(), cancellationToken);
                if (fetched.Bytes.Length != entry.Size)
                {
                    throw new RegistryException(RegistryErrorKind.DigestMismatch, $"manifest {entry.Digest}: size mismatch: got {fetched.Bytes.Length} bytes, index says {entry.Size}");
                }

                continue;
            }

            manifest = document.Manifest!;
            mediaType = document.MediaType;
            break;
        }

        if (!MediaTypes.IsConfig(manifest.Config.MediaType))
        {
            throw new RegistryException(RegistryErrorKind.Protocol, $"manifest {fetched.Digest}: config media type {manifest.Config.MediaType} is not an image config");
        }

        foreach (var layer in manifest.Layers)
        {
            if (MediaTypes.GetLayerCompression(layer.MediaType) is null)
            {
                throw new RegistryException(RegistryErrorKind.Protocol, $"layer {layer.Digest}: unsupported media type {layer.MediaType}");
            }
        }

        var configBytes = store.Content.Exists(manifest.Config.Digest)
            ? await store.Content.ReadAllAsync(manifest.Config.Digest, RegistryLimits.MaxConfigSize, cancellationToken)
            : await client.GetBlobBytesAsync(repository, manifest.Config, RegistryLimits.MaxConfigSize, cancellationToken);
        ImageConfig config;
        try
        {
            config = ImageJson.ParseConfig(configBytes);
        }
        catch (ImageDocumentException e)
        {
            throw new RegistryException(RegistryErrorKind.Protocol, $"config {manifest.Config.Digest}: {e.Message}", inner: e);
        }

        if (config.RootFs.DiffIds.Count != manifest.Layers.Count)
        {
            throw new RegistryException(RegistryErrorKind.Protocol, $"manifest {fetched.Digest} has {manifest.Layers.Count} layers but its config lists {config.RootFs.DiffIds.Count} diff_ids");
        }

        await DownloadLayersAsync(client, repository, manifest.Layers, pullOptions.Unpack, progress, cancellationToken);

        await WriteBlobAsync(manifest.Config.Digest, configBytes, cancellationToken);
        foreach (var document in documents)
        {
            await WriteBlobAsync(document.Digest, document.Bytes, cancellationToken);
        }

        var record = await RecordAsync(reference, fetched.Digest, mediaType, manifest, config, cancellationToken);
        if (pullOptions.Unpack)
        {
            await store.Layers.UnpackAsync(manifest, config, e =>
            {
                var layer = e.Layer;
                var state = e.State switch
                {
                    LayerUnpackState.Started => PullState.Extracting,
                    LayerUnpackState.Done => PullState.Complete,
                    _ => PullState.AlreadyExists,
                };
                progress?.Report(new PullProgress(layer.Digest, state, layer.Size, layer.Size));
            }, cancellationToken);
        }

        return record;
    }

    private async Task DownloadLayersAsync(RegistryClient client, string repository, IReadOnlyList<Descriptor> layers, bool unpack, IProgress<PullProgress>? progress, CancellationToken cancellationToken)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var gate = new SemaphoreSlim(Math.Max(1, _options.MaxConcurrentDownloads));
        var tasks = layers.DistinctBy(l => l.Digest).Select(async layer =>
        {
            try
            {
                await DownloadLayerAsync(client, repository, layer, gate, unpack, progress, failed.Token);
            }
            catch
            {
                await failed.CancelAsync();
                throw;
            }
        }).ToList();
        try
        {
            await Task.WhenAll(tasks);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // One layer failed and cancelled its siblings: report that failure, not a sibling's cancellation.
            throw tasks.Select(t => t.Exception?.InnerException).FirstOrDefault(e => e is not null and not OperationCanceledException)!;
        }
    }

    private async Task DownloadLayerAsync(RegistryClient client, string repository, Descriptor layer, SemaphoreSlim gate, bool unpack, IProgress<PullProgress>? progress, CancellationToken cancellationToken)
    {
        if (store.Content.Exists(layer.Digest) && store.Content.GetSize(layer.Digest) == layer.Size)
        {
            progress?.Report(new PullProgress(layer.Digest, PullState.AlreadyExists, layer.Size, layer.Size));
            return;
        }

        progress?.Report(new PullProgress(layer.Digest, PullState.Waiting, 0, layer.Size));
        await gate.WaitAsync(cancellationToken);
        try
        {
            progress?.Report(new PullProgress(layer.Digest, PullState.Downloading, 0, layer.Size));
            long reported = 0;
            var onBytes = new SyncProgress(done =>
            {
                if (done == layer.Size)
                {
                    progress?.Report(new PullProgress(layer.Digest, PullState.Verifying, done, layer.Size));
                }
                else if (done - reported >= ProgressStep)
                {
                    reported = done;
                    progress?.Report(new PullProgress(layer.Digest, PullState.Downloading, done, layer.Size));
                }
            });
            await using var stream = client.OpenBlob(repository, layer, onBytes);
            try
            {
                await store.Content.WriteAsync(layer.Digest, layer.Size, stream, cancellationToken);
            }
            catch (ImageException e) when (e.Kind == ImageErrorKind.InvalidSpec)
            {
                throw new RegistryException(RegistryErrorKind.DigestMismatch, e.Message, inner: e);
            }

            if (!unpack)
            {
                progress?.Report(new PullProgress(layer.Digest, PullState.Complete, layer.Size, layer.Size));
            }
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task WriteBlobAsync(Digest digest, byte[] bytes, CancellationToken cancellationToken)
    {
        if (!store.Content.Exists(digest))
        {
            await store.Content.WriteAsync(digest, bytes.Length, new MemoryStream(bytes, writable: false), cancellationToken);
        }
    }

    private async Task<ImageRecord> RecordAsync(RegistryReference reference, Digest manifestDigest, string mediaType, ImageManifest manifest, ImageConfig config, CancellationToken cancellationToken)
    {
        var existing = await store.Records.GetAsync(manifest.Config.Digest, cancellationToken);
        var record = new ImageRecord
        {
            Id = manifest.Config.Digest,
            ManifestDigest = manifestDigest,
            ManifestMediaType = mediaType,
            Names = (existing?.Names ?? []).Append(reference.ToString()).Distinct(StringComparer.Ordinal).ToList(),
            Created = DateTimeOffset.TryParse(config.Created, System.Globalization.CultureInfo.InvariantCulture, out var created) ? created : DateTimeOffset.UtcNow,
            Os = config.Os,
            Architecture = config.Architecture,
            Size = manifest.Config.Size + manifest.Layers.Sum(l => l.Size),
        };
        await store.Records.PutAsync(record, cancellationToken);
        return record;
    }

    private static ImageDocument ParseDocument(RegistryManifest fetched)
    {
        var contentType = MediaTypes.IsIndex(fetched.MediaType) || MediaTypes.IsManifest(fetched.MediaType) || MediaTypes.IsSchema1(fetched.MediaType) ? fetched.MediaType : null;
        try
        {
            return ImageJson.ParseDocument(fetched.Bytes, contentType);
        }
        catch (ImageDocumentException e)
        {
            throw new RegistryException(RegistryErrorKind.Protocol, $"manifest {fetched.Digest}: {e.Message}", inner: e);
        }
    }

    /// <summary>An <see cref="IProgress{T}"/> that runs its handler inline (Progress&lt;T&gt; would post to the thread pool out of order).</summary>
    private sealed class SyncProgress(Action<long> handler) : IProgress<long>
    {
        public void Report(long value) => handler(value);
    }
}
