using System.Diagnostics;
using Dashboard.Engine.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Dashboard.Engine.Store;

/// <summary>
/// Which EF Core migrations a database still needs, read with one plain query on <c>__EFMigrationsHistory</c>, and
/// the <c>migrate</c> verb that applies them. EF's migrator (the migrations' target models, the model differ, the
/// SQL generator) is about 8 MB of code and type data an idle engine would keep for its whole life (issue 4 bench d),
/// so <c>dashboard-engine</c> applies pending migrations in a short-lived child (<c>dashboard-engine migrate</c>, with
/// EF's <c>Migrate</c>: one transaction under its migration lock, as before) and only reads the history itself.
/// </summary>
public static class StoreMigrations
{
    /// <summary>
    /// The migrations this binary carries, oldest first: EF's migration ids (Store/Migrations). Listed here so that
    /// checking for pending ones loads no EF migration code; MigrationTests fails when it and EF's list differ.
    /// </summary>
    public static IReadOnlyList<string> Known { get; } =
    [
        "20261130065135_Initial",
        "20261130093844_Images",
    ];

    public const string Verb = "migrate";

    public static bool IsCommand(IReadOnlyList<string> args) => args is [Verb, ..];

    /// <summary>The known migrations the open <paramref name="connection"/>'s database has not applied, oldest first.</summary>
    public static async Task<IReadOnlyList<string>> PendingAsync(SqliteConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = connection.CreateCommand();
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
    /// Runs <c>dashboard-engine migrate</c> with the engine's own flags when the database needs migrations, so this
    /// process never loads EF's migrator. A failure carries the child's own message.
    /// </summary>
    public static async Task ApplyInChildAsync(EngineOptions options, IReadOnlyList<string> engineArgs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(engineArgs);
        var pending = await PendingAsync(options.DatabasePath, cancellationToken);
        if (pending.Count == 0)
        {
            return;
        }

        var self = Environment.ProcessPath ?? throw new EngineException(ErrorKind.Internal, "apply database migrations: the engine's own path is unknown");
        var psi = new ProcessStartInfo(self)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Verb);
        foreach (var arg in engineArgs)
        {
            psi.ArgumentList.Add(arg);
        }

        using var child = Process.Start(psi) ?? throw new EngineException(ErrorKind.Internal, "apply database migrations: no process");
        var stdout = child.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = child.StandardError.ReadToEndAsync(cancellationToken);
        await child.WaitForExitAsync(cancellationToken);
        var error = (await stderr).Trim();
        _ = await stdout;
        if (child.ExitCode != 0)
        {
            throw new EngineException(ErrorKind.Internal, $"applying database migrations ({string.Join(", ", pending)}) to {options.DatabasePath} failed (exit code {child.ExitCode}): {(error.Length == 0 ? "no message" : error)}");
        }
    }

    /// <summary><c>dashboard-engine migrate [engine flags]</c>: applies pending migrations (one transaction) and exits.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        try
        {
            var options = EngineOptions.Parse([.. args.Skip(1)]);
            if (!Directory.Exists(options.DataRoot))
            {
                throw new EngineException(ErrorKind.NotFound, $"data root {options.DataRoot}: no such file or directory");
            }

            var factory = new PooledDbContextFactory<EngineDbContext>(EngineHost.DatabaseOptions(options.DatabasePath));
            var applied = await SqliteContainerStore.InitializeAsync(factory);
            stdout.WriteLine(applied.Count == 0 ? $"{options.DatabasePath}: up to date" : $"{options.DatabasePath}: applied {string.Join(", ", applied)}");
            return 0;
        }
        catch (EngineException e)
        {
            await stderr.WriteLineAsync($"dashboard-engine {Verb}: {e.Message}");
            return e.Kind == ErrorKind.InvalidArgument ? 2 : 1;
        }
        catch (Exception e) when (e is SqliteException or InvalidOperationException or IOException or DbUpdateException)
        {
            await stderr.WriteLineAsync($"dashboard-engine {Verb}: {e.Message}");
            return 1;
        }
    }
}
