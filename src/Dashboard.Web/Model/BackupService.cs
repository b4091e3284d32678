using System.Security.Claims;
using Dashboard.Web.Engines;
using Dashboard.Web.Hosting;
using Dashboard.Web.Identity;
using Dashboard.Web.Security;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Web.Model;

/// <summary>
/// Backup and restore from the UI (issue 6 §3), Admin only and audited. Backups are online copies made with the
/// SQLite backup API (<see cref="BackupCommand"/>); the web database's restore runs online too, page by page into the
/// live file, after the same checks as <c>dashboard-web restore</c> (integrity, schema not newer than this binary).
/// </summary>
public sealed class BackupService(
    ActionAuthorizer authorizer,
    IAuditLog audit,
    IEngineRegistry engines,
    IOptions<DashboardOptions> options,
    IServiceScopeFactory scopes)
{
    /// <summary>Far above any real user database; stops an upload from filling the disk.</summary>
    public const long MaxRestoreBytes = 256L << 20;

    public sealed record RestoreOutcome(string Schema, string? PreviousCopy);

    /// <summary>Writes an online copy of the web database to <paramref name="toFile"/>; returns its schema.</summary>
    public async Task<string> BackupWebAsync(ClaimsPrincipal user, string toFile, CancellationToken cancellationToken)
    {
        var access = await authorizer.EnsureAsync(user, DashboardAction.Backup, "web database", cancellationToken);
        return await AuditedAsync(access, DashboardAction.Backup, "web database",
            () => Task.Run(() => BackupCommand.Backup(options.Value.DatabasePath, toFile), cancellationToken));
    }

    public async Task<EngineBackup> BackupEngineAsync(ClaimsPrincipal user, string engine, CancellationToken cancellationToken)
    {
        var target = $"engine {engine} database";
        var access = await authorizer.EnsureAsync(user, DashboardAction.Backup, target, cancellationToken);
        return await AuditedAsync(access, DashboardAction.Backup, target, () => engines.Get(engine).BackupAsync(cancellationToken));
    }

    /// <summary>
    /// Replaces the web database with <paramref name="upload"/>; a backup of a newer schema is refused with a message
    /// that says so. The replaced database is kept as web.db.pre-restore; older schemas are migrated at once.
    /// </summary>
    public async Task<RestoreOutcome> RestoreWebAsync(ClaimsPrincipal user, Stream upload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var access = await authorizer.EnsureAsync(user, DashboardAction.Restore, "web database", cancellationToken);
        var dataDir = options.Value.DataDir;
        var temp = Path.Combine(dataDir, $".restore-{Guid.NewGuid():N}.db");
        try
        {
            return await AuditedAsync(access, DashboardAction.Restore, "web database", async () =>
            {
                await using (var file = new FileStream(temp, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                    Options = FileOptions.Asynchronous,
                }))
                {
                    var buffer = new byte[81920];
                    long total = 0;
                    int read;
                    while ((read = await upload.ReadAsync(buffer, cancellationToken)) > 0)
                    {
                        total += read;
                        if (total > MaxRestoreBytes)
                        {
                            throw new BackupException($"backup is larger than {MaxRestoreBytes >> 20} MiB");
                        }

                        await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    }
                }

                // The service itself asks, on purpose while running: the backup API replaces the live file consistently.
                var result = await Task.Run(
                    () => BackupCommand.Restore(temp, options.Value.DatabasePath, BackupCommand.KnownMigrations(), () => null),
                    cancellationToken);
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<WebDbContext>().Database.MigrateAsync(cancellationToken);
                return new RestoreOutcome(result.Schema, result.PreviousCopy);
            });
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Far above any real engine database (stats history included); stops an upload from filling the engine's disk.</summary>
    public const long MaxEngineRestoreBytes = 1L << 30;

    /// <summary>
    /// Sends <paramref name="upload"/> to engine <paramref name="engine"/> as its new database: the engine checks it (a
    /// newer schema is refused with a message that says so), then restarts itself with it, containers running on.
    /// </summary>
    public async Task<string> RestoreEngineAsync(ClaimsPrincipal user, string engine, Stream upload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var target = $"engine {engine} database";
        var access = await authorizer.EnsureAsync(user, DashboardAction.Restore, target, cancellationToken);
        return await AuditedAsync(access, DashboardAction.Restore, target, () => engines.Get(engine).RestoreAsync(upload, cancellationToken));
    }

    private async Task<T> AuditedAsync<T>(UserAccess access, DashboardAction action, string target, Func<Task<T>> run)
    {
        try
        {
            var result = await run();
            await audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, access.UserName ?? "", action.ToString(), target, AuditOutcome.Succeeded, null), CancellationToken.None);
            return result;
        }
        catch (Exception e) when (e is BackupException or EngineException or IOException)
        {
            await audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, access.UserName ?? "", action.ToString(), target, AuditOutcome.Failed, e.Message), CancellationToken.None);
            throw;
        }
    }
}

public static class BackupDownloads
{
    public const string WebPath = "/backup/web";
    public const string EnginePath = "/backup/engine/{engine}";

    public static string EngineUrl(string engine) => "/backup/engine/" + Uri.EscapeDataString(engine);

    /// <summary>The download links of the Backup page: GET, cookie-authenticated, Admin only (checked per request).</summary>
    public static void MapBackupDownloads(this IEndpointRouteBuilder app)
    {
        app.MapGet(WebPath, async (HttpContext context, BackupService backups, IOptions<DashboardOptions> options) =>
        {
            var temp = Path.Combine(options.Value.DataDir, $".download-{Guid.NewGuid():N}.db");
            try
            {
                await backups.BackupWebAsync(context.User, temp, context.RequestAborted);
            }
            catch (DashboardForbiddenException)
            {
                File.Delete(temp);
                return Results.Forbid();
            }
            catch (BackupException e)
            {
                File.Delete(temp);
                return Results.Problem(e.Message, statusCode: StatusCodes.Status500InternalServerError);
            }

            // DeleteOnClose: the copy is gone once sent (or the client went away).
            var stream = new FileStream(temp, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
            return Results.File(stream, "application/vnd.sqlite3", $"web-{DateTime.UtcNow:yyyyMMdd-HHmmss}.db");
        });
        app.MapGet(EnginePath, async (string engine, HttpContext context, BackupService backups) =>
        {
            try
            {
                var backup = await backups.BackupEngineAsync(context.User, engine, context.RequestAborted);
                context.Response.RegisterForDisposeAsync(backup);
                return Results.File(backup.Content, "application/vnd.sqlite3", $"engine-{engine}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.db");
            }
            catch (DashboardForbiddenException)
            {
                return Results.Forbid();
            }
            catch (EngineException e)
            {
                return Results.Problem(e.Message, statusCode: e.Kind == EngineErrorKind.NotFound ? StatusCodes.Status404NotFound : StatusCodes.Status502BadGateway);
            }
        });
    }
}
