using System.Net.Sockets;
using Dashboard.Engine.Store;
using Microsoft.Data.Sqlite;

namespace Dashboard.Engine.Hosting;

/// <summary>
/// <c>dashboard-engine backup --to FILE</c> and <c>dashboard-engine restore --from FILE</c> (plus the usual
/// <c>--config</c>/<c>--data-root</c> flags). Backup is online: the SQLite backup API copies a consistent
/// snapshot while the engine keeps writing. Restore needs the engine stopped, refuses a backup whose schema (its
/// latest EF Core migration) this binary does not know, and keeps the replaced database as <c>engine.db.pre-restore</c>.
/// </summary>
public static class BackupCommand
{
    public static bool IsCommand(IReadOnlyList<string> args) => args is [("backup" or "restore"), ..];

    public static string Usage => """
        Usage: dashboard-engine backup --to FILE [--config FILE | --data-root DIR ...]
               dashboard-engine restore --from FILE [--config FILE | --data-root DIR ...]

        backup   copies the engine database (engine.db) to FILE while the engine runs
        restore  replaces the engine database with FILE; the engine must be stopped, and FILE's
                 schema must not be newer than this engine's (migrations run at the next start)
        """;

    public static Task<int> RunAsync(IReadOnlyList<string> args) => Task.FromResult(Run(args, Console.Out, Console.Error));

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var verb = args[0];
        var fileFlag = verb == "backup" ? "--to" : "--from";
        string? file = null;
        var rest = new List<string>();
        for (var i = 1; i < args.Count; i++)
        {
            if (args[i] is "-h" or "--help")
            {
                stdout.WriteLine(Usage);
                return 0;
            }

            if (args[i] == fileFlag && i + 1 < args.Count)
            {
                file = args[++i];
            }
            else if (args[i].StartsWith(fileFlag + "=", StringComparison.Ordinal))
            {
                file = args[i][(fileFlag.Length + 1)..];
            }
            else
            {
                rest.Add(args[i]);
            }
        }

        try
        {
            if (string.IsNullOrEmpty(file))
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"{verb} needs {fileFlag} FILE");
            }

            var options = EngineOptions.Parse(rest);
            file = Path.GetFullPath(file);
            if (verb == "backup")
            {
                var schema = Backup(options.DatabasePath, file);
                stdout.WriteLine($"backed up {options.DatabasePath} to {file} (schema {schema})");
            }
            else
            {
                var result = Restore(file, options.DatabasePath, KnownMigrations(), () => IsEngineListening(options.Socket) ? options.Socket : null);
                stdout.WriteLine($"restored {options.DatabasePath} from {file} (schema {result.Schema}); the previous database is {result.PreviousCopy ?? "(none)"}; migrations apply at the next engine start");
            }

            return 0;
        }
        catch (EngineException e)
        {
            stderr.WriteLine($"dashboard-engine {verb}: {e.Message}");
            return e.Kind == ErrorKind.InvalidArgument ? 2 : 1;
        }
    }

    /// <summary>The migrations this binary carries, oldest first.</summary>
    public static IReadOnlyList<string> KnownMigrations() => StoreMigrations.Known;

    private static bool IsEngineListening(string socketPath)
    {
        if (!File.Exists(socketPath))
        {
            return false;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Copies <paramref name="databasePath"/> to <paramref name="toFile"/> (0600, written beside it, then renamed); returns the schema.</summary>
    public static string Backup(string databasePath, string toFile)
    {
        ArgumentNullException.ThrowIfNull(databasePath);
        ArgumentNullException.ThrowIfNull(toFile);
        if (!File.Exists(databasePath))
        {
            throw new EngineException(ErrorKind.NotFound, $"database {databasePath}: no such file or directory");
        }

        SqliteSnapshot.Copy(databasePath, toFile, readOnlySource: true);
        return SqliteSnapshot.LatestMigration(toFile) ?? throw new EngineException(ErrorKind.Internal, $"{databasePath} has no migration history: not an engine database");
    }

    public sealed record RestoreResult(string Schema, string? PreviousCopy);

    /// <summary>
    /// Replaces <paramref name="databasePath"/> with <paramref name="fromFile"/>. <paramref name="runningAt"/> names
    /// what shows the service runs (null when it does not).
    /// </summary>
    public static RestoreResult Restore(string fromFile, string databasePath, IReadOnlyList<string> knownMigrations, Func<string?> runningAt)
    {
        ArgumentNullException.ThrowIfNull(fromFile);
        ArgumentNullException.ThrowIfNull(databasePath);
        ArgumentNullException.ThrowIfNull(knownMigrations);
        ArgumentNullException.ThrowIfNull(runningAt);
        var schema = Check(fromFile, knownMigrations);
        if (runningAt() is { } where)
        {
            throw new EngineException(ErrorKind.InvalidState, $"the engine is running ({where}): stop it first (systemctl stop dashboard-engine, or docker-compose-free-install.sh's pid file)");
        }

        string? previous = null;
        if (File.Exists(databasePath))
        {
            previous = databasePath + ".pre-restore";
            SqliteSnapshot.Copy(databasePath, previous, readOnlySource: false);
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(databasePath)!);
        }

        SqliteSnapshot.Restore(fromFile, databasePath);
        return new RestoreResult(schema, previous);
    }

    /// <summary>
    /// Whether <paramref name="fromFile"/> can be restored by this binary: an intact SQLite file with an engine migration
    /// history whose latest migration this binary knows. Returns that schema; throws InvalidArgument saying what is wrong
    /// (messages start with <paramref name="label"/>, by default "backup FILE").
    /// </summary>
    public static string Check(string fromFile, IReadOnlyList<string> knownMigrations, string? label = null)
    {
        ArgumentNullException.ThrowIfNull(fromFile);
        ArgumentNullException.ThrowIfNull(knownMigrations);
        if (!File.Exists(fromFile))
        {
            throw new EngineException(ErrorKind.NotFound, $"backup {fromFile}: no such file or directory");
        }

        label ??= "backup " + fromFile;

        var problem = SqliteSnapshot.IntegrityProblem(fromFile);
        if (problem is not null)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"{label}: {problem}");
        }

        var schema = SqliteSnapshot.LatestMigration(fromFile)
            ?? throw new EngineException(ErrorKind.InvalidArgument, $"{label}: no migration history: not an engine database");
        if (!knownMigrations.Contains(schema, StringComparer.Ordinal))
        {
            var latest = knownMigrations.Count == 0 ? "none" : knownMigrations[^1];
            var newer = string.CompareOrdinal(schema, latest) > 0;
            throw new EngineException(ErrorKind.InvalidArgument, newer
                ? $"{label}: its schema {schema} is newer than this engine knows (latest {latest}): restore it with the newer engine"
                : $"{label}: its schema {schema} is unknown to this engine (latest {latest})");
        }

        return schema;
    }
}

/// <summary>Online copies with the SQLite backup API (sqlite3_backup_*), which yields a consistent snapshot of a live database.</summary>
internal static class SqliteSnapshot
{
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;

    private static string ConnectionString(string path, SqliteOpenMode mode) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = mode,
        Pooling = false,
        DefaultTimeout = 30,
    }.ToString();

    /// <summary>Copies a live database to <paramref name="toFile"/>: a 0600 temp file beside it, checked, then renamed over.</summary>
    public static void Copy(string databasePath, string toFile, bool readOnlySource)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(toFile))!;
        if (!Directory.Exists(dir))
        {
            throw new EngineException(ErrorKind.NotFound, $"backup directory {dir}: no such file or directory");
        }

        var temp = Path.Combine(dir, $".{Path.GetFileName(toFile)}.tmp-{Environment.ProcessId}");
        try
        {
            // Created 0600 rather than chmod-ed later: an fd opened on a briefly readable file would keep reading the copy.
            File.Delete(temp);
            using (new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
            {
            }

            using (var source = Open(databasePath, readOnlySource ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWrite))
            using (var destination = Open(temp, SqliteOpenMode.ReadWrite))
            {
                Retry(() => source.BackupDatabase(destination), databasePath);

                // A single self-contained file: the copy of a WAL database would otherwise come back in WAL mode with side files.
                Execute(destination, "PRAGMA journal_mode=DELETE");
            }

            var problem = IntegrityProblem(temp);
            if (problem is not null)
            {
                throw new EngineException(ErrorKind.Io, $"copy of {databasePath} failed its integrity check: {problem}");
            }

            File.Move(temp, toFile, overwrite: true);
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            throw new EngineException(ErrorKind.Io, $"copy {databasePath} to {toFile}: {e.Message}", e);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Overwrites the live database file's content page by page, so its own journal or WAL stays consistent.</summary>
    public static void Restore(string fromFile, string databasePath)
    {
        try
        {
            using var source = Open(fromFile, SqliteOpenMode.ReadOnly);
            using var destination = Open(databasePath, SqliteOpenMode.ReadWriteCreate);
            Retry(() => source.BackupDatabase(destination), databasePath);
        }
        catch (SqliteException e)
        {
            throw new EngineException(ErrorKind.Io, $"restore {databasePath} from {fromFile}: {e.Message}", e);
        }
    }

    /// <summary>The newest applied EF Core migration id, or null when the file has no history table.</summary>
    public static string? LatestMigration(string path)
    {
        try
        {
            using var connection = Open(path, SqliteOpenMode.ReadOnly);
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '__EFMigrationsHistory'";
            if (command.ExecuteScalar() is null)
            {
                return null;
            }

            command.CommandText = "SELECT MigrationId FROM __EFMigrationsHistory ORDER BY MigrationId DESC LIMIT 1";
            return command.ExecuteScalar() as string;
        }
        catch (SqliteException e)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"{path}: {e.Message}", e);
        }
    }

    /// <summary>Null when <c>PRAGMA integrity_check</c> says ok; otherwise its first complaint.</summary>
    public static string? IntegrityProblem(string path)
    {
        try
        {
            using var connection = Open(path, SqliteOpenMode.ReadOnly);
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA integrity_check";
            var result = command.ExecuteScalar() as string;
            return result == "ok" ? null : result ?? "no answer";
        }
        catch (SqliteException e)
        {
            return e.Message;
        }
    }

    private static SqliteConnection Open(string path, SqliteOpenMode mode)
    {
        var connection = new SqliteConnection(ConnectionString(path, mode));
        connection.Open();
        Execute(connection, "PRAGMA busy_timeout=30000");
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>The backup step gives up at once on a lock the engine holds for a write; such locks last milliseconds.</summary>
    private static void Retry(Action action, string what)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                action();
                return;
            }
            catch (SqliteException e) when (e.SqliteErrorCode is SqliteBusy or SqliteLocked && attempt < 300)
            {
                Thread.Sleep(100);
            }
            catch (SqliteException e) when (e.SqliteErrorCode is SqliteBusy or SqliteLocked)
            {
                throw new EngineException(ErrorKind.Io, $"{what}: database stayed locked for 30 s", e);
            }
        }
    }
}
