using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Dashboard.Engine.Api;
using Dashboard.Engine.Containers;
using Microsoft.Data.Sqlite;

namespace Dashboard.Engine.Store;

/// <summary>
/// <see cref="IContainerStore"/> on SQLite: plain parameterised SQL on a pooled connection per operation
/// (<see cref="EngineDatabase"/>; SqliteConnection is not thread-safe). EF Core defines the schema (the tables and
/// columns named here are the EF model's, checked by the store contract and migration tests) but never runs in the
/// engine: its query, update and migration pipelines are code an idle engine would keep for good (issue 4 bench d)
/// and do not work under NativeAOT. A write that EF did with SaveChanges is one transaction here as well.
/// </summary>
public sealed partial class SqliteContainerStore(EngineDatabase database) : IContainerStore
{
    private const int SqliteConstraint = 19;

    private const string ExecColumns = "Id, ContainerId, ProcessJson, Running, ExitCode, Pid, CreatedNano";

    private const string VolumeColumns = "Name, Driver, Mountpoint, CreatedNano, LabelsJson, OptionsJson";

    /// <summary>
    /// Applies pending migrations (the embedded db/engine scripts, in one transaction: <see cref="StoreMigrations.ApplyAsync"/>)
    /// and puts the file in WAL mode; returns the migrations it applied. EngineException (nothing changed) when the
    /// file is no database or a migration fails.
    /// </summary>
    public static async Task<IReadOnlyList<string>> InitializeAsync(EngineDatabase database, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var applied = await StoreMigrations.ApplyAsync(connection, database.Path, cancellationToken);

            // WAL (persistent in the file): a commit is one append and one fsync of the log under synchronous=FULL,
            // instead of the rollback journal's journal write, fsyncs and unlink per transaction; readers (the
            // sampler, list, inspect) no longer wait for writers. The busy timeout covers checkpoints.
            await using (var wal = connection.CreateCommand())
            {
                wal.CommandText = "PRAGMA journal_mode=WAL";
                await wal.ExecuteNonQueryAsync(cancellationToken);
            }

            return applied;
        }
        catch (SqliteException e)
        {
            throw new EngineException(ErrorKind.Io, $"database {database.Path}: {e.Message}", e);
        }
    }

    public async Task AddContainerAsync(ContainerRecord container, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        await using var connection = await database.OpenAsync(cancellationToken);
        try
        {
            await InsertContainerAsync(connection, null, container, cancellationToken);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
        {
            throw await ContainerConflictAsync(connection, container, e, cancellationToken);
        }
    }

    /// <summary>The row and its create event go in one transaction: one commit, one fsync.</summary>
    public async Task<EngineEvent> AddContainerAsync(ContainerRecord container, EngineEvent created, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(created);
        await using var connection = await database.OpenAsync(cancellationToken);
        IReadOnlyList<EngineEvent> stored;
        try
        {
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            await InsertContainerAsync(connection, tx, container, cancellationToken);
            stored = await InsertEventsAsync(connection, tx, [created], cancellationToken);
            await tx.CommitAsync(cancellationToken);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
        {
            throw await ContainerConflictAsync(connection, container, e, cancellationToken);
        }

        return stored[0];
    }

    private static async Task InsertContainerAsync(SqliteConnection connection, SqliteTransaction? tx, ContainerRecord c, CancellationToken cancellationToken)
    {
        await using var insert = connection.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = $"""
            INSERT INTO containers ({ContainerColumns})
            VALUES ($id, $name, $image, $imageId, $created, $config, $hostConfig, $path, $args, $bundle, $log,
                $status, $pid, $shimPid, $exitCode, $oom, $error, $started, $finished, $restarts)
            """;
        var p = insert.Parameters;
        p.AddWithValue("$id", c.Id);
        p.AddWithValue("$name", c.Name);
        p.AddWithValue("$image", c.Image);
        p.AddWithValue("$imageId", c.ImageId);
        p.AddWithValue("$created", ToNano(c.Created)!.Value);
        p.AddWithValue("$config", JsonSerializer.Serialize(c.Config, StorageInfo<ContainerConfig>()));
        p.AddWithValue("$hostConfig", JsonSerializer.Serialize(c.HostConfig, StorageInfo<HostConfig>()));
        p.AddWithValue("$path", c.Path);
        p.AddWithValue("$args", JsonSerializer.Serialize(c.Args, StorageInfo<IReadOnlyList<string>>()));
        p.AddWithValue("$bundle", c.BundleDir);
        p.AddWithValue("$log", c.LogPath);
        p.AddWithValue("$status", c.State.Status.ToApiString());
        p.AddWithValue("$pid", c.State.Pid);
        p.AddWithValue("$shimPid", c.State.ShimPid);
        p.AddWithValue("$exitCode", c.State.ExitCode);
        p.AddWithValue("$oom", c.State.OomKilled);
        p.AddWithValue("$error", c.State.Error);
        p.AddWithValue("$started", (object?)ToNano(c.State.StartedAt) ?? DBNull.Value);
        p.AddWithValue("$finished", (object?)ToNano(c.State.FinishedAt) ?? DBNull.Value);
        p.AddWithValue("$restarts", c.State.RestartCount);
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Which key a failed insert hit: the name (naming its holder, as Docker does) or the id.</summary>
    private static async Task<EngineException> ContainerConflictAsync(SqliteConnection connection, ContainerRecord container, SqliteException e, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT Id FROM containers WHERE Name = $name AND Id <> $id LIMIT 1";
        command.Parameters.AddWithValue("$name", container.Name);
        command.Parameters.AddWithValue("$id", container.Id);
        return await command.ExecuteScalarAsync(cancellationToken) is string holder
            ? NameConflict(container.Name, holder)
            : new EngineException(ErrorKind.AlreadyExists, $"container id {container.Id} already exists", e);
    }

    public static EngineException NameConflict(string name, string holderId) =>
        new(ErrorKind.AlreadyExists, $"Conflict. The container name \"/{name}\" is already in use by container \"{holderId}\". You have to remove (or rename) that container to be able to reuse that name.");

    public async Task<ContainerRecord> LookupContainerAsync(string reference, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(reference))
        {
            throw EngineException.NoSuchContainer(reference);
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {ContainerColumns} FROM containers WHERE Id = $key LIMIT 1";
        var key = command.Parameters.AddWithValue("$key", reference);
        if (await ReadContainersAsync(command, cancellationToken) is [var byId])
        {
            return byId;
        }

        command.CommandText = $"SELECT {ContainerColumns} FROM containers WHERE Name = $key LIMIT 1";
        key.Value = reference.StartsWith('/') ? reference[1..] : reference;
        if (await ReadContainersAsync(command, cancellationToken) is [var byName])
        {
            return byName;
        }

        // Ids are lowercase hex, so [prefix, prefix + "g") is exactly the ids starting with prefix;
        // a range scan on the key, not LIKE (case-insensitive in SQLite and '_' is a wildcard: podman #26168).
        if (reference.Length is > 0 and < 64 && reference.All(char.IsAsciiHexDigitLower))
        {
            command.CommandText = $"SELECT {ContainerColumns} FROM containers WHERE Id >= $key AND Id < $upper LIMIT 2";
            key.Value = reference;
            command.Parameters.AddWithValue("$upper", reference + "g");
            var matches = await ReadContainersAsync(command, cancellationToken);
            if (matches.Count == 1)
            {
                return matches[0];
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
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM containers WHERE Name = $name LIMIT 1";
        command.Parameters.AddWithValue("$name", name);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    public Task SaveStateAsync(string id, ContainerRuntimeState state, CancellationToken cancellationToken = default) =>
        SaveStateAsync(id, state, [], cancellationToken);

    public async Task RenameContainerAsync(string id, string newName, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE containers SET Name = $name WHERE Id = $id";
        command.Parameters.AddWithValue("$name", newName);
        command.Parameters.AddWithValue("$id", id);
        int rows;
        try
        {
            rows = await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
        {
            command.CommandText = "SELECT Id FROM containers WHERE Name = $name LIMIT 1";
            var holder = await command.ExecuteScalarAsync(cancellationToken) as string;
            throw NameConflict(newName, holder ?? "");
        }

        if (rows == 0)
        {
            throw EngineException.NoSuchContainer(id);
        }
    }

    /// <summary>Its exec sessions and stats go with it (ON DELETE CASCADE, foreign_keys=ON on every connection).</summary>
    public Task<bool> RemoveContainerAsync(string id, CancellationToken cancellationToken = default) =>
        DeleteAsync("DELETE FROM containers WHERE Id = $key", id, cancellationToken);

    public async Task<IReadOnlyList<EngineEvent>> ListEventsAsync(long? sinceNano, long? untilNano, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        const string Select = "SELECT Seq, TimeNano, Type, Action, ActorId, AttributesJson FROM events";
        command.CommandText = (sinceNano, untilNano) switch
        {
            (null, null) => Select + " ORDER BY Seq",
            (not null, null) => Select + " WHERE TimeNano >= $since ORDER BY Seq",
            (null, not null) => Select + " WHERE TimeNano <= $until ORDER BY Seq",
            _ => Select + " WHERE TimeNano >= $since AND TimeNano <= $until ORDER BY Seq",
        };
        command.Parameters.AddWithValue("$since", (object?)sinceNano ?? DBNull.Value);
        command.Parameters.AddWithValue("$until", (object?)untilNano ?? DBNull.Value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<EngineEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new EngineEvent(reader.GetString(2), reader.GetString(3), reader.GetString(4), ParseMap(reader.GetString(5)), reader.GetInt64(1)) { Seq = reader.GetInt64(0) });
        }

        return list;
    }

    public async Task AddVolumeAsync(VolumeRecord volume, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(volume);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO volumes ({VolumeColumns}) VALUES ($name, $driver, $mountpoint, $created, $labels, $options)";
        command.Parameters.AddWithValue("$name", volume.Name);
        command.Parameters.AddWithValue("$driver", volume.Driver);
        command.Parameters.AddWithValue("$mountpoint", volume.Mountpoint);
        command.Parameters.AddWithValue("$created", ToNano(volume.Created)!.Value);
        command.Parameters.AddWithValue("$labels", SerializeMap(volume.Labels));
        command.Parameters.AddWithValue("$options", SerializeMap(volume.Options));
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
        {
            throw new EngineException(ErrorKind.AlreadyExists, $"volume {volume.Name} already exists", e);
        }
    }

    public async Task<VolumeRecord?> GetVolumeAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {VolumeColumns} FROM volumes WHERE Name = $name LIMIT 1";
        command.Parameters.AddWithValue("$name", name);
        return await ReadVolumesAsync(command, cancellationToken) is [var v] ? v : null;
    }

    public async Task<IReadOnlyList<VolumeRecord>> ListVolumesAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {VolumeColumns} FROM volumes ORDER BY Name";
        return await ReadVolumesAsync(command, cancellationToken);
    }

    public Task<bool> RemoveVolumeAsync(string name, CancellationToken cancellationToken = default) =>
        DeleteAsync("DELETE FROM volumes WHERE Name = $key", name, cancellationToken);

    public Task<bool> RemoveNetworkAsync(string id, CancellationToken cancellationToken = default) =>
        DeleteAsync("DELETE FROM networks WHERE Id = $key", id, cancellationToken);

    public async Task AddExecAsync(ExecRecord exec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exec);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO exec_sessions ({ExecColumns}) VALUES ($id, $container, $process, $running, $exitCode, $pid, $created)";
        command.Parameters.AddWithValue("$id", exec.Id);
        command.Parameters.AddWithValue("$container", exec.ContainerId);
        command.Parameters.AddWithValue("$process", exec.ProcessJson);
        command.Parameters.AddWithValue("$running", exec.Running);
        command.Parameters.AddWithValue("$exitCode", (object?)exec.ExitCode ?? DBNull.Value);
        command.Parameters.AddWithValue("$pid", exec.Pid);
        command.Parameters.AddWithValue("$created", ToNano(exec.Created)!.Value);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
        {
            command.Parameters.Clear();
            command.CommandText = "SELECT 1 FROM containers WHERE Id = $id LIMIT 1";
            command.Parameters.AddWithValue("$id", exec.ContainerId);
            if (await command.ExecuteScalarAsync(cancellationToken) is null)
            {
                throw EngineException.NoSuchContainer(exec.ContainerId);
            }

            throw new EngineException(ErrorKind.AlreadyExists, $"exec session {exec.Id} already exists", e);
        }
    }

    public async Task<ExecRecord?> GetExecAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {ExecColumns} FROM exec_sessions WHERE Id = $id LIMIT 1";
        command.Parameters.AddWithValue("$id", id);
        return await ReadExecsAsync(command, cancellationToken) is [var x] ? x : null;
    }

    public async Task UpdateExecAsync(string id, bool running, int? exitCode, int pid, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE exec_sessions SET Running = $running, ExitCode = $exitCode, Pid = $pid WHERE Id = $id";
        command.Parameters.AddWithValue("$running", running);
        command.Parameters.AddWithValue("$exitCode", (object?)exitCode ?? DBNull.Value);
        command.Parameters.AddWithValue("$pid", pid);
        command.Parameters.AddWithValue("$id", id);
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            throw new EngineException(ErrorKind.NotFound, $"No such exec instance: {id}");
        }
    }

    public async Task<IReadOnlyList<ExecRecord>> ListExecsAsync(string containerId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {ExecColumns} FROM exec_sessions WHERE ContainerId = $container ORDER BY CreatedNano";
        command.Parameters.AddWithValue("$container", containerId);
        return await ReadExecsAsync(command, cancellationToken);
    }

    /// <summary>
    /// One transaction, one prepared statement re-bound per row: a sampling round of 200 containers is one
    /// commit. A sample of a container removed meanwhile is skipped (its history went with it), not an error.
    /// </summary>
    public async Task AddStatsAsync(IReadOnlyList<StatsSample> samples, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0)
        {
            return;
        }

        await using var connection = await database.OpenAsync(cancellationToken);
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
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT ContainerId, Resolution, TimeSeconds, CpuUsageNanos, CpuThrottledNanos, MemoryUsage, MemoryLimit, MemoryCache,
                Pids, BlockRead, BlockWrite, NetRx, NetTx
            FROM stats_samples
            WHERE ContainerId = $c AND Resolution = $r AND TimeSeconds >= $from AND TimeSeconds <= $to
            ORDER BY TimeSeconds
            """;
        command.Parameters.AddWithValue("$c", containerId);
        command.Parameters.AddWithValue("$r", resolution);
        command.Parameters.AddWithValue("$from", fromSeconds);
        command.Parameters.AddWithValue("$to", toSeconds);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<StatsSample>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new StatsSample(reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4),
                reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8), reader.GetInt64(9), reader.GetInt64(10),
                reader.GetInt64(11), reader.GetInt64(12)));
        }

        return list;
    }

    public static long? ToNano(DateTimeOffset? time) =>
        time is { } t ? (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100 : null;

    public static DateTimeOffset FromNano(long nano) =>
        DateTimeOffset.UnixEpoch.AddTicks(nano / 100);

    private async Task<bool> DeleteAsync(string sql, string key, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$key", key);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private static async Task<List<ContainerRecord>> ReadContainersAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<ContainerRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(ReadContainer(reader));
        }

        return list;
    }

    private static async Task<List<VolumeRecord>> ReadVolumesAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<VolumeRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new VolumeRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), FromNano(reader.GetInt64(3)),
                ParseMap(reader.GetString(4)), ParseMap(reader.GetString(5))));
        }

        return list;
    }

    private static async Task<List<ExecRecord>> ReadExecsAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<ExecRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new ExecRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetBoolean(3),
                reader.IsDBNull(4) ? null : reader.GetInt32(4), reader.GetInt32(5), FromNano(reader.GetInt64(6))));
        }

        return list;
    }

    /// <summary>
    /// <see cref="DockerJson.Info{T}"/> in <see cref="DockerJson.Storage"/>, locked first as the serializer itself does on
    /// first use: asking options nobody used yet for a contract does not fill in their missing resolver but throws.
    /// Reflection fills it only where reflection-based JSON is enabled (JIT builds); under NativeAOT the switch is off
    /// and the options' own (source-generated) resolver is used as it is.
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "populateMissingResolver is false where reflection-based serialization is disabled (trimmed and AOT builds).")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "populateMissingResolver is false where reflection-based serialization is disabled (trimmed and AOT builds).")]
    private static JsonTypeInfo<T> StorageInfo<T>()
    {
        if (!DockerJson.Storage.IsReadOnly)
        {
            DockerJson.Storage.MakeReadOnly(populateMissingResolver: JsonSerializer.IsReflectionEnabledByDefault);
        }

        return DockerJson.Info<T>(DockerJson.Storage);
    }

    private static string SerializeMap(IReadOnlyDictionary<string, string> map) =>
        JsonSerializer.Serialize(map, StorageInfo<IReadOnlyDictionary<string, string>>());

    private static Dictionary<string, string> ParseMap(string json) =>
        JsonSerializer.Deserialize(json, StorageInfo<Dictionary<string, string>>()) ?? [];

    private static ContainerRecord FromEntity(ContainerEntity e) => new()
    {
        Id = e.Id,
        Name = e.Name,
        Image = e.Image,
        ImageId = e.ImageId,
        Created = FromNano(e.CreatedNano),
        Config = JsonSerializer.Deserialize(e.ConfigJson, StorageInfo<ContainerConfig>()) ?? new(),
        HostConfig = JsonSerializer.Deserialize(e.HostConfigJson, StorageInfo<HostConfig>()) ?? new(),
        Path = e.Path,
        Args = JsonSerializer.Deserialize(e.ArgsJson, StorageInfo<List<string>>()) ?? [],
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

    private static NetworkRecord FromEntity(NetworkEntity n) =>
        new(n.Id, n.Name, n.Driver, n.Subnet, n.Gateway, FromNano(n.CreatedNano), ParseMap(n.LabelsJson));
}
