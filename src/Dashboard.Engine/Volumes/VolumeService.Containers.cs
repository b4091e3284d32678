using System.Text.Json;
using Dashboard.Engine.Api;
using Dashboard.Engine.Images;

namespace Dashboard.Engine.Volumes;

/// <summary>The container side of volumes: resolving <c>Binds</c>, <c>Mounts</c> and image <c>VOLUME</c>s at create.</summary>
public sealed partial class VolumeService
{
    /// <summary>
    /// Resolves the volumes of a container being created: named volumes (<c>Binds</c> <c>name:/path</c>,
    /// <c>Mounts</c> type <c>volume</c>) are created when missing, the image's <c>Volumes</c> not
    /// otherwise mounted get anonymous volumes, and each empty volume is filled from the image.
    /// Returns the host config the runtime spec is built from (volumes turned into bind mounts of
    /// their data directories) and records the mounts in the container directory.
    /// </summary>
    public async Task<HostConfig> PrepareAsync(string containerDirectory, HostConfig host, ImageRunConfig image, string rootfs, CancellationToken cancellationToken)
    {
        var spec = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(host, DockerJson.Info<HostConfig>(DockerJson.Storage)), DockerJson.Info<HostConfig>(DockerJson.Storage))!;
        spec.Binds = [];
        spec.Mounts = [];
        var mounts = new List<ContainerMount>();
        var created = new List<string>();
        try
        {
            foreach (var bind in host.Binds ?? [])
            {
                var parts = bind.Split(':');
                if (parts.Length is < 2 or > 3 || parts[0].Length == 0)
                {
                    throw new EngineException(ErrorKind.InvalidArgument, $"invalid volume specification: '{bind}'");
                }

                var options = parts.Length == 3 ? parts[2].Split(',') : [];
                var readOnly = options.Contains("ro");
                if (parts[0].StartsWith('/'))
                {
                    spec.Binds.Add(bind);
                    mounts.Add(new ContainerMount { Type = "bind", Source = parts[0], Destination = parts[1], ReadOnly = readOnly, Mode = parts.Length == 3 ? parts[2] : "" });
                    continue;
                }

                var volume = await UseAsync(parts[0], null, created, cancellationToken);
                if (!options.Contains("nocopy"))
                {
                    CopyUp(rootfs, parts[1], volume.Mountpoint);
                }

                var specOptions = options.Where(o => o != "nocopy").ToList();
                spec.Binds.Add(volume.Mountpoint + ":" + parts[1] + (specOptions.Count > 0 ? ":" + string.Join(',', specOptions) : ""));
                mounts.Add(new ContainerMount { Type = "volume", Name = volume.Name, Source = volume.Mountpoint, Destination = parts[1], ReadOnly = readOnly, Mode = parts.Length == 3 ? parts[2] : "z" });
            }

            foreach (var m in host.Mounts ?? [])
            {
                if (m.Type != "volume")
                {
                    spec.Mounts.Add(m);
                    if (m.Type is "bind" or "tmpfs")
                    {
                        mounts.Add(new ContainerMount { Type = m.Type, Source = m.Source ?? "", Destination = m.Target ?? "", ReadOnly = m.ReadOnly });
                    }

                    continue;
                }

                var (noCopy, labels) = VolumeOptions(m.VolumeOptions);
                var anonymous = string.IsNullOrEmpty(m.Source);
                var volume = await UseAsync(anonymous ? null : m.Source, labels, created, cancellationToken);
                if (!noCopy)
                {
                    CopyUp(rootfs, m.Target ?? "", volume.Mountpoint);
                }

                spec.Mounts.Add(new MountSpec { Type = "bind", Source = volume.Mountpoint, Target = m.Target, ReadOnly = m.ReadOnly });
                mounts.Add(new ContainerMount { Type = "volume", Name = volume.Name, Source = volume.Mountpoint, Destination = m.Target ?? "", ReadOnly = m.ReadOnly, Anonymous = anonymous });
            }

            var taken = new HashSet<string>(mounts.Select(m => Normalize(m.Destination)).Concat((host.Tmpfs ?? []).Keys.Select(Normalize)), StringComparer.Ordinal);
            foreach (var path in (image.Volumes ?? []).Keys.Order(StringComparer.Ordinal))
            {
                // Image config is untrusted (security.md B10, CVE-2022-23648): a volume path must be a plain absolute path.
                if (!path.StartsWith('/') || path.Split('/').Any(c => c is ".." or ".") || path.Contains('\0', StringComparison.Ordinal) || path.Contains(':', StringComparison.Ordinal))
                {
                    throw new EngineException(ErrorKind.InvalidArgument, $"invalid volume path in the image config: {path}");
                }

                if (!taken.Add(Normalize(path)))
                {
                    continue;
                }

                var volume = await UseAsync(null, null, created, cancellationToken);
                CopyUp(rootfs, path, volume.Mountpoint);
                spec.Mounts.Add(new MountSpec { Type = "bind", Source = volume.Mountpoint, Target = path });
                mounts.Add(new ContainerMount { Type = "volume", Name = volume.Name, Source = volume.Mountpoint, Destination = path, Anonymous = true });
            }

            await File.WriteAllBytesAsync(Path.Combine(containerDirectory, MountsFile), JsonSerializer.SerializeToUtf8Bytes(mounts, DockerJson.Info<List<ContainerMount>>(DockerJson.Storage)), cancellationToken);
            return spec;
        }
        catch
        {
            foreach (var name in created)
            {
                await RemoveAsync(name, force: true, CancellationToken.None);
            }

            throw;
        }
    }

    /// <summary>Removes the volumes <see cref="PrepareAsync"/> made for a container whose creation then failed.</summary>
    public async Task AbandonAsync(string containerDirectory)
    {
        var mounts = ReadMounts(containerDirectory);
        File.Delete(Path.Combine(containerDirectory, MountsFile));
        await RemoveAnonymousAsync(mounts, CancellationToken.None);
    }

    private async Task<Store.VolumeRecord> UseAsync(string? name, IReadOnlyDictionary<string, string>? labels, List<string> created, CancellationToken cancellationToken)
    {
        if (name is not null && await GetOrNullAsync(name, cancellationToken) is { } existing)
        {
            return existing;
        }

        var volume = await CreateAsync(name, "local", labels, null, cancellationToken);
        created.Add(volume.Name);
        return volume;
    }

    private async Task<Store.VolumeRecord?> GetOrNullAsync(string name, CancellationToken cancellationToken)
    {
        ValidateName(name);
        return await store.GetVolumeAsync(name, cancellationToken);
    }

    private static string Normalize(string path) => "/" + string.Join('/', path.Split('/', StringSplitOptions.RemoveEmptyEntries));

    private static (bool NoCopy, Dictionary<string, string>? Labels) VolumeOptions(JsonElement? options)
    {
        if (options is not { ValueKind: JsonValueKind.Object } o)
        {
            return (false, null);
        }

        var noCopy = false;
        Dictionary<string, string>? labels = null;
        foreach (var p in o.EnumerateObject())
        {
            switch (p.Name.ToUpperInvariant())
            {
                case "NOCOPY":
                    noCopy = p.Value.ValueKind == JsonValueKind.True;
                    break;
                case "LABELS" when p.Value.ValueKind == JsonValueKind.Object:
                    labels = p.Value.EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString() ?? "", StringComparer.Ordinal);
                    break;
                case "DRIVERCONFIG" when p.Value.ValueKind == JsonValueKind.Object:
                    if (p.Value.EnumerateObject().Any(d => d.Name.Equals("Options", StringComparison.OrdinalIgnoreCase) && d.Value.ValueKind == JsonValueKind.Object && d.Value.EnumerateObject().Any())
                        || p.Value.EnumerateObject().Any(d => d.Name.Equals("Name", StringComparison.OrdinalIgnoreCase) && d.Value.GetString() is not (null or "" or "local")))
                    {
                        throw new EngineException(ErrorKind.InvalidArgument, "volume driver options are not supported by this engine");
                    }

                    break;
                case "SUBPATH":
                    throw new EngineException(ErrorKind.InvalidArgument, "volume subpaths are not supported by this engine");
            }
        }

        return (noCopy, labels);
    }
}
