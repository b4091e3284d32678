using Microsoft.Data.Sqlite;

namespace Dashboard.Engine.Hosting;

/// <summary>
/// An engine database restore asked for through the API (<c>POST /dashboard/restore</c>, issue 6 §3): the upload is
/// checked at once, and swapped in once the host has shut down (no request, monitor or sampler writes any more);
/// then this process executes itself again with its own command line. Containers keep running throughout, as over an
/// engine restart, and the new engine reconciles them with the restored state: containers created after the backup
/// are removed (their directories have no row), ones removed since are recorded as exited.
/// </summary>
public sealed class PendingRestore
{
    private string? _file;

    /// <summary>The checked upload waiting to be swapped in, if any.</summary>
    public string? File => Volatile.Read(ref _file);

    /// <summary>Records <paramref name="file"/> as the pending restore; false when one is pending already.</summary>
    public bool TrySet(string file) => Interlocked.CompareExchange(ref _file, file, null) is null;

    /// <summary>
    /// After the host stopped: replaces the database with the pending upload (keeping engine.db.pre-restore) and
    /// re-executes the engine; returns only when nothing is pending. A failed swap leaves the old database in place
    /// and the engine restarts on it.
    /// </summary>
    public void ApplyAndReexecute(EngineOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        if (File is not { } file)
        {
            return;
        }

        // Pooled connections would keep the old file open across the swap (and across exec).
        SqliteConnection.ClearAllPools();
        try
        {
            var result = BackupCommand.Restore(file, options.DatabasePath, BackupCommand.KnownMigrations(), () => null);
            log.WriteLine($"dashboard-engine: restored {options.DatabasePath} (schema {result.Schema}); the previous database is {result.PreviousCopy ?? "(none)"}; restarting");
        }
        catch (Exception e) when (e is EngineException or IOException or SqliteException)
        {
            // The upload passed its checks, so this is the disk or the file system; the engine must come back either way.
            log.WriteLine($"dashboard-engine: restore of {options.DatabasePath} failed, restarting with the current database: {e.Message}");
        }
        finally
        {
            System.IO.File.Delete(file);
        }

        // The same pid (systemd's MainPID, the install's pid file) and the same arguments and environment.
        var args = System.IO.File.ReadAllText("/proc/self/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => $"{e.Key}={e.Value}").ToList();
        log.Flush();
        Dashboard.Linux.Native.Exec.Execve("/proc/self/exe", args, env);
    }
}
