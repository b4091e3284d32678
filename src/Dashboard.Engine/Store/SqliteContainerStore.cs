using System.Text.Json;
using Dashboard.Engine.Api;
using Dashboard.Engine.Containers;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Engine.Store;

/// <summary>
/// <see cref="IContainerStore"/> on SQLite through EF Core. One short-lived context per operation
/// (SqliteConnection is not thread-safe; the pool makes this cheap).
/// </summary>
public sealed partial class SqliteContainerStore(IDbContextFactory<EngineDbContext> factory) : IContainerStore
{
    private const int SqliteConstraint = 19;

    /// <summary>
    /// Applies pending migrations (EF runs them in one transaction, with its migration lock) and checks the file; returns
    /// the migrations it applied. With none pending (as after <c>dashboard-engine migrate</c>) EF's migrator is not loaded.
    /// </summary>
    public static async Task<IReadOnlyList<string>> InitializeAsync(IDbContextFactory<EngineDbContext> factory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var connection = await db.OpenSqliteConnectionAsync(cancellationToken);
        var pending = await StoreMigrations.PendingAsync(connection, cancellationToken);
        if (pending.Count > 0)
        {
            await db.Database.MigrateAsync(cancellationToken);
        }

        // WAL (persistent in the file): a commit is one append and one fsync of the log under synchronous=FULL,
        // instead of the rollback journal's journal write, fsyncs and unlink per transaction; readers (the
        // sampler, list, inspect) no longer wait for writers. The busy timeout covers checkpoints.
        await using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode=WAL";
            await wal.ExecuteNonQueryAsync(cancellationToken);
        }

        return pending;
    }

    public async Task AddContainerAsync(ContainerRecord container, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        db.Containers.Add(ToEntity(container));
        await SaveContainerOrConflictAsync(db, container, cancellationToken);
    }

    /// <summary>The row and its create event go in one transaction (SaveChanges wraps both inserts): one commit, one fsync.</summary>
    public async Task<EngineEvent> AddContainerAsync(ContainerRecord container, EngineEvent created, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        db.Containers.Add(ToEntity(container));
        var entity = ToEntity(created);
        db.Events.Add(entity);
        await SaveContainerOrConflictAsync(db, container, cancellationToken);
        return created with { Seq = entity.Seq };
    }

    private static async Task SaveContainerOrConflictAsync(EngineDbContext db, ContainerRecord container, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e.InnerException is SqliteException { SqliteErrorCode: SqliteConstraint })
        {
            var nameTaken = await db.Containers.AsNoTracking().AnyAsync(c => c.Name == container.Name && c.Id != container.Id, cancellationToken);
            throw nameTaken
                ? NameConflict(container.Name, await db.Containers.AsNoTracking().Where(c => c.Name == container.Name).Select(c => c.Id).FirstAsync(cancellationToken))
                : new EngineException(ErrorKind.AlreadyExists, $"container id {container.Id} already exists", e);
        }
    }

    public static EngineException NameConflict(string name, string holderId) =>
        new(ErrorKind.AlreadyExists, $"Conflict. The container name \"/{name}\" is already in use by container \"{holderId}\". You have to remove (or rename) that container to be able to reuse that name.");

    public async Task<ContainerRecord> LookupContainerAsync(string reference, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(reference))
        {
            throw EngineException.NoSuchContainer(reference);
        }

        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var byId = await db.Containers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == reference, cancellationToken);
        if (byId is not null)
        {
            return FromEntity(byId);
        }

        var name = reference.StartsWith('/') ? reference[1..] : reference;
        var byName = await db.Containers.AsNoTracking().FirstOrDefaultAsync(c => c.Name == name, cancellationToken);
        if (byName is not null)
        {
            return FromEntity(byName);
        }

        // Ids are lowercase hex, so [prefix, prefix + "g") is exactly the ids starting with prefix;
        // a range scan on the key, not LIKE (case-insensitive in SQLite and '_' is a wildcard: podman #26168).
        if (reference.Length is > 0 and < 64 && reference.All(char.IsAsciiHexDigitLower))
        {
            var upper = reference + "g";
            var matches = await db.Containers.AsNoTracking()
                .Where(c => string.Compare(c.Id, reference) >= 0 && string.Compare(c.Id, upper) < 0)
                .Take(2)
                .ToListAsync(cancellationToken);
            if (matches.Count == 1)
            {
                return FromEntity(matches[0]);
            }

            if (matches.Count > 1)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"multiple IDs found with provided prefix: {reference}");
            }
        }

        throw EngineException.NoSuchContainer(reference);
    }

    public async Task<bool> ContainerNameExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return await db.Containers.AsNoTracking().AnyAsync(c => c.Name == name, cancellationToken);
    }

    public Task SaveStateAsync(string id, ContainerRuntimeState state, CancellationToken cancellationToken = default) =>
        SaveStateAsync(id, state, [], cancellationToken);

    public async Task RenameContainerAsync(string id, string newName, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        int rows;
        try
        {
            rows = await db.Containers.Where(c => c.Id == id).ExecuteUpdateAsync(s => s.SetProperty(c => c.Name, newName), cancellationToken);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
        {
            var holder = await db.Containers.AsNoTracking().Where(c => c.Name == newName).Select(c => c.Id).FirstOrDefaultAsync(cancellationToken);
            throw NameConflict(newName, holder ?? "");
        }

        if (rows == 0)
        {
            throw EngineException.NoSuchContainer(id);
        }
    }

    public async Task<bool> RemoveContainerAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return await db.Containers.Where(c => c.Id == id).ExecuteDeleteAsync(cancellationToken) > 0;
    }

    public async Task<IReadOnlyList<EngineEvent>> ListEventsAsync(long? sinceNano, long? untilNano, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var query = db.Events.AsNoTracking();
        if (sinceNano is { } since)
        {
            query = query.Where(e => e.TimeNano >= since);
        }

        if (untilNano is { } until)
        {
            query = query.Where(e => e.TimeNano <= until);
        }

        var rows = await query.OrderBy(e => e.Seq).ToListAsync(cancellationToken);
        return rows.Select(e => new EngineEvent(e.Type, e.Action, e.ActorId, ParseMap(e.AttributesJson), e.TimeNano) { Seq = e.Seq }).ToList();
    }

    public async Task AddVolumeAsync(VolumeRecord volume, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        db.Volumes.Add(new VolumeEntity
        {
            Name = volume.Name,
            Driver = volume.Driver,
            Mountpoint = volume.Mountpoint,
            CreatedNano = ToNano(volume.Created)!.Value,
            LabelsJson = JsonSerializer.Serialize(volume.Labels, DockerJson.Storage),
            OptionsJson = JsonSerializer.Serialize(volume.Options, DockerJson.Storage),
        });
        await SaveOrConflictAsync(db, $"volume {volume.Name} already exists", cancellationToken);
    }

    public async Task<VolumeRecord?> GetVolumeAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var v = await db.Volumes.AsNoTracking().FirstOrDefaultAsync(x => x.Name == name, cancellationToken);
        return v is null ? null : FromEntity(v);
    }

    public async Task<IReadOnlyList<VolumeRecord>> ListVolumesAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return (await db.Volumes.AsNoTracking().OrderBy(v => v.Name).ToListAsync(cancellationToken)).Select(FromEntity).ToList();
    }

    public async Task<bool> RemoveVolumeAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return await db.Volumes.Where(v => v.Name == name).ExecuteDeleteAsync(cancellationToken) > 0;
    }

    public async Task<bool> RemoveNetworkAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return await db.Networks.Where(n => n.Id == id).ExecuteDeleteAsync(cancellationToken) > 0;
    }

    public async Task PutImageAsync(ImageRecord image, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var entity = await db.Images.FirstOrDefaultAsync(i => i.Id == image.Id, cancellationToken);
        if (entity is null)
        {
            db.Images.Add(new ImageEntity { Id = image.Id, CreatedNano = ToNano(image.Created)!.Value, Size = image.Size, ConfigJson = image.ConfigJson });
        }
        else
        {
            entity.Size = image.Size;
            entity.ConfigJson = image.ConfigJson;
        }

        await db.SaveChangesAsync(cancellationToken);
        var references = image.References.Distinct(StringComparer.Ordinal).ToList();
        await db.ImageReferences.Where(r => r.ImageId == image.Id && !references.Contains(r.Reference)).ExecuteDeleteAsync(cancellationToken);
        await db.ImageReferences.Where(r => references.Contains(r.Reference)).ExecuteDeleteAsync(cancellationToken);
        db.ImageReferences.AddRange(references.Select(r => new ImageReferenceEntity { Reference = r, ImageId = image.Id }));
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    public async Task<ImageRecord?> GetImageAsync(string idOrReference, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var id = await db.Images.AsNoTracking().Where(i => i.Id == idOrReference).Select(i => i.Id).FirstOrDefaultAsync(cancellationToken)
            ?? await db.ImageReferences.AsNoTracking().Where(r => r.Reference == idOrReference).Select(r => r.ImageId).FirstOrDefaultAsync(cancellationToken);
        return id is null ? null : await LoadImageAsync(db, id, cancellationToken);
    }

    public async Task<IReadOnlyList<ImageRecord>> ListImagesAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var images = await db.Images.AsNoTracking().OrderByDescending(i => i.CreatedNano).ToListAsync(cancellationToken);
        var references = await db.ImageReferences.AsNoTracking().ToListAsync(cancellationToken);
        var byImage = references.ToLookup(r => r.ImageId, r => r.Reference);
        return images.Select(i => new ImageRecord(i.Id, byImage[i.Id].Order(StringComparer.Ordinal).ToList(), FromNano(i.CreatedNano), i.Size, i.ConfigJson)).ToList();
    }

    public async Task<bool> RemoveImageAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return await db.Images.Where(i => i.Id == id).ExecuteDeleteAsync(cancellationToken) > 0;
    }

    public async Task AddExecAsync(ExecRecord exec, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        db.ExecSessions.Add(new ExecSessionEntity
        {
            Id = exec.Id,
            ContainerId = exec.ContainerId,
            ProcessJson = exec.ProcessJson,
            Running = exec.Running,
            ExitCode = exec.ExitCode,
            Pid = exec.Pid,
            CreatedNano = ToNano(exec.Created)!.Value,
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e.InnerException is SqliteException { SqliteErrorCode: SqliteConstraint })
        {
            if (!await db.Containers.AsNoTracking().AnyAsync(c => c.Id == exec.ContainerId, cancellationToken))
            {
                throw EngineException.NoSuchContainer(exec.ContainerId);
            }

            throw new EngineException(ErrorKind.AlreadyExists, $"exec session {exec.Id} already exists", e);
        }
    }

    public async Task<ExecRecord?> GetExecAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var x = await db.ExecSessions.AsNoTracking().FirstOrDefaultAsync(e => e.Id == id, cancellationToken);
        return x is null ? null : FromEntity(x);
    }

    public async Task UpdateExecAsync(string id, bool running, int? exitCode, int pid, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await db.ExecSessions.Where(e => e.Id == id).ExecuteUpdateAsync(
            s => s.SetProperty(e => e.Running, running).SetProperty(e => e.ExitCode, exitCode).SetProperty(e => e.Pid, pid),
            cancellationToken);
        if (rows == 0)
        {
            throw new EngineException(ErrorKind.NotFound, $"No such exec instance: {id}");
        }
    }

    public async Task<IReadOnlyList<ExecRecord>> ListExecsAsync(string containerId, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await db.ExecSessions.AsNoTracking().Where(e => e.ContainerId == containerId).OrderBy(e => e.CreatedNano).ToListAsync(cancellationToken);
        return rows.Select(FromEntity).ToList();
    }

    /// <summary>
    /// One transaction, one prepared statement re-bound per row: a sampling round of 200 containers is one
    /// commit. A sample of a container removed meanwhile is skipped (its history went with it), not an error.
    /// </summary>
    public async Task AddStatsAsync(IReadOnlyList<StatsSample> samples, CancellationToken cancellationToken = default)
    {
        if (samples.Count == 0)
        {
            return;
        }

        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var connection = await db.OpenSqliteConnectionAsync(cancellationToken);
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = """
            INSERT OR REPLACE INTO stats_samples (ContainerId, Resolution, TimeSeconds, CpuUsageNanos, CpuThrottledNanos,
                MemoryUsage, MemoryLimit, MemoryCache, Pids, BlockRead, BlockWrite, NetRx, NetTx)
            SELECT $c, $r, $t, $cpu, $thr, $mu, $ml, $mc, $p, $br, $bw, $rx, $tx
            WHERE EXISTS (SELECT 1 FROM containers WHERE Id = $c)
            """;
        var names = new[] { "$c", "$r", "$t", "$cpu", "$thr", "$mu", "$ml", "$mc", "$p", "$br", "$bw", "$rx", "$tx" };
        var parameters = names.Select(n => command.Parameters.Add(n, n == "$c" ? SqliteType.Text : SqliteType.Integer)).ToArray();
        foreach (var s in samples)
        {
            parameters[0].Value = s.ContainerId;
            parameters[1].Value = s.Resolution;
            parameters[2].Value = s.TimeSeconds;
            parameters[3].Value = s.CpuUsageNanos;
            parameters[4].Value = s.CpuThrottledNanos;
            parameters[5].Value = s.MemoryUsage;
            parameters[6].Value = s.MemoryLimit;
            parameters[7].Value = s.MemoryCache;
            parameters[8].Value = s.Pids;
            parameters[9].Value = s.BlockRead;
            parameters[10].Value = s.BlockWrite;
            parameters[11].Value = s.NetRx;
            parameters[12].Value = s.NetTx;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<StatsSample>> QueryStatsAsync(string containerId, int resolution, long fromSeconds, long toSeconds, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await db.StatsSamples.AsNoTracking()
            .Where(s => s.ContainerId == containerId && s.Resolution == resolution && s.TimeSeconds >= fromSeconds && s.TimeSeconds <= toSeconds)
            .OrderBy(s => s.TimeSeconds)
            .ToListAsync(cancellationToken);
        return rows.Select(s => new StatsSample(s.ContainerId, s.Resolution, s.TimeSeconds, s.CpuUsageNanos, s.CpuThrottledNanos,
            s.MemoryUsage, s.MemoryLimit, s.MemoryCache, s.Pids, s.BlockRead, s.BlockWrite, s.NetRx, s.NetTx)).ToList();
    }

    public static long? ToNano(DateTimeOffset? time) =>
        time is { } t ? (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100 : null;

    public static DateTimeOffset FromNano(long nano) =>
        DateTimeOffset.UnixEpoch.AddTicks(nano / 100);

    private static async Task SaveOrConflictAsync(EngineDbContext db, string message, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e.InnerException is SqliteException { SqliteErrorCode: SqliteConstraint })
        {
            throw new EngineException(ErrorKind.AlreadyExists, message, e);
        }
    }

    private static async Task<ImageRecord> LoadImageAsync(EngineDbContext db, string id, CancellationToken cancellationToken)
    {
        var image = await db.Images.AsNoTracking().FirstAsync(i => i.Id == id, cancellationToken);
        var references = await db.ImageReferences.AsNoTracking().Where(r => r.ImageId == id).Select(r => r.Reference).ToListAsync(cancellationToken);
        references.Sort(StringComparer.Ordinal);
        return new ImageRecord(image.Id, references, FromNano(image.CreatedNano), image.Size, image.ConfigJson);
    }

    private static Dictionary<string, string> ParseMap(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(json, DockerJson.Storage) ?? [];

    private static EventEntity ToEntity(EngineEvent e) => new()
    {
        TimeNano = e.TimeNano,
        Type = e.Type,
        Action = e.Action,
        ActorId = e.ActorId,
        AttributesJson = JsonSerializer.Serialize(e.Attributes, DockerJson.Storage),
    };

    private static ContainerEntity ToEntity(ContainerRecord c) => new()
    {
        Id = c.Id,
        Name = c.Name,
        Image = c.Image,
        ImageId = c.ImageId,
        CreatedNano = ToNano(c.Created)!.Value,
        ConfigJson = JsonSerializer.Serialize(c.Config, DockerJson.Storage),
        HostConfigJson = JsonSerializer.Serialize(c.HostConfig, DockerJson.Storage),
        Path = c.Path,
        ArgsJson = JsonSerializer.Serialize(c.Args, DockerJson.Storage),
        BundleDir = c.BundleDir,
        LogPath = c.LogPath,
        Status = c.State.Status.ToApiString(),
        Pid = c.State.Pid,
        ShimPid = c.State.ShimPid,
        ExitCode = c.State.ExitCode,
        OomKilled = c.State.OomKilled,
        Error = c.State.Error,
        StartedAtNano = ToNano(c.State.StartedAt),
        FinishedAtNano = ToNano(c.State.FinishedAt),
        RestartCount = c.State.RestartCount,
    };

    private static ContainerRecord FromEntity(ContainerEntity e) => new()
    {
        Id = e.Id,
        Name = e.Name,
        Image = e.Image,
        ImageId = e.ImageId,
        Created = FromNano(e.CreatedNano),
        Config = JsonSerializer.Deserialize<ContainerConfig>(e.ConfigJson, DockerJson.Storage) ?? new(),
        HostConfig = JsonSerializer.Deserialize<HostConfig>(e.HostConfigJson, DockerJson.Storage) ?? new(),
        Path = e.Path,
        Args = JsonSerializer.Deserialize<List<string>>(e.ArgsJson, DockerJson.Storage) ?? [],
        BundleDir = e.BundleDir,
        LogPath = e.LogPath,
        State = new ContainerRuntimeState
        {
            Status = ContainerPhaseExtensions.Parse(e.Status),
            Pid = e.Pid,
            ShimPid = e.ShimPid,
            ExitCode = e.ExitCode,
            OomKilled = e.OomKilled,
            Error = e.Error,
            StartedAt = e.StartedAtNano is { } s ? FromNano(s) : null,
            FinishedAt = e.FinishedAtNano is { } f ? FromNano(f) : null,
            RestartCount = e.RestartCount,
        },
    };

    private static VolumeRecord FromEntity(VolumeEntity v) =>
        new(v.Name, v.Driver, v.Mountpoint, FromNano(v.CreatedNano), ParseMap(v.LabelsJson), ParseMap(v.OptionsJson));

    private static NetworkRecord FromEntity(NetworkEntity n) =>
        new(n.Id, n.Name, n.Driver, n.Subnet, n.Gateway, FromNano(n.CreatedNano), ParseMap(n.LabelsJson));

    private static ExecRecord FromEntity(ExecSessionEntity x) =>
        new(x.Id, x.ContainerId, x.ProcessJson, x.Running, x.ExitCode, x.Pid, FromNano(x.CreatedNano));
}
