using System.Globalization;
using System.Text.RegularExpressions;
using Dashboard.Engine.Api;
using Dashboard.Engine.Containers;
using Dashboard.Images.Import;
using Dashboard.Images.Layers;
using Dashboard.Oci;
using ImageRecord = Dashboard.Images.Records.ImageRecord;

namespace Dashboard.Engine.Images;

/// <summary>The Docker image verbs: load, list, inspect, history, tag, remove, prune.</summary>
public sealed partial class ImageService
{
    /// <summary>
    /// Imports a <c>docker save</c> archive or an OCI layout tar (spooled to a temp file first, so a
    /// failure leaves no record) and unpacks its layers. Returns the lines <c>docker load</c> prints.
    /// </summary>
    public async Task<IReadOnlyList<string>> LoadAsync(Stream archive, CancellationToken cancellationToken)
    {
        var temp = Path.Combine(TempDirectory, "load-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await archive.CopyToAsync(file, cancellationToken);
            }

            var lines = new List<string>();
            var loaded = new List<ImageRecord>();
            using (await _gcLock.ReadAsync(cancellationToken))
            {
                IReadOnlyList<ImportedImage> imported;
                try
                {
                    imported = await new ImageImporter(Store.Content).ImportAsync(temp, cancellationToken: cancellationToken);
                }
                catch (Exception e) when (e is EndOfStreamException or InvalidDataException or FormatException)
                {
                    // A truncated or non-tar upload (Dashboard.Images lets TarReader's exceptions through).
                    throw new EngineException(ErrorKind.InvalidArgument, $"invalid image archive: {e.Message}", e);
                }

                foreach (var image in imported)
                {
                    var existing = await _records.GetAsync(image.ConfigDigest, cancellationToken);
                    var record = new ImageRecord
                    {
                        Id = image.ConfigDigest,
                        ManifestDigest = image.ManifestDigest,
                        ManifestMediaType = image.ManifestMediaType,
                        Names = (existing?.Names ?? []).Concat(image.Names).Distinct(StringComparer.Ordinal).ToList(),
                        Created = DateTimeOffset.TryParse(image.Config.Created, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created) ? created : DateTimeOffset.UtcNow,
                        Os = image.Config.Os,
                        Architecture = image.Config.Architecture,
                        Size = image.Manifest.Config.Size + image.Manifest.Layers.Sum(l => l.Size),
                    };

                    // Layers first, record last: a record never points at layers that failed to unpack.
                    await Store.Layers.UnpackAsync(image.Manifest, image.Config, cancellationToken);
                    await _records.PutAsync(record, cancellationToken);
                    loaded.Add(record);
                    lines.AddRange(image.Names.Count == 0 ? [$"Loaded image ID: {record.Id}"] : image.Names.Select(n => "Loaded image: " + ImageReference.Familiar(n)));
                }
            }

            foreach (var record in loaded)
            {
                await PublishAsync("load", record.Id.ToString());
            }

            return lines;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public async Task<List<ImageSummaryView>> ListViewsAsync(DockerFilters filters, CancellationToken cancellationToken)
    {
        var records = await _records.ListAsync(cancellationToken);
        var danglingFilter = filters.Get("dangling").Select(v => v switch
        {
            "true" or "1" => true,
            "false" or "0" => false,
            _ => throw new EngineException(ErrorKind.InvalidArgument, $"invalid filter 'dangling={v}'"),
        }).ToList();
        var before = await BoundaryAsync(filters.Get("before"), cancellationToken);
        var since = await BoundaryAsync(filters.Get("since"), cancellationToken);
        var result = new List<ImageSummaryView>();
        foreach (var record in records.OrderByDescending(r => r.Created).ThenBy(r => r.Id.ToString(), StringComparer.Ordinal))
        {
            if (danglingFilter.Count > 0 && danglingFilter.Any(d => d != (record.Names.Count == 0)))
            {
                continue;
            }

            if (before is { } b && record.Created >= b || since is { } s && record.Created <= s)
            {
                continue;
            }

            var tags = RepoTags(record);
            if (filters.Has("reference") && !filters.Get("reference").Any(pattern => tags.Any(t => ReferenceMatches(pattern, t))))
            {
                continue;
            }

            var config = await ConfigAsync(record, cancellationToken);
            var labels = config.Config?.Labels ?? [];
            if (!filters.MatchLabels(labels))
            {
                continue;
            }

            result.Add(new ImageSummaryView
            {
                Id = record.Id.ToString(),
                RepoTags = tags,
                RepoDigests = RepoDigests(record),
                Created = record.Created.ToUnixTimeSeconds(),
                Size = record.Size,
                VirtualSize = record.Size,
                Labels = new Dictionary<string, string>(labels, StringComparer.Ordinal),
            });
        }

        return result;
    }

    private async Task<DateTimeOffset?> BoundaryAsync(IReadOnlyList<string> references, CancellationToken cancellationToken)
    {
        DateTimeOffset? result = null;
        foreach (var reference in references)
        {
            result = (await GetAsync(reference, cancellationToken)).Created;
        }

        return result;
    }

    /// <summary>
    /// Docker's <c>reference</c> filter: a shell-style pattern (<c>*</c> within one path component,
    /// <c>?</c>) matched against the familiar <c>repo:tag</c>, or against the repository alone when the
    /// pattern has no tag.
    /// </summary>
    public static bool ReferenceMatches(string pattern, string familiarTag)
    {
        var regex = new Regex("^" + Regex.Escape(pattern).Replace(@"\*", "[^/]*", StringComparison.Ordinal).Replace(@"\?", "[^/]", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        if (regex.IsMatch(familiarTag))
        {
            return true;
        }

        var lastSlash = familiarTag.LastIndexOf('/');
        var colon = familiarTag.LastIndexOf(':');
        return colon > lastSlash && regex.IsMatch(familiarTag[..colon]);
    }

    private static List<string> RepoTags(ImageRecord record) =>
        record.Names.Where(n => !n.Contains('@', StringComparison.Ordinal)).Select(ImageReference.Familiar).ToList();

    private static List<string> RepoDigests(ImageRecord record) =>
        record.Names.Where(n => n.Contains('@', StringComparison.Ordinal)).Select(ImageReference.Familiar).ToList();

    public async Task<ImageInspectView> InspectAsync(string reference, CancellationToken cancellationToken)
    {
        var record = await GetAsync(reference, cancellationToken);
        var config = await ConfigAsync(record, cancellationToken);
        var c = config.Config ?? new Dashboard.Oci.Image.ContainerConfig();
        var chainIds = LayerStore.ChainIds(config.RootFs.DiffIds);
        var lowers = Store.Layers.GetLowerDirectories(chainIds);
        return new ImageInspectView
        {
            Id = record.Id.ToString(),
            RepoTags = RepoTags(record),
            RepoDigests = RepoDigests(record),
            Created = ApiPipeline.FormatTime(record.Created),
            Author = config.Author ?? "",
            Config = new ImageConfigView
            {
                User = c.User ?? "",
                ExposedPorts = EmptyObjects(c.ExposedPorts?.Keys),
                Env = c.Env,
                Cmd = c.Cmd,
                Volumes = EmptyObjects(c.Volumes?.Keys),
                WorkingDir = c.WorkingDir ?? "",
                Entrypoint = c.Entrypoint,
                OnBuild = c.OnBuild,
                Labels = c.Labels,
                StopSignal = c.StopSignal,
            },
            Architecture = record.Architecture,
            Variant = config.Variant,
            Os = record.Os,
            Size = record.Size,
            VirtualSize = record.Size,
            GraphDriver = new GraphDriverView(
                Store.Layers.Driver == LayerDriver.Overlay ? "overlay2" : "vfs",
                lowers.Count == 0 ? [] : new Dictionary<string, string>(StringComparer.Ordinal) { ["LowerDir"] = string.Join(':', lowers) }),
            RootFS = new RootFsView("layers", config.RootFs.DiffIds.Select(d => d.ToString()).ToList()),
            Metadata = new ImageMetadataView(ApiPipeline.FormatTime(null)),
        };
    }

    public async Task<List<ImageHistoryView>> HistoryAsync(string reference, CancellationToken cancellationToken)
    {
        var record = await GetAsync(reference, cancellationToken);
        var (manifest, config) = await Store.LoadAsync(record, cancellationToken);
        var history = config.History ?? [];
        if (history.Count == 0)
        {
            history = manifest.Layers.Select(_ => new Dashboard.Oci.Image.History { Created = config.Created }).ToList();
        }

        var result = new List<ImageHistoryView>();
        var layer = 0;
        foreach (var h in history)
        {
            long size = 0;
            if (h.EmptyLayer != true && layer < manifest.Layers.Count)
            {
                size = manifest.Layers[layer++].Size;
            }

            var created = DateTimeOffset.TryParse(h.Created, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t.ToUnixTimeSeconds() : 0;
            result.Add(new ImageHistoryView("<missing>", created, h.CreatedBy ?? "", null, size, h.Comment ?? ""));
        }

        result.Reverse();
        if (result.Count > 0)
        {
            result[0] = result[0] with { Id = record.Id.ToString(), Tags = RepoTags(record) };
        }

        return result;
    }

    /// <summary><c>POST /images/{name}/tag?repo=&amp;tag=</c>: the new name moves to this image if another had it.</summary>
    public async Task TagAsync(string source, string repo, string? tag, CancellationToken cancellationToken)
    {
        var record = await GetAsync(source, cancellationToken);
        if (string.IsNullOrEmpty(repo))
        {
            throw new EngineException(ErrorKind.InvalidArgument, "repository name must have at least one component");
        }

        var target = string.IsNullOrEmpty(tag) ? repo : repo + ":" + tag;
        if (repo.Contains('@', StringComparison.Ordinal) || !ImageReference.TryNormalize(target, out var normalized) || normalized.Contains('@', StringComparison.Ordinal))
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid reference format: {target}");
        }

        await _records.PutAsync(record with { Names = record.Names.Append(normalized).Distinct(StringComparer.Ordinal).ToList() }, cancellationToken);
        await PublishAsync("tag", record.Id.ToString(), ImageReference.Familiar(normalized));
    }

    /// <summary>
    /// Docker's <c>rmi</c>: a name that is one of several only untags; the last name, or an id, deletes
    /// the image. An image that containers use is never deleted: without force that is a conflict,
    /// with force its names are removed and it stays as a dangling image until its containers go.
    /// </summary>
    public async Task<List<ImageDeleteView>> RemoveAsync(string reference, bool force, bool noPrune, CancellationToken cancellationToken)
    {
        var record = await GetAsync(reference, cancellationToken);
        var id = record.Id.ToString();
        var short12 = record.Id.Encoded[..12];
        var users = (await ContainersByImageAsync(cancellationToken)).GetValueOrDefault(id) ?? [];
        var byName = ImageReference.TryNormalize(reference, out var normalized) && record.Names.Contains(normalized, StringComparer.Ordinal);
        var result = new List<ImageDeleteView>();

        if (byName && (record.Names.Count > 1 || (users.Count > 0 && force)))
        {
            await UntagAsync(record, [normalized], result, cancellationToken);
            return result;
        }

        if (users.Count > 0)
        {
            var running = await RunningUserAsync(users, cancellationToken);
            if (byName)
            {
                throw new EngineException(ErrorKind.InvalidState, $"conflict: unable to remove repository reference \"{reference}\" (must force) - container {users[0][..12]} is using its referenced image {short12}");
            }

            if (running is not null)
            {
                throw new EngineException(ErrorKind.InvalidState, $"conflict: unable to delete {short12} (cannot be forced) - image is being used by running container {running[..12]}");
            }

            if (!force)
            {
                throw new EngineException(ErrorKind.InvalidState, $"conflict: unable to delete {short12} (must be forced) - image is being used by stopped container {users[0][..12]}");
            }

            await UntagAsync(record, record.Names, result, cancellationToken);
            return result;
        }

        if (!byName && record.Names.Count > 1 && !force)
        {
            throw new EngineException(ErrorKind.InvalidState, $"conflict: unable to delete {short12} (must be forced) - image is referenced in multiple repositories");
        }

        await UntagAsync(record, record.Names, result, cancellationToken);
        await DeleteAsync(record, result, noPrune, cancellationToken);
        return result;
    }

    private async Task<string?> RunningUserAsync(List<string> containerIds, CancellationToken cancellationToken)
    {
        foreach (var containerId in containerIds)
        {
            if (await _containers.GetContainerAsync(containerId, cancellationToken) is { } c && c.State.Status.IsActive())
            {
                return containerId;
            }
        }

        return null;
    }

    private async Task UntagAsync(ImageRecord record, IReadOnlyList<string> names, List<ImageDeleteView> result, CancellationToken cancellationToken)
    {
        if (names.Count == 0)
        {
            return;
        }

        var current = await _records.GetAsync(record.Id, cancellationToken) ?? record;
        await _records.PutAsync(current with { Names = current.Names.Except(names, StringComparer.Ordinal).ToList() }, cancellationToken);
        foreach (var name in names)
        {
            result.Add(new ImageDeleteView { Untagged = ImageReference.Familiar(name) });
            await PublishAsync("untag", record.Id.ToString(), ImageReference.Familiar(name));
        }
    }

    private async Task<long> DeleteAsync(ImageRecord record, List<ImageDeleteView> result, bool noPrune, CancellationToken cancellationToken)
    {
        long freed;
        using (await _gcLock.WriteAsync(cancellationToken))
        {
            // Re-checked under the lock: a container created meanwhile keeps the image.
            if ((await ContainersByImageAsync(cancellationToken)).ContainsKey(record.Id.ToString()))
            {
                throw new EngineException(ErrorKind.InvalidState, $"conflict: unable to delete {record.Id.Encoded[..12]} - image is being used by a container");
            }

            await _records.DeleteAsync(record.Id, cancellationToken);
            freed = noPrune ? 0 : await Store.GarbageCollectAsync(cancellationToken);
        }

        result.Add(new ImageDeleteView { Deleted = record.Id.ToString() });
        await PublishAsync("delete", record.Id.ToString());
        return freed;
    }

    /// <summary><c>POST /images/prune</c>: dangling images (or, with <c>dangling=false</c>, every image no container uses).</summary>
    public async Task<ImagePruneView> PruneAsync(DockerFilters filters, Func<string, DateTimeOffset> parseUntil, CancellationToken cancellationToken)
    {
        var danglingOnly = !filters.Get("dangling").Any(v => v is "false" or "0");
        DateTimeOffset? until = null;
        foreach (var value in filters.Get("until"))
        {
            until = parseUntil(value);
        }

        var users = await ContainersByImageAsync(cancellationToken);
        var result = new List<ImageDeleteView>();
        long freed = 0;
        foreach (var record in await _records.ListAsync(cancellationToken))
        {
            if (users.ContainsKey(record.Id.ToString()) || (danglingOnly && record.Names.Count > 0) || (until is { } u && record.Created >= u))
            {
                continue;
            }

            var labels = (await ConfigAsync(record, cancellationToken)).Config?.Labels;
            if (!filters.MatchLabels(labels) || filters.Get("label!").Any(l => LabelMatches(labels, l)))
            {
                continue;
            }

            try
            {
                await UntagAsync(record, record.Names, result, cancellationToken);
                freed += await DeleteAsync(record, result, noPrune: false, cancellationToken);
            }
            catch (EngineException e) when (e.Kind == ErrorKind.InvalidState)
            {
                _log.LogInformation("prune kept image {ImageId}: {Reason}", record.Id, e.Message);
            }
        }

        await _events.PublishAsync("image", "prune", "", new Dictionary<string, string> { ["reclaimed"] = freed.ToString(CultureInfo.InvariantCulture) });
        return new ImagePruneView(result, freed);
    }

    /// <summary>Images by name or id for <c>save</c>: the requested name alone is kept on each, as <c>docker save NAME</c> does.</summary>
    public async Task<List<ImageRecord>> ForSaveAsync(IReadOnlyList<string> references, CancellationToken cancellationToken)
    {
        var result = new List<ImageRecord>();
        foreach (var reference in references)
        {
            var record = await GetAsync(reference, cancellationToken);
            var byName = ImageReference.TryNormalize(reference, out var normalized) && record.Names.Contains(normalized, StringComparer.Ordinal);
            var names = byName ? [normalized]
                : reference.StartsWith("sha256:", StringComparison.Ordinal) || reference.All(char.IsAsciiHexDigitLower) ? []
                : record.Names.Where(n => !n.Contains('@', StringComparison.Ordinal)).ToList();
            var existing = result.FindIndex(r => r.Id == record.Id);
            if (existing >= 0)
            {
                result[existing] = result[existing] with { Names = result[existing].Names.Concat(names).Distinct(StringComparer.Ordinal).ToList() };
            }
            else
            {
                result.Add(record with { Names = names });
            }
        }

        return result;
    }

    public async Task<IDisposable> ReadLockAsync(CancellationToken cancellationToken) => await _gcLock.ReadAsync(cancellationToken);

    public async Task PublishSaveAsync(IEnumerable<ImageRecord> records)
    {
        foreach (var record in records)
        {
            await PublishAsync("save", record.Id.ToString());
        }
    }

    internal static string Short(Digest id) => id.Encoded[..12];

    private static bool LabelMatches(Dictionary<string, string>? labels, string expr)
    {
        var eq = expr.IndexOf('=', StringComparison.Ordinal);
        var key = eq < 0 ? expr : expr[..eq];
        return labels is not null && labels.TryGetValue(key, out var v) && (eq < 0 || v == expr[(eq + 1)..]);
    }
}
