using Dashboard.Engine.Containers;
using Microsoft.Data.Sqlite;

namespace Dashboard.Engine.Store;

/// <summary>
/// The lifecycle's state writes (create, start, exit: issue 4 bench a): one transaction per change, with the events
/// that report it, in plain prepared SQL on a pooled connection (no change tracking, no savepoints).
/// </summary>
public sealed partial class SqliteContainerStore
{
    private const string UpdateStateSql = """
        UPDATE containers SET Status = $status, Pid = $pid, ShimPid = $shimPid, ExitCode = $exitCode, OomKilled = $oom,
            Error = $error, StartedAtNano = $started, FinishedAtNano = $finished, RestartCount = $restarts
        WHERE Id = $id
        """;

    private const string InsertEventSql = """
        INSERT INTO events (TimeNano, Type, Action, ActorId, AttributesJson) VALUES ($time, $type, $action, $actor, $attributes)
        RETURNING Seq
        """;

    public async Task<IReadOnlyList<EngineEvent>> SaveStateAsync(string id, ContainerRuntimeState state, IReadOnlyList<EngineEvent> events, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using (var update = connection.CreateCommand())
        {
            update.Transaction = tx;
            update.CommandText = UpdateStateSql;
            update.Parameters.AddWithValue("$status", state.Status.ToApiString());
            update.Parameters.AddWithValue("$pid", state.Pid);
            update.Parameters.AddWithValue("$shimPid", state.ShimPid);
            update.Parameters.AddWithValue("$exitCode", state.ExitCode);
            update.Parameters.AddWithValue("$oom", state.OomKilled);
            update.Parameters.AddWithValue("$error", state.Error);
            update.Parameters.AddWithValue("$started", (object?)ToNano(state.StartedAt) ?? DBNull.Value);
            update.Parameters.AddWithValue("$finished", (object?)ToNano(state.FinishedAt) ?? DBNull.Value);
            update.Parameters.AddWithValue("$restarts", state.RestartCount);
            update.Parameters.AddWithValue("$id", id);
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                throw EngineException.NoSuchContainer(id);
            }
        }

        var stored = events.Count == 0 ? [] : await InsertEventsAsync(connection, tx, events, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return stored;
    }

    private static async Task<IReadOnlyList<EngineEvent>> InsertEventsAsync(SqliteConnection connection, SqliteTransaction tx, IReadOnlyList<EngineEvent> events, CancellationToken cancellationToken)
    {
        await using var insert = connection.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = InsertEventSql;
        var time = insert.Parameters.Add("$time", SqliteType.Integer);
        var type = insert.Parameters.Add("$type", SqliteType.Text);
        var action = insert.Parameters.Add("$action", SqliteType.Text);
        var actor = insert.Parameters.Add("$actor", SqliteType.Text);
        var attributes = insert.Parameters.Add("$attributes", SqliteType.Text);
        var stored = new List<EngineEvent>(events.Count);
        foreach (var e in events)
        {
            time.Value = e.TimeNano;
            type.Value = e.Type;
            action.Value = e.Action;
            actor.Value = e.ActorId;
            attributes.Value = SerializeMap(e.Attributes);
            var seq = (long)(await insert.ExecuteScalarAsync(cancellationToken))!;
            stored.Add(e with { Seq = seq });
        }

        return stored;
    }
}
