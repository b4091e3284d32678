using Dashboard.Engine.Exec;

namespace Dashboard.Engine.Api;

/// <summary>The exec part of the Docker Engine API: create, start (hijacked), resize, inspect.</summary>
public static class ExecEndpoints
{
    /// <summary>How long output may keep flowing after the process exited (a background child may hold the pipe).</summary>
    private static readonly TimeSpan s_drainAfterExit = TimeSpan.FromSeconds(10);

    public static void MapExecEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/containers/{id}/exec", async (string id, HttpRequest request, ExecManager exec, CancellationToken ct) =>
        {
            var body = await DockerJson.ReadBodyAsync<ExecCreateBody>(request, ct)
                ?? throw new EngineException(ErrorKind.InvalidArgument, "No exec command specified");
            return DockerJson.Json(await exec.CreateAsync(id, body, ct), StatusCodes.Status201Created);
        });
        app.MapGet("/exec/{id}/json", async (string id, ExecManager exec, CancellationToken ct) => DockerJson.Json(await exec.InspectAsync(id, ct)));
        app.MapPost("/exec/{id}/resize", (string id, HttpRequest request, ExecManager exec) =>
        {
            var (h, w) = ReadSize(request);
            exec.Resize(id, h, w);
            return Results.Ok();
        });
        app.MapPost("/exec/{id}/start", StartAsync);
    }

    /// <summary>The <c>h</c> and <c>w</c> query of the resize endpoints.</summary>
    public static (ushort Height, ushort Width) ReadSize(HttpRequest request)
    {
        var h = request.QueryInt("h") ?? 0;
        var w = request.QueryInt("w") ?? 0;
        if (h is < 0 or > ushort.MaxValue || w is < 0 or > ushort.MaxValue)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid terminal size {h}x{w}");
        }

        return ((ushort)h, (ushort)w);
    }

    private static async Task StartAsync(string id, HttpContext context, ExecManager exec, ILoggerFactory logs)
    {
        var ct = context.RequestAborted;
        var start = await Hijack.ReadBodyAsync<ExecStartBody>(context.Request, ct) ?? new ExecStartBody();
        var session = await exec.StartAsync(id, start, ct);
        if (start.Detach)
        {
            _ = DrainAsync(session);
            context.Response.StatusCode = StatusCodes.Status200OK;
            return;
        }

        var connection = await Hijack.UpgradeAsync(context, session.Tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream");
        try
        {
            await PumpAsync(session, connection, ct);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            logs.CreateLogger("Dashboard.Engine.Exec").LogDebug("exec {ExecId}: client went away: {Error}", id, e.Message);
        }
        finally
        {
            await connection.DisposeAsync();
            if (session.Exited.IsCompleted)
            {
                session.Dispose();
            }
            else
            {
                _ = DrainAsync(session);
            }
        }
    }

    /// <summary>
    /// Copies the process's output to the client and the client's input to the process until the
    /// process has exited, its output is drained and its exit code recorded. A client that leaves
    /// early does not stop the process (Docker keeps it running); its output is then discarded.
    /// </summary>
    public static async Task PumpAsync(ExecSession session, Stream connection, CancellationToken cancellationToken)
    {
        var mux = new StreamMux(connection, raw: session.Tty);
        var outputs = new List<Task> { CopyOutAsync(session.Output, 1, mux) };
        if (session.Error is { } error)
        {
            outputs.Add(CopyOutAsync(error, 2, mux));
        }

        using var stopInput = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var input = session.Input is { } stdin ? CopyInAsync(connection, stdin, session, stopInput.Token) : Task.CompletedTask;
        await session.Exited;
        try
        {
            await Task.WhenAll(outputs).WaitAsync(s_drainAfterExit, cancellationToken);
        }
        catch (TimeoutException)
        {
        }

        await stopInput.CancelAsync();
        try
        {
            await input;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Reads on a dedicated thread: a blocking read of a pty or pipe must not hold a thread-pool
    /// thread (under load the pool starves and output is forwarded late or not at all).
    /// </summary>
    public static Task CopyOutAsync(Stream source, int stream, StreamMux mux) =>
        Task.Factory.StartNew(
            () =>
            {
                var buffer = new byte[32 * 1024];
                while (true)
                {
                    int n;
                    try
                    {
                        n = source.Read(buffer);
                    }
                    catch (Exception e) when (e is IOException or ObjectDisposedException)
                    {
                        return; // EIO from a pty master once the last slave closed
                    }

                    if (n <= 0)
                    {
                        return;
                    }

                    // Output keeps being drained when the client is gone, so the process never blocks on a full pipe.
                    mux.WriteAsync(stream, buffer.AsMemory(0, n), CancellationToken.None).GetAwaiter().GetResult();
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    private static async Task CopyInAsync(Stream connection, Stream stdin, ExecSession session, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var n = await connection.ReadAsync(buffer, cancellationToken);
            if (n <= 0)
            {
                session.CloseInput();
                return;
            }

            try
            {
                await stdin.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                await stdin.FlushAsync(cancellationToken);
            }
            catch (IOException)
            {
                return; // the process closed its stdin
            }
        }
    }

    private static async Task DrainAsync(ExecSession session)
    {
        session.CloseInput();
        var sink = new StreamMux(Stream.Null, raw: true);
        var drains = new List<Task> { CopyOutAsync(session.Output, 1, sink) };
        if (session.Error is { } e)
        {
            drains.Add(CopyOutAsync(e, 2, sink));
        }

        await Task.WhenAll(drains);
        await session.Exited;
        session.Dispose();
    }
}
