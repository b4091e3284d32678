using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dashboard.Engine.Api;
using Dashboard.Engine.Events;
using Dashboard.Engine.Hosting;
using Dashboard.Engine.Images;
using Dashboard.Engine.Store;
using Dashboard.Images.Rootfs;
using Dashboard.Linux;
using Dashboard.Linux.Fs;

namespace Dashboard.Engine.Volumes;

/// <summary>
/// Named volumes of the <c>local</c> driver: <c>DATA_ROOT/volumes/&lt;name&gt;/_data</c> (the layout
/// Docker uses), metadata in SQLite. A container's named and anonymous volumes become bind mounts
/// of those directories; an empty volume is first filled from the image's content at the mount
/// path, owners and modes included, as Docker does (unless <c>nocopy</c>).
/// </summary>
public sealed partial class VolumeService(EngineOptions options, IContainerStore store, EventBus events, ILogger<VolumeService> log)
{
    public const string MountsFile = "mounts.json";

    /// <summary>The label Docker puts on volumes it made for a container (moby volume/service: AnonymousLabel).</summary>
    public const string AnonymousLabel = "com.docker.volume.anonymous";

    private readonly SemaphoreSlim _gate = new(1, 1);

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")]
    private static partial Regex NameRegex();

    public string VolumesDir => Path.Combine(options.DataRoot, "volumes");

    public static void ValidateName(string name)
    {
        if (name.Length > 255 || !NameRegex().IsMatch(name))
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"create {(name.Length > 64 ? name[..64] + "…" : name)}: \"{(name.Length > 64 ? name[..64] + "…" : name)}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path");
        }
    }

    /// <summary>Creates a volume; an existing volume of that name is returned as is (Docker's create is idempotent).</summary>
    public async Task<VolumeRecord> CreateAsync(string? name, string? driver, IReadOnlyDictionary<string, string>? labels, IReadOnlyDictionary<string, string>? driverOpts, CancellationToken cancellationToken)
    {
        if (driver is not (null or "" or "local"))
        {
            throw new EngineException(ErrorKind.NotFound, $"plugin \"{driver}\" not found");
        }

        // The local driver's options mount arbitrary devices and filesystems (security.md D3: volume-opt device=).
        if (driverOpts is { Count: > 0 })
        {
            throw new EngineException(ErrorKind.InvalidArgument, "volume driver options are not supported by this engine");
        }

        var anonymous = string.IsNullOrEmpty(name);
        name = anonymous ? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) : name!;
        ValidateName(name);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (await store.GetVolumeAsync(name, cancellationToken) is { } existing)
            {
                return existing;
            }

            var dir = Path.Combine(VolumesDir, name);
            if (!Directory.Exists(VolumesDir))
            {
                Directory.CreateDirectory(VolumesDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var data = Path.Combine(dir, "_data");
            Directory.CreateDirectory(data, (UnixFileMode)0x1ED);
            var allLabels = new Dictionary<string, string>(labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
            if (anonymous)
            {
                allLabels[AnonymousLabel] = "";
            }

            var record = new VolumeRecord(name, "local", data, DateTimeOffset.UtcNow, allLabels, new Dictionary<string, string>(StringComparer.Ordinal));
            try
            {
                await store.AddVolumeAsync(record, cancellationToken);
            }
            catch
            {
                Directory.Delete(dir, recursive: true);
                throw;
            }

            await events.PublishAsync("volume", "create", name, new Dictionary<string, string> { ["driver"] = "local" });
            return record;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<VolumeRecord> GetAsync(string name, CancellationToken cancellationToken) =>
        await store.GetVolumeAsync(name, cancellationToken) ?? throw new EngineException(ErrorKind.NotFound, $"get {name}: no such volume");

    public Task<IReadOnlyList<VolumeRecord>> ListAsync(CancellationToken cancellationToken) => store.ListVolumesAsync(cancellationToken);

    /// <summary>Volume name → ids of the containers that mount it.</summary>
    public async Task<Dictionary<string, List<string>>> UsageAsync(CancellationToken cancellationToken)
    {
        var usage = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var container in await store.ListContainersAsync(cancellationToken))
        {
            foreach (var mount in ReadMounts(container.BundleDir) ?? [])
            {
                if (mount.Type == "volume" && mount.Name is { } n)
                {
                    (usage.TryGetValue(n, out var list) ? list : usage[n] = []).Add(container.Id);
                }
            }
        }

        return usage;
    }

    public async Task RemoveAsync(string name, bool force, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var volume = await store.GetVolumeAsync(name, cancellationToken);
            if (volume is null)
            {
                if (force)
                {
                    return;
                }

                throw new EngineException(ErrorKind.NotFound, $"get {name}: no such volume");
            }

            // Even forced: deleting the data under a container that mounts it is what Docker refuses too.
            if ((await UsageAsync(cancellationToken)).TryGetValue(name, out var users))
            {
                throw new EngineException(ErrorKind.InvalidState, $"remove {name}: volume is in use - [{string.Join(", ", users)}]");
            }

            await store.RemoveVolumeAsync(name, cancellationToken);
            var dir = Path.Combine(VolumesDir, name);
            if (Directory.Exists(dir))
            {
                RemoveTree(dir);
            }
        }
        finally
        {
            _gate.Release();
        }

        await events.PublishAsync("volume", "destroy", name, new Dictionary<string, string> { ["driver"] = "local" });
    }

    /// <summary>Unused volumes; since API 1.42 only anonymous ones unless the <c>all</c> filter is true.</summary>
    public async Task<VolumePruneView> PruneAsync(DockerFilters filters, CancellationToken cancellationToken)
    {
        var all = filters.Get("all").Any(v => v is "true" or "1");
        var usage = await UsageAsync(cancellationToken);
        var deleted = new List<string>();
        long reclaimed = 0;
        foreach (var volume in await store.ListVolumesAsync(cancellationToken))
        {
            if (usage.ContainsKey(volume.Name) || (!all && !volume.Labels.ContainsKey(AnonymousLabel))
                || !filters.MatchLabels(volume.Labels) || filters.Get("label!").Any(l => LabelMatches(volume.Labels, l)))
            {
                continue;
            }

            var size = DirectorySize(volume.Mountpoint);
            try
            {
                await RemoveAsync(volume.Name, force: false, cancellationToken);
                deleted.Add(volume.Name);
                reclaimed += size;
            }
            catch (EngineException e) when (e.Kind is ErrorKind.InvalidState or ErrorKind.NotFound)
            {
                log.LogInformation("prune kept volume {Volume}: {Reason}", volume.Name, e.Message);
            }
        }

        await events.PublishAsync("volume", "prune", "", new Dictionary<string, string> { ["reclaimed"] = reclaimed.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        return new VolumePruneView(deleted, reclaimed);
    }

    public static VolumeView View(VolumeRecord v, long? refCount = null) => new()
    {
        Name = v.Name,
        Driver = v.Driver,
        Mountpoint = v.Mountpoint,
        CreatedAt = v.Created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
        Labels = new Dictionary<string, string>(v.Labels, StringComparer.Ordinal),
        Options = new Dictionary<string, string>(v.Options, StringComparer.Ordinal),
        UsageData = refCount is { } n ? new VolumeUsageView(-1, n) : null,
    };

    public static IReadOnlyList<ContainerMount>? ReadMounts(string containerDirectory)
    {
        var path = Path.Combine(containerDirectory, MountsFile);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), DockerJson.Info<List<ContainerMount>>(DockerJson.Storage)) : null;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Deletes the anonymous volumes a removed container had (<c>docker rm -v</c>), skipping any another container still mounts.</summary>
    public async Task RemoveAnonymousAsync(IReadOnlyList<ContainerMount>? mounts, CancellationToken cancellationToken)
    {
        foreach (var mount in mounts ?? [])
        {
            if (mount is { Type: "volume", Anonymous: true, Name: { } name })
            {
                try
                {
                    await RemoveAsync(name, force: true, cancellationToken);
                }
                catch (EngineException e) when (e.Kind == ErrorKind.InvalidState)
                {
                    log.LogInformation("kept anonymous volume {Volume}: {Reason}", name, e.Message);
                }
            }
        }
    }

    private static bool LabelMatches(IReadOnlyDictionary<string, string> labels, string expr)
    {
        var eq = expr.IndexOf('=', StringComparison.Ordinal);
        var key = eq < 0 ? expr : expr[..eq];
        return labels.TryGetValue(key, out var v) && (eq < 0 || v == expr[(eq + 1)..]);
    }

    private static long DirectorySize(string dir)
    {
        try
        {
            return Directory.Exists(dir)
                ? new DirectoryInfo(dir).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }).Sum(f => f.Length)
                : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Deletes a tree without following symlinks a container may have planted in it.</summary>
    private static void RemoveTree(string dir)
    {
        using var parent = FileCalls.Open(Path.GetDirectoryName(dir)!, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
        SafeRoot.RemoveAllAt(parent, Path.GetFileName(dir));
    }

    /// <summary>
    /// Fills an empty volume from the image: the directory at <paramref name="destination"/> inside the
    /// container's root (resolved in-root, so an image symlink cannot point the copy at the host)
    /// is copied with owners, modes and times.
    /// </summary>
    public static void CopyUp(string rootfs, string destination, string volumeData)
    {
        if (Directory.EnumerateFileSystemEntries(volumeData).Any())
        {
            return;
        }

        using var root = SafeRoot.Open(rootfs);
        try
        {
            using var source = root.TryOpen(destination, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
            if (source is not null)
            {
                TreeCopy.Copy(FileCalls.ProcFdPath(source), volumeData);
            }
        }
        catch (SyscallException e) when (e.Errno == Errno.ENOTDIR)
        {
        }
    }
}
