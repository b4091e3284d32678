using Dashboard.Engine.Containers;
using Microsoft.Data.Sqlite;

namespace Dashboard.Engine.Store;

/// <summary>
/// What an engine does at start and while idle (reconcile, the default network, the sampler's active list and
/// history pruning, events, container reads), each a single prepared statement on a pooled connection.
/// </summary>
public sealed partial class SqliteContainerStore
{
    private const string ContainerColumns = """
        Id, Name, Image, ImageId, CreatedNano, ConfigJson, HostConfigJson, Path, ArgsJson, BundleDir, LogPath,
        Status, Pid, ShimPid, ExitCode, OomKilled, Error, StartedAtNano, FinishedAtNano, RestartCount
        """;

    private const string NetworkColumns = "Id, Name, Driver, Subnet, Gateway, CreatedNano, LabelsJson";

    public async Task<ContainerRecord?> GetContainerAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {ContainerColumns} FROM containers WHERE Id = $id LIMIT 1";
        command.Parameters.AddWithValue("$id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadContainer(reader) : null;
    }

    public async Task<IReadOnlyList<ContainerRecord>> ListContainersAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {ContainerColumns} FROM containers ORDER BY CreatedNano DESC, Id";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<ContainerRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(ReadContainer(reader));
        }

        return list;
    }

    /// <summary>Id and pid of running and paused containers, without deserialising their configs (the sampler asks every second).</summary>
    public async Task<IReadOnlyList<(string Id, int Pid)>> ListActiveAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT Id, Pid FROM containers WHERE Status = $running OR Status = $paused";
        command.Parameters.AddWithValue("$running", ContainerPhase.Running.ToApiString());
        command.Parameters.AddWithValue("$paused", ContainerPhase.Paused.ToApiString());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<(string, int)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add((reader.GetString(0), reader.GetInt32(1)));
        }

        return list;
    }

    /// <summary>
    /// Appends without its own fsync (synchronous=NORMAL for this commit): in WAL mode the frames reach the disk with
    /// the next synchronous=FULL commit, which every state change is, or a checkpoint. The state an event reports is
    /// always written (FULL) before it, so a power cut can lose at most the newest events, never acknowledged state;
    /// an engine crash (SIGKILL) loses nothing. This halves the fsyncs of create, start and exit.
    /// </summary>
    public async Task<EngineEvent> AppendEventAsync(EngineEvent engineEvent, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA synchronous=NORMAL";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        try
        {
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            var stored = await InsertEventsAsync(connection, tx, [engineEvent], cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return stored[0];
        }
        finally
        {
            // The pooled connection goes back with FULL (EngineDatabase.OpenAsync sets it again on every open as well).
            pragma.CommandText = "PRAGMA synchronous=FULL";
            await pragma.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    public async Task AddNetworkAsync(NetworkRecord network, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO networks ({NetworkColumns}) VALUES ($id, $name, $driver, $subnet, $gateway, $created, $labels)";
        command.Parameters.AddWithValue("$id", network.Id);
        command.Parameters.AddWithValue("$name", network.Name);
        command.Parameters.AddWithValue("$driver", network.Driver);
        command.Parameters.AddWithValue("$subnet", (object?)network.Subnet ?? DBNull.Value);
        command.Parameters.AddWithValue("$gateway", (object?)network.Gateway ?? DBNull.Value);
        command.Parameters.AddWithValue("$created", ToNano(network.Created)!.Value);
        command.Parameters.AddWithValue("$labels", SerializeMap(network.Labels));
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
        {
            throw new EngineException(ErrorKind.AlreadyExists, $"network with name {network.Name} already exists", e);
        }
    }

    public async Task<NetworkRecord?> GetNetworkAsync(string idOrName, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Parameters.AddWithValue("$key", idOrName);
        foreach (var column in (string[])["Id", "Name"])
        {
            command.CommandText = $"SELECT {NetworkColumns} FROM networks WHERE {column} = $key LIMIT 1";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                return ReadNetwork(reader);
            }
        }

        return null;
    }

    public async Task<IReadOnlyList<NetworkRecord>> ListNetworksAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {NetworkColumns} FROM networks ORDER BY Name";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<NetworkRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(ReadNetwork(reader));
        }

        return list;
    }

    public async Task<int> PruneStatsAsync(int resolution, long beforeSeconds, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM stats_samples WHERE Resolution = $resolution AND TimeSeconds < $before";
        command.Parameters.AddWithValue("$resolution", resolution);
        command.Parameters.AddWithValue("$before", beforeSeconds);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static ContainerRecord ReadContainer(SqliteDataReader r) => FromEntity(new ContainerEntity
    {
        Id = r.GetString(0),
        Name = r.GetString(1),
        Image = r.GetString(2),
        ImageId = r.GetString(3),
        CreatedNano = r.GetInt64(4),
        ConfigJson = r.GetString(5),
        HostConfigJson = r.GetString(6),
        Path = r.GetString(7),
        ArgsJson = r.GetString(8),
        BundleDir = r.GetString(9),
        LogPath = r.GetString(10),
        Status = r.GetString(11),
        Pid = r.GetInt32(12),
        ShimPid = r.GetInt32(13),
        ExitCode = r.GetInt32(14),
        OomKilled = r.GetBoolean(15),
        Error = r.GetString(16),
        StartedAtNano = r.IsDBNull(17) ? null : r.GetInt64(17),
        FinishedAtNano = r.IsDBNull(18) ? null : r.GetInt64(18),
        RestartCount = r.GetInt32(19),
    });

    private static NetworkRecord ReadNetwork(SqliteDataReader r) => FromEntity(new NetworkEntity
    {
        Id = r.GetString(0),
        Name = r.GetString(1),
        Driver = r.GetString(2),
        Subnet = r.IsDBNull(3) ? null : r.GetString(3),
        Gateway = r.IsDBNull(4) ? null : r.GetString(4),
        CreatedNano = r.GetInt64(5),
        LabelsJson = r.GetString(6),
    });
}
