using Dashboard.Web.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Web.Hosting;

/// <summary>A backup or restore that cannot be done; the message says why.</summary>
public sealed class BackupException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// <c>dashboard-web backup --to FILE</c> and <c>dashboard-web restore --from FILE</c>, with the service's own
/// <c>--config FILE</c> / <c>--data-dir DIR</c>. Backup is online (SQLite backup API). Restore needs the web UI
/// stopped (it holds <see cref="DataDirLock"/>), refuses a backup whose schema (latest EF Core migration) this
/// binary does not know, and keeps the replaced database as <c>web.db.pre-restore</c>.
/// </summary>
public static class BackupCommand
{
    public static bool IsCommand(IReadOnlyList<string> args) => args is [("backup" or "restore"), ..];

    public static string Usage => """
        Usage: dashboard-web backup --to FILE [--config FILE | --data-dir DIR]
               dashboard-web restore --from FILE [--config FILE | --data-dir DIR]

        backup   copies the web UI's database (users, roles, tokens: DATA_DIR/web.db) to FILE while it runs
        restore  replaces that database with FILE; the web UI must be stopped, and FILE's schema must
                 not be newer than this binary's (migrations run at the next start)
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
                throw new BackupException($"{verb} needs {fileFlag} FILE");
            }

            var options = ReadOptions(rest);
            file = Path.GetFullPath(file);
            if (verb == "backup")
            {
                var schema = Backup(options.DatabasePath, file);
                stdout.WriteLine($"backed up {options.DatabasePath} to {file} (schema {schema})");
                return 0;
            }

            using var held = DataDirLock.TryAcquire(options.DataDir);
            var result = Restore(file, options.DatabasePath, KnownMigrations(), () => held is null ? Path.Combine(options.DataDir, DataDirLock.FileName) + " is locked" : null);
            stdout.WriteLine($"restored {options.DatabasePath} from {file} (schema {result.Schema}); the previous database is {result.PreviousCopy ?? "(none)"}; migrations apply at the next start");
            return 0;
        }
        catch (Exception e) when (e is BackupException or ArgumentException or InvalidDataException or FormatException)
        {
            stderr.WriteLine($"dashboard-web {verb}: {e.Message}");
            return 1;
        }
    }

    /// <summary>The <c>Dashboard</c> section as the service reads it: environment, then the command line over <c>--config FILE</c>.</summary>
    public static DashboardOptions ReadOptions(IReadOnlyList<string> args)
    {
        var normalized = CommandLine.Normalize(args);
        var builder = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(normalized);
        var first = builder.Build();
        if (first["Dashboard:ConfigFile"] is { Length: > 0 } configFile)
        {
            var path = Path.GetFullPath(configFile);
            if (!File.Exists(path))
            {
                throw new BackupException($"config file {path}: no such file or directory");
            }

            builder.AddJsonFile(path, optional: false, reloadOnChange: false).AddCommandLine(normalized);
        }

        var options = new DashboardOptions();
        builder.Build().GetSection(DashboardOptions.Section).Bind(options);
        return options;
    }

    /// <summary>The migrations this binary carries, oldest first.</summary>
    public static IReadOnlyList<string> KnownMigrations()
    {
        using var db = new WebDbContext(new DbContextOptionsBuilder<WebDbContext>().UseSqlite("Data Source=:memory:").Options);
        return [.. db.Database.GetMigrations()];
    }

    /// <summary>Copies <paramref name="databasePath"/> to <paramref name="toFile"/> (0600, written beside it, then renamed); returns the schema.</summary>
    public static string Backup(string databasePath, string toFile)
    {
        ArgumentNullException.ThrowIfNull(databasePath);
        ArgumentNullException.ThrowIfNull(toFile);
        if (!File.Exists(databasePath))
        {
            throw new BackupException($"database {databasePath}: no such file or directory");
        }

        SqliteSnapshot.Copy(databasePath, toFile, readOnlySource: true);
        return SqliteSnapshot.LatestMigration(toFile) ?? throw new BackupException($"{databasePath} has no migration history: not a dashboard-web database");
    }

    public sealed record RestoreResult(string Schema, string? PreviousCopy);

    /// <summary>Replaces <paramref name="databasePath"/> with <paramref name="fromFile"/>; <paramref name="runningAt"/> names what shows the service runs (null when it does not).</summary>
    public static RestoreResult Restore(string fromFile, string databasePath, IReadOnlyList<string> knownMigrations, Func<string?> runningAt)
    {
        ArgumentNullException.ThrowIfNull(fromFile);
        ArgumentNullException.ThrowIfNull(databasePath);
        ArgumentNullException.ThrowIfNull(knownMigrations);
        ArgumentNullException.ThrowIfNull(runningAt);
        if (!File.Exists(fromFile))
        {
            throw new BackupException($"backup {fromFile}: no such file or directory");
        }

        var problem = SqliteSnapshot.IntegrityProblem(fromFile);
        if (problem is not null)
        {
            throw new BackupException($"backup {fromFile}: {problem}");
        }

        var schema = SqliteSnapshot.LatestMigration(fromFile)
            ?? throw new BackupException($"backup {fromFile}: no migration history: not a dashboard-web database");
        if (!knownMigrations.Contains(schema, StringComparer.Ordinal))
        {
            var latest = knownMigrations.Count == 0 ? "none" : knownMigrations[^1];
            throw new BackupException(string.CompareOrdinal(schema, latest) > 0
                ? $"backup {fromFile}: its schema {schema} is newer than this dashboard-web knows (latest {latest}): restore it with the newer version"
                : $"backup {fromFile}: its schema {schema} is unknown to this dashboard-web (latest {latest})");
        }

        if (runningAt() is { } where)
        {
            throw new BackupException($"dashboard-web is running ({where}): stop it first (systemctl stop dashboard-web)");
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
}

/// <summary>
/// An exclusive advisory lock (flock) on DATA_DIR/web.lock for as long as the web UI runs, so <c>restore</c> can tell
/// that it runs and a second instance cannot share the database.
/// </summary>
public sealed class DataDirLock : IDisposable
{
    public const string FileName = "web.lock";

    private readonly FileStream _file;

    private DataDirLock(FileStream file) => _file = file;

    /// <summary>The lock, or null when another process (or instance) holds it.</summary>
    public static DataDirLock? TryAcquire(string dataDir)
    {
        Directory.CreateDirectory(dataDir);
        try
        {
            // FileShare.None is flock(LOCK_EX | LOCK_NB) on Unix.
            return new DataDirLock(new FileStream(Path.Combine(dataDir, FileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Dispose() => _file.Dispose();
}

public static class DataDirLockExtensions
{
    /// <summary>Takes the data directory's lock for the app's lifetime; a second instance on the same directory fails to start.</summary>
    public static void HoldDataDirLock(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var dataDir = app.Services.GetRequiredService<IOptions<DashboardOptions>>().Value.DataDir;
        var held = DataDirLock.TryAcquire(dataDir)
            ?? throw new InvalidOperationException($"another dashboard-web uses {dataDir} ({Path.Combine(dataDir, DataDirLock.FileName)} is locked)");
        app.Lifetime.ApplicationStopped.Register(held.Dispose);
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
            throw new BackupException( $"backup directory {dir}: no such file or directory");
        }

        var temp = Path.Combine(dir, $".{Path.GetFileName(toFile)}.tmp-{Environment.ProcessId}");
        try
        {
            using (File.Create(temp, 1, FileOptions.None))
            {
            }

            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
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
                throw new BackupException( $"copy of {databasePath} failed its integrity check: {problem}");
            }

            File.Move(temp, toFile, overwrite: true);
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            throw new BackupException( $"copy {databasePath} to {toFile}: {e.Message}", e);
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
            throw new BackupException( $"restore {databasePath} from {fromFile}: {e.Message}", e);
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
            throw new BackupException( $"{path}: {e.Message}", e);
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
                throw new BackupException( $"{what}: database stayed locked for 30 s", e);
            }
        }
    }
}
