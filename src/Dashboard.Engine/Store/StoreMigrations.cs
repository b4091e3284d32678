using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Dashboard.Engine.Store;

/// <summary>
/// The schema migrations, applied by the engine itself from the SQL EF Core generated for them (db/engine/NNNN_Name.sql,
/// embedded in this assembly; MigrationTests keeps them equal to EF's and checks that a database migrated through them
/// has the schema EF's <c>Migrate</c> makes). EF's migrator (the migrations' target models, the model differ, the SQL
/// generator) is code an idle engine would keep for its whole life (issue 4 bench d) and does not run under NativeAOT.
/// </summary>
public static class StoreMigrations
{
    /// <summary>
    /// The migrations this binary carries, oldest first: EF's migration ids (Store/Migrations), the i-th one's SQL in
    /// the embedded script <c>{i+1:D4}_{name}.sql</c>. MigrationTests fails when this and EF's list differ.
    /// </summary>
    public static IReadOnlyList<string> Known { get; } =
    [
        "20261130065135_Initial",
        "20261130093844_Images",
    ];

    private const string ResourcePrefix = "Dashboard.Engine.Store.Sql.";

    /// <summary>The embedded script of a known migration: its file name in db/engine.</summary>
    public static string ScriptName(string migrationId)
    {
        var index = IndexOf(migrationId);
        return $"{(index + 1).ToString("D4", CultureInfo.InvariantCulture)}_{migrationId[(migrationId.IndexOf('_', StringComparison.Ordinal) + 1)..]}.sql";
    }

    /// <summary>The SQL EF generated for <paramref name="migrationId"/> (db/engine), as embedded in this assembly.</summary>
    public static string Script(string migrationId)
    {
        var name = ScriptName(migrationId);
        using var stream = typeof(StoreMigrations).Assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new EngineException(ErrorKind.Internal, $"migration {migrationId}: script {name} is not embedded in the engine");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// A script's statements without its own <c>BEGIN TRANSACTION;</c> and <c>COMMIT;</c> lines: the caller runs every
    /// pending script in one transaction of its own, as EF's <c>Migrate</c> does.
    /// </summary>
    public static string Statements(string script)
    {
        ArgumentNullException.ThrowIfNull(script);
        return string.Join('\n', script.ReplaceLineEndings("\n").Split('\n')
            .Where(line => line.Trim() is not ("BEGIN TRANSACTION;" or "COMMIT;")));
    }

    /// <summary>The known migrations the open <paramref name="connection"/>'s database has not applied, oldest first.</summary>
    public static Task<IReadOnlyList<string>> PendingAsync(SqliteConnection connection, CancellationToken cancellationToken = default) =>
        PendingAsync(connection, null, cancellationToken);

    private static async Task<IReadOnlyList<string>> PendingAsync(SqliteConnection connection, SqliteTransaction? tx, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '__EFMigrationsHistory'";
        if (await command.ExecuteScalarAsync(cancellationToken) is null)
        {
            return Known;
        }

        command.CommandText = "SELECT MigrationId FROM __EFMigrationsHistory";
        var applied = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetString(0));
            }
        }

        return [.. Known.Where(m => !applied.Contains(m))];
    }

    /// <summary>Pending migrations of the database file at <paramref name="databasePath"/> (all of them when there is no file yet).</summary>
    public static async Task<IReadOnlyList<string>> PendingAsync(string databasePath, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(databasePath))
        {
            return Known;
        }

        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = 100,
        }.ToString();
        await using var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return await PendingAsync(connection, cancellationToken);
        }
        catch (SqliteException e)
        {
            throw new EngineException(ErrorKind.Io, $"database {databasePath}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Applies the pending migrations' scripts in one transaction (each script inserts its own
    /// <c>__EFMigrationsHistory</c> row) and returns them. The transaction begins IMMEDIATE, so the history is read
    /// under the write lock and two engines started on one file cannot both apply a migration. A failing script rolls
    /// everything back (SQLite DDL is transactional) and throws EngineException naming the migrations and the reason.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ApplyAsync(SqliteConnection connection, string label, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var pending = await PendingAsync(connection, null, cancellationToken);
        if (pending.Count == 0)
        {
            return pending;
        }

        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        pending = await PendingAsync(connection, tx, cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        foreach (var migration in pending)
        {
            command.CommandText = Statements(Script(migration));
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (SqliteException e)
            {
                throw new EngineException(ErrorKind.Internal, $"applying database migrations ({string.Join(", ", pending)}) to {label} failed in {migration}: {e.Message}", e);
            }
        }

        await tx.CommitAsync(cancellationToken);
        return pending;
    }

    private static int IndexOf(string migrationId)
    {
        for (var i = 0; i < Known.Count; i++)
        {
            if (string.Equals(Known[i], migrationId, StringComparison.Ordinal))
            {
                return i;
            }
        }

        throw new EngineException(ErrorKind.Internal, $"unknown migration {migrationId}");
    }
}
