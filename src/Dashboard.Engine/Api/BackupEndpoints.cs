using Microsoft.AspNetCore.Http.Features;
using Dashboard.Engine.Hosting;

namespace Dashboard.Engine.Api;

/// <summary>
/// <c>POST /dashboard/backup</c>: an online copy of engine.db (SQLite backup API) streamed to the caller, so the web UI
/// can offer the engine's backup for download (issue 6 §3). The socket's peer check already limits who may call it.
/// </summary>
public static class BackupEndpoints
{
    public const string Path = "/dashboard/backup";

    /// <summary><c>POST</c> an engine.db backup: checked, then swapped in by an engine restart (<see cref="PendingRestore"/>).</summary>
    public const string RestorePath = "/dashboard/restore";

    /// <summary>Far above any real engine database (stats history included); stops an upload from filling the disk.</summary>
    public const long MaxRestoreBytes = 2L << 30;

    /// <summary>The schema (latest migration) of the streamed copy, so the caller can label the file.</summary>
    public const string SchemaHeader = "X-Dashboard-Schema";

    public static void MapBackupEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost(Path, async (HttpContext context, EngineOptions options) =>
        {
            // Beside the database, not in /tmp: same filesystem and the data root's tight permissions.
            var temp = System.IO.Path.Combine(options.DataRoot, $".backup-{Guid.NewGuid():N}.db");
            try
            {
                var schema = await Task.Run(() => BackupCommand.Backup(options.DatabasePath, temp), context.RequestAborted);
                context.Response.ContentType = "application/vnd.sqlite3";
                context.Response.Headers[SchemaHeader] = schema;
                context.Response.Headers.ContentDisposition = $"attachment; filename=\"engine-{DateTime.UtcNow:yyyyMMdd-HHmmss}.db\"";
                await using var file = new FileStream(temp, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous);
                context.Response.ContentLength = file.Length;
                await file.CopyToAsync(context.Response.Body, context.RequestAborted);
            }
            finally
            {
                File.Delete(temp);
            }
        });

        app.MapPost(RestorePath, async (HttpContext context, EngineOptions options, PendingRestore pending, IHostApplicationLifetime lifetime) =>
        {
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = MaxRestoreBytes;
            }

            var temp = System.IO.Path.Combine(options.DataRoot, $".restore-{Guid.NewGuid():N}.db");
            var keep = false;
            try
            {
                await using (var file = new FileStream(temp, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                    Options = FileOptions.Asynchronous,
                }))
                {
                    await context.Request.Body.CopyToAsync(file, context.RequestAborted);
                    await file.FlushAsync(context.RequestAborted);
                }

                var schema = await Task.Run(() => BackupCommand.Check(temp, BackupCommand.KnownMigrations(), "uploaded backup"), context.RequestAborted);
                if (!pending.TrySet(temp))
                {
                    throw new EngineException(ErrorKind.InvalidState, "a restore is already in progress");
                }

                keep = true;

                // The answer goes out first; then the host stops and Program swaps the file in and re-executes the engine.
                context.Response.OnCompleted(() =>
                {
                    lifetime.StopApplication();
                    return Task.CompletedTask;
                });
                return DockerJson.Json(new RestoreAnswer(schema, true), StatusCodes.Status202Accepted);
            }
            finally
            {
                if (!keep)
                {
                    File.Delete(temp);
                }
            }
        });
    }

    public sealed record RestoreAnswer(string Schema, bool Restarting);
}
