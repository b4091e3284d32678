using Dashboard.Images.Import;
using Dashboard.Oci;
using Dashboard.Oci.Image;

namespace Dashboard.Images.Registry;

/// <summary>
/// Pushes a local image to a registry: each blob (layers, then config) is checked with HEAD,
/// mounted from another repository of the same registry the image is known under when possible,
/// else uploaded; the manifest goes last, byte for byte as stored, so its digest is unchanged.
/// </summary>
public sealed class ImagePusher(ImageStore store, RegistrySettingsStore? settings = null, RegistryClientOptions? options = null)
{
    private readonly RegistryClientOptions _options = options ?? new RegistryClientOptions();

    /// <summary>
    /// Pushes <paramref name="nameOrId"/> to <paramref name="destination"/> (default: the name
    /// itself, which must then be a full reference) and returns the manifest digest.
    /// </summary>
    public async Task<Digest> PushAsync(string nameOrId, string? destination = null, IProgress<PushProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var record = await store.ResolveAsync(nameOrId, cancellationToken);
        var target = destination ?? (ImageReference.TryNormalize(nameOrId, out var normalized) && record.Names.Contains(normalized, StringComparer.Ordinal)
            ? normalized
            : throw new ImageException(ImageErrorKind.InvalidSpec, $"push {nameOrId}: give a destination reference"));
        var reference = RegistryReference.Parse(target);
        if (reference.Digest is { } pinned && pinned != record.ManifestDigest)
        {
            throw new ImageException(ImageErrorKind.InvalidSpec, $"push {target}: the image's manifest is {record.ManifestDigest}");
        }

        var manifestBytes = await store.Content.ReadAllAsync(record.ManifestDigest, RegistryLimits.MaxManifestSize, cancellationToken);
        var manifest = ImageJson.ParseManifest(manifestBytes);
        var mountFrom = record.Names
            .Select(n => RegistryReference.Parse(n))
            .FirstOrDefault(r => r.Registry == reference.Registry && r.Repository != reference.Repository)?.Repository;

        try
        {
            using var client = await RegistryClient.CreateAsync(reference.Registry, settings, _options, cancellationToken);
            using var gate = new SemaphoreSlim(Math.Max(1, _options.MaxConcurrentUploads));
            var blobs = manifest.Layers.Append(manifest.Config).DistinctBy(b => b.Digest).ToList();
            await Task.WhenAll(blobs.Select(async blob =>
            {
                progress?.Report(new PushProgress(blob.Digest, PushState.Waiting, 0, blob.Size));
                await gate.WaitAsync(cancellationToken);
                try
                {
                    var bytes = new InlineProgress(done => progress?.Report(new PushProgress(blob.Digest, PushState.Uploading, done, blob.Size)));
                    var state = await client.PushBlobAsync(reference.Repository, blob, () => store.Content.OpenRead(blob.Digest), mountFrom, bytes, cancellationToken);
                    progress?.Report(new PushProgress(blob.Digest, state, blob.Size, blob.Size));
                }
                finally
                {
                    gate.Release();
                }
            }));

            return await client.PutManifestAsync(reference.Repository, reference.Tag ?? record.ManifestDigest.ToString(), record.ManifestMediaType, manifestBytes, cancellationToken);
        }
        catch (RegistryException e)
        {
            throw e.WithContext($"push {reference}");
        }
    }

    private sealed class InlineProgress(Action<long> handler) : IProgress<long>
    {
        public void Report(long value) => handler(value);
    }
}
