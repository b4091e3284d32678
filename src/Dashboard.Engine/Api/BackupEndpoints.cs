using Dashboard.Engine.Hosting;

namespace Dashboard.Engine.Api;

/// <summary>
/// <c>POST /dashboard/backup</c>: an online copy of engine.db (SQLite backup API) streamed to the caller, so the web UI
/// can offer the engine's backup for download (issue 6 §3). The socket's peer check already limits who may call it.
/// </summary>
public static class BackupEndpoints
{
    public const string Path = "/dashboard/backup";

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
    }
}
