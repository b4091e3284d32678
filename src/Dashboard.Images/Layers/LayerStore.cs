using System.Collections.Concurrent;
using System.Text;
using Dashboard.Images.Content;
using Dashboard.Images.Rootfs;
using Dashboard.Linux;
using Dashboard.Linux.Fs;
using Dashboard.Oci;
using Dashboard.Oci.Image;

namespace Dashboard.Images.Layers;

/// <summary>How layer directories relate to each other.</summary>
public enum LayerDriver
{
    /// <summary>Each <c>diff/</c> holds only its layer's changes in overlayfs format; a rootfs is an overlay of them.</summary>
    Overlay,

    /// <summary>Each <c>diff/</c> is the full tree up to its layer (parent copied, then the layer applied).</summary>
    Copy,
}

public enum LayerUnpackState
{
    Started,
    Done,
    AlreadyUnpacked,
}

/// <summary>A layer of <see cref="LayerStore.UnpackAsync(ImageManifest, ImageConfig, Action{LayerUnpackEvent}?, CancellationToken)"/> starting or ending.</summary>
public sealed record LayerUnpackEvent(int Index, Descriptor Layer, LayerUnpackState State);

/// <summary>
/// Unpacked layers under <c>layers/&lt;chainid-hex&gt;/diff</c>, each unpacked once (DESIGN.md §4).
/// With the overlay driver, layer N is applied onto an overlay mount of layers 1..N-1 with a fresh
/// upper directory: lookups see earlier layers' symlinks (evaluated in-root, security.md B0) and
/// overlayfs itself turns deletions into whiteouts and opaque directories. A layer is prepared in a
/// temp directory and renamed into place only when its diff_id verified, so a failed or cancelled
/// unpack leaves nothing behind.
/// </summary>
public sealed class LayerStore
{
    private readonly ContentStore _content;
    private readonly LayerLimits _limits;
    private readonly ConcurrentDictionary<Digest, SemaphoreSlim> _locks = new();

    public LayerStore(string root, ContentStore content, LayerDriver? driver = null, LayerLimits? limits = null)
    {
        Root = Path.GetFullPath(root);
        _content = content;
        _limits = limits ?? new LayerLimits();
        ContentStore.CreatePrivateDirectory(Root);
        var marker = Path.Combine(Root, "driver");
        if (File.Exists(marker))
        {
            Driver = Enum.Parse<LayerDriver>(File.ReadAllText(marker).Trim());
            if (driver is { } wanted && wanted != Driver)
            {
                throw new ImageException(ImageErrorKind.InvalidState, $"layer store {Root} uses the {Driver} driver, not {wanted}");
            }
        }
        else
        {
            Driver = driver ?? (OverlayMount.IsSupported() ? LayerDriver.Overlay : LayerDriver.Copy);
            File.WriteAllText(marker, Driver.ToString());
        }
    }

    public string Root { get; }

    public LayerDriver Driver { get; }

    /// <summary>image-spec config.md "Layer ChainID": ChainID(L₀) = DiffID(L₀), ChainID(Lₙ) = SHA256(ChainID(Lₙ₋₁) + " " + DiffID(Lₙ)).</summary>
    public static IReadOnlyList<Digest> ChainIds(IReadOnlyList<Digest> diffIds)
    {
        var result = new List<Digest>(diffIds.Count);
        foreach (var diffId in diffIds)
        {
            result.Add(result.Count == 0 ? diffId : Digest.Compute(Encoding.ASCII.GetBytes($"{result[^1]} {diffId}")));
        }

        return result;
    }

    public string GetDiffPath(Digest chainId) => Path.Combine(Root, chainId.Encoded, "diff");

    public bool Exists(Digest chainId) => Directory.Exists(GetDiffPath(chainId));

    /// <summary>
    /// The directories a root filesystem is built from, top-most first: with the overlay driver all
    /// layers, with the copy driver only the top one (it holds the full tree).
    /// </summary>
    public IReadOnlyList<string> GetLowerDirectories(IReadOnlyList<Digest> chainIds) =>
        chainIds.Count == 0 ? []
        : Driver == LayerDriver.Overlay ? chainIds.Reverse().Select(GetDiffPath).ToList()
        : [GetDiffPath(chainIds[^1])];

    /// <summary>Unpacks every layer of an image that is not unpacked yet; returns the chain ids.</summary>
    public Task<IReadOnlyList<Digest>> UnpackAsync(ImageManifest manifest, ImageConfig config, CancellationToken cancellationToken = default) =>
        UnpackAsync(manifest, config, null, cancellationToken);

    /// <summary>As <see cref="UnpackAsync(ImageManifest, ImageConfig, CancellationToken)"/>, telling <paramref name="onLayer"/> when each layer starts and ends.</summary>
    public async Task<IReadOnlyList<Digest>> UnpackAsync(ImageManifest manifest, ImageConfig config, Action<LayerUnpackEvent>? onLayer, CancellationToken cancellationToken = default)
    {
        var diffIds = config.RootFs.DiffIds;
        if (diffIds.Count != manifest.Layers.Count)
        {
            throw new ImageException(ImageErrorKind.InvalidSpec, $"image has {manifest.Layers.Count} layers but its config lists {diffIds.Count} diff_ids");
        }

        var chainIds = ChainIds(diffIds);
        var missing = Enumerable.Range(0, chainIds.Count).Where(i => !Exists(chainIds[i])).ToList();
        var timings = missing.Select(_ => UnpackTiming.Create()).ToArray();

        // Every missing layer is decompressed ahead, in order, while earlier ones are applied.
        using var pipeline = missing.Count == 0 ? null : new InflatePipeline(
            missing.Count,
            k => LayerApplier.Decompress(_content.OpenRead(manifest.Layers[missing[k]].Digest), CompressionOf(manifest.Layers[missing[k]])),
            k => Digest.CreateHash(diffIds[missing[k]].Algorithm),
            timings);
        for (var i = 0; i < chainIds.Count; i++)
        {
            var k = missing.IndexOf(i);
            onLayer?.Invoke(new LayerUnpackEvent(i, manifest.Layers[i], k < 0 ? LayerUnpackState.AlreadyUnpacked : LayerUnpackState.Started));
            if (k >= 0)
            {
                await UnpackLayerAsync(manifest.Layers[i], diffIds[i], chainIds.Take(i).ToList(), chainIds[i], pipeline![k], timings[k], cancellationToken);
                onLayer?.Invoke(new LayerUnpackEvent(i, manifest.Layers[i], LayerUnpackState.Done));
            }
        }

        return chainIds;
    }

    private static LayerCompression CompressionOf(Descriptor layer) =>
        MediaTypes.GetLayerCompression(layer.MediaType)
            ?? throw new ImageException(ImageErrorKind.Unsupported, $"layer {layer.Digest}: unsupported media type {layer.MediaType}");

    private async Task UnpackLayerAsync(Descriptor layer, Digest diffId, IReadOnlyList<Digest> parents, Digest chainId, LayerTarStream tar, UnpackTiming? timing, CancellationToken cancellationToken)
    {
        using (tar)
        {
            _ = CompressionOf(layer);
            if (Exists(chainId))
            {
                return;
            }

            var gate = _locks.GetOrAdd(chainId, _ => new SemaphoreSlim(1, 1));
            await gate.WaitAsync(cancellationToken);
            try
            {
                if (Exists(chainId))
                {
                    return;
                }

                // The synchronous apply runs on a worker thread; decompression happens on the pipeline's thread.
                await Task.Run(() => Unpack(layer, tar, diffId, parents, chainId, timing, cancellationToken), cancellationToken);
            }
            finally
            {
                gate.Release();
            }
        }
    }

    private void Unpack(Descriptor layer, LayerTarStream tar, Digest diffId, IReadOnlyList<Digest> parents, Digest chainId, UnpackTiming? timing, CancellationToken cancellationToken)
    {
        var temp = Path.Combine(Root, "tmp-" + Guid.NewGuid().ToString("N"));
        var diff = Path.Combine(temp, "diff");
        var work = Path.Combine(temp, "work");
        var merged = Path.Combine(temp, "merged");
        var mounted = false;
        var phase = UnpackTiming.Now();
        try
        {
            ContentStore.CreatePrivateDirectory(temp);
            Directory.CreateDirectory(diff);
            File.SetUnixFileMode(diff, (UnixFileMode)0x1ED);
            var target = diff;
            if (parents.Count > 0 && Driver == LayerDriver.Overlay)
            {
                Directory.CreateDirectory(work);
                Directory.CreateDirectory(merged);
                OverlayMount.Mount(merged, GetLowerDirectories(parents), diff, work);
                mounted = true;
                target = merged;
            }
            else if (parents.Count > 0)
            {
                TreeCopy.Copy(GetDiffPath(parents[^1]), diff);
            }

            timing?.Add(UnpackPhase.Setup, phase);
            phase = UnpackTiming.Now();
            using (var root = SafeRoot.Open(target))
            {
                LayerApplier.Apply(root, tar, diffId, _limits, tar.Hash, cancellationToken);
            }

            timing?.Add(UnpackPhase.Apply, phase);
            phase = UnpackTiming.Now();

            if (mounted)
            {
                OverlayMount.Unmount(merged);
                mounted = false;
                RemoveTree(work);
                Directory.Delete(merged);
            }

            try
            {
                using var rootHandle = FileCalls.Open(Root, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
                FileCalls.RenameAt(rootHandle, Path.GetFileName(temp), rootHandle, chainId.Encoded, FileCalls.RENAME_NOREPLACE);
                temp = null;
            }
            catch (SyscallException e) when (e.Errno is Errno.EEXIST or Errno.ENOTEMPTY)
            {
                // Another process unpacked the same chain first; its copy is as good as ours.
            }

            timing?.Add(UnpackPhase.Finish, phase);
            timing?.Report(layer.Digest.Encoded[..12]);
        }
        catch (ImageException e)
        {
            throw new ImageException(e.Kind, $"unpack layer {layer.Digest}: {e.Message}", e);
        }
        catch (SyscallException e)
        {
            throw new ImageException(ImageErrorKind.Io, $"unpack layer {layer.Digest}: {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException)
        {
            throw new ImageException(ImageErrorKind.InvalidSpec, $"unpack layer {layer.Digest}: corrupt compressed data: {e.Message}", e);
        }
        finally
        {
            if (mounted)
            {
                OverlayMount.TryUnmount(merged, detach: true);
            }

            if (temp is not null)
            {
                RemoveTree(temp);
            }
        }
    }

    /// <summary>Deletes unpacked layers whose chain id is not in <paramref name="keep"/>.</summary>
    public int GarbageCollect(IReadOnlySet<Digest> keep)
    {
        var removed = 0;
        foreach (var dir in Directory.EnumerateDirectories(Root))
        {
            var name = Path.GetFileName(dir);
            if (Digest.TryParse("sha256:" + name, out var chainId) && !keep.Contains(chainId))
            {
                RemoveTree(dir);
                removed++;
            }
        }

        return removed;
    }

    internal static void RemoveTree(string path)
    {
        using var parent = FileCalls.Open(Path.GetDirectoryName(path)!, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
        SafeRoot.RemoveAllAt(parent, Path.GetFileName(path));
    }
}
