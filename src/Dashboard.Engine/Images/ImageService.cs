using System.Text.Json;
using Dashboard.Engine.Events;
using Dashboard.Engine.Hosting;
using Dashboard.Engine.Store;
using Dashboard.Images;
using Dashboard.Images.Import;
using Dashboard.Images.Rootfs;
using Dashboard.Oci;
using Dashboard.Oci.Image;
using ImageRecord = Dashboard.Images.Records.ImageRecord;

namespace Dashboard.Engine.Images;

/// <summary>
/// The engine's images: Dashboard.Images' store (blobs and layers under the data root, DESIGN.md §4)
/// with its records in the engine's SQLite, Docker's lookup and removal semantics, and container
/// root filesystems as overlay snapshots of the unpacked layers.
/// </summary>
public sealed partial class ImageService : IImageSource
{
    /// <summary>The file in a container directory that names the layers its rootfs is made of (to mount it again after a reboot).</summary>
    public const string RootfsLayersFile = "rootfs.layers";

    private static readonly JsonElement s_emptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    private readonly EngineOptions _options;
    private readonly SqliteImageRecordStore _records;
    private readonly IContainerStore _containers;
    private readonly EventBus _events;
    private readonly ILogger<ImageService> _log;
    private readonly Lazy<ImageStore> _store;

    /// <summary>Held shared by anything that adds content or uses layers, exclusively by garbage collection.</summary>
    private readonly AsyncReaderWriterLock _gcLock = new();

    public ImageService(EngineOptions options, SqliteImageRecordStore records, IContainerStore containers, EventBus events, ILogger<ImageService> log)
    {
        _options = options;
        _records = records;
        _containers = containers;
        _events = events;
        _log = log;
        _store = new Lazy<ImageStore>(() => new ImageStore(new ImageStoreOptions { Root = options.DataRoot }, records));
    }

    public ImageStore Store => _store.Value;

    public string TempDirectory
    {
        get
        {
            var dir = Path.Combine(_options.DataRoot, "tmp");
            if (!Directory.Exists(dir))
            {
                Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            return dir;
        }
    }

    /// <summary>Docker's lookup: full id, exact name (normalized: <c>busybox</c> = <c>docker.io/library/busybox:latest</c>), unique id prefix.</summary>
    public async Task<ImageRecord?> FindAsync(string reference, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(reference) || reference.Length > 512)
        {
            return null;
        }

        if (reference.StartsWith("sha256:", StringComparison.Ordinal) && Digest.TryParse(reference, out var full))
        {
            return await _records.GetAsync(full, cancellationToken);
        }

        if (reference.Length == 64 && reference.All(char.IsAsciiHexDigitLower))
        {
            var byId = await _records.GetAsync(Digest.Parse("sha256:" + reference), cancellationToken);
            if (byId is not null)
            {
                return byId;
            }
        }

        if (ImageReference.TryNormalize(reference, out var normalized) && await _records.FindByNameAsync(normalized, cancellationToken) is { } named)
        {
            return await _records.GetAsync(named, cancellationToken);
        }

        var hex = reference.StartsWith("sha256:", StringComparison.Ordinal) ? reference[7..] : reference;
        if (hex.Length is > 0 and < 64 && hex.All(char.IsAsciiHexDigitLower))
        {
            var matches = (await _records.ListAsync(cancellationToken)).Where(r => r.Id.Encoded.StartsWith(hex, StringComparison.Ordinal)).Take(2).ToList();
            if (matches.Count > 1)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"multiple IDs found with provided prefix: {hex}");
            }

            return matches.FirstOrDefault();
        }

        return null;
    }

    public async Task<ImageRecord> GetAsync(string reference, CancellationToken cancellationToken) =>
        await FindAsync(reference, cancellationToken) ?? throw EngineException.NoSuchImage(reference);

    public async Task<ImageConfig> ConfigAsync(ImageRecord record, CancellationToken cancellationToken) =>
        (await Store.LoadAsync(record, cancellationToken)).Config;

    public async Task<ResolvedImage> ResolveAsync(string reference, CancellationToken cancellationToken)
    {
        var record = await GetAsync(reference, cancellationToken);
        var config = await ConfigAsync(record, cancellationToken);
        return new ResolvedImage(record.Id.ToString(), reference, "", RunConfig(config));
    }

    public async Task<IReadOnlyList<ResolvedImage>> ListAsync(CancellationToken cancellationToken) =>
        (await _records.ListAsync(cancellationToken)).Select(r => new ResolvedImage(r.Id.ToString(), r.Names.Count > 0 ? r.Names[0] : r.Id.ToString(), "", new ImageRunConfig())).ToList();

    public async Task<string> CreateRootfsAsync(ResolvedImage image, string containerDirectory, CancellationToken cancellationToken)
    {
        using (await _gcLock.ReadAsync(cancellationToken))
        {
            var record = await _records.GetAsync(Digest.Parse(image.Id), cancellationToken) ?? throw EngineException.NoSuchImage(image.Reference);
            var chainIds = await Store.UnpackAsync(record, cancellationToken);
            Directory.CreateDirectory(containerDirectory);
            await File.WriteAllLinesAsync(Path.Combine(containerDirectory, RootfsLayersFile), chainIds.Select(c => c.ToString()), cancellationToken);
            return ContainerRootfs.Create(Store.Layers, chainIds, containerDirectory, RootfsKindOption()).RootfsPath;
        }
    }

    public async Task EnsureRootfsAsync(string containerDirectory, CancellationToken cancellationToken)
    {
        var layersFile = Path.Combine(containerDirectory, RootfsLayersFile);
        if (!File.Exists(layersFile))
        {
            return;
        }

        var rootfs = ContainerRootfs.Open(containerDirectory);
        if (rootfs.Kind != RootfsKind.Overlay || rootfs.IsMounted)
        {
            return;
        }

        var chainIds = (await File.ReadAllLinesAsync(layersFile, cancellationToken)).Where(l => l.Length > 0).Select(Digest.Parse).ToList();
        var missing = chainIds.FirstOrDefault(c => !Store.Layers.Exists(c));
        if (!missing.IsEmpty)
        {
            throw new EngineException(ErrorKind.InvalidState, $"layer {missing} of the container's image is gone");
        }

        ContainerRootfs.Create(Store.Layers, chainIds, containerDirectory, RootfsKind.Overlay);
    }

    public void RemoveContainerDirectory(string containerDirectory)
    {
        if (!Directory.Exists(containerDirectory))
        {
            return;
        }

        ContainerRootfs.Open(containerDirectory).Remove();
    }

    /// <summary>Ids of the images containers use (they are never deleted, only untagged, while that holds).</summary>
    public async Task<Dictionary<string, List<string>>> ContainersByImageAsync(CancellationToken cancellationToken) =>
        (await _containers.ListContainersAsync(cancellationToken))
            .GroupBy(c => c.ImageId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(c => c.Id).ToList(), StringComparer.Ordinal);

    private RootfsKind? RootfsKindOption() => Store.Layers.Driver == Dashboard.Images.Layers.LayerDriver.Copy ? RootfsKind.Copy : null;

    public static ImageRunConfig RunConfig(ImageConfig config)
    {
        var c = config.Config ?? new Dashboard.Oci.Image.ContainerConfig();
        return new ImageRunConfig
        {
            User = string.IsNullOrEmpty(c.User) ? null : c.User,
            Env = c.Env,
            Entrypoint = c.Entrypoint,
            Cmd = c.Cmd,
            WorkingDir = string.IsNullOrEmpty(c.WorkingDir) ? null : c.WorkingDir,
            Labels = c.Labels,
            StopSignal = string.IsNullOrEmpty(c.StopSignal) ? null : c.StopSignal,
            ExposedPorts = EmptyObjects(c.ExposedPorts?.Keys),
            Volumes = EmptyObjects(c.Volumes?.Keys),
        };
    }

    public static Dictionary<string, JsonElement>? EmptyObjects(IEnumerable<string>? keys) =>
        keys?.ToDictionary(k => k, _ => s_emptyObject, StringComparer.Ordinal);

    private Task<EngineEvent> PublishAsync(string action, string id, string? name = null)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (name is not null)
        {
            attributes["name"] = name;
        }

        return _events.PublishAsync("image", action, id, attributes);
    }
}
