using Microsoft.Data.Sqlite;

namespace Dashboard.Engine.Store;

/// <summary>
/// Connections on the engine database, as the running engine uses them: plain <see cref="SqliteConnection"/>s from
/// Microsoft.Data.Sqlite's pool, no EF Core (issue 4 bench d: EF's query, update and migration pipelines are code an
/// idle engine would keep for good, and they do not run under NativeAOT). EF's design-time options
/// (<see cref="EngineDbContext.CreateOptions"/>) take the same connection string and pragmas from here.
/// </summary>
public sealed class EngineDatabase
{
    /// <summary>
    /// Per connection: <c>synchronous=FULL</c> so an acknowledged change survives a power cut, and a busy timeout
    /// instead of surfacing SQLITE_BUSY (security.md E5; podman sqlite_state.go). The database runs in WAL mode
    /// (persistent in the file, set at start: <see cref="SqliteContainerStore.InitializeAsync"/>); podman's
    /// "database is locked" flakes with WAL came from connections without a busy timeout, which every one here has.
    /// </summary>
    public const string Pragmas = "PRAGMA synchronous=FULL; PRAGMA busy_timeout=100000; PRAGMA foreign_keys=ON;";

    public EngineDatabase(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
        ConnectionString = ConnectionStringFor(path);
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    public string ConnectionString { get; }

    /// <summary>Read-write (created when missing), private cache, pooled, foreign keys on, 100 s command timeout.</summary>
    public static string ConnectionStringFor(string path) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Cache = SqliteCacheMode.Private,
        Pooling = true,
        ForeignKeys = true,
        DefaultTimeout = 100,
    }.ToString();

    /// <summary>An open connection with <see cref="Pragmas"/> applied; the caller disposes it (back to the pool).</summary>
    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        var connection = new SqliteConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
