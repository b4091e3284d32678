using Dashboard.Engine.Containers;
using Dashboard.Engine.Exec;
using Dashboard.Engine.Logs;

namespace Dashboard.Engine.Api;

/// <summary><c>POST /containers/{id}/attach</c> (hijacked) and <c>/resize</c>, served by the container's shim control socket.</summary>
public static class AttachEndpoints
{
    private static readonly TimeSpan s_startPoll = TimeSpan.FromMilliseconds(20);

    public static void MapAttachEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/containers/{id}/attach", AttachAsync);
        app.MapPost("/containers/{id}/resize", async (string id, HttpRequest request, ContainerManager manager, CancellationToken ct) =>
        {
            var container = await manager.GetAsync(id, ct);
            if (!container.State.Status.IsActive())
            {
                throw new EngineException(ErrorKind.InvalidState, $"Container {container.Id} is not running");
            }

            var (h, w) = ExecEndpoints.ReadSize(request);
            await ShimControl.ResizeAsync(manager.ControlSocket(container.Id), h, w, ct);
            return Results.Ok();
        });
    }

    private static async Task AttachAsync(string id, HttpContext context, ContainerManager manager, ILoggerFactory logs)
    {
        var ct = context.RequestAborted;
        var request = context.Request;
        var container = await manager.GetAsync(id, ct);
        var wantStdin = request.QueryBool("stdin");
        var wantStdout = request.QueryBool("stdout");
        var wantStderr = request.QueryBool("stderr");
        var replayLogs = request.QueryBool("logs");
        var stream = request.QueryBool("stream");
        var tty = container.Config.Tty;
        var connection = await Hijack.UpgradeAsync(context, tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream");
        var mux = new StreamMux(connection, raw: tty);
        try
        {
            if (replayLogs)
            {
                await ReplayAsync(container, null, wantStdout, wantStderr, mux, ct);
            }

            if (stream)
            {
                await StreamAsync(manager, container.Id, wantStdin, wantStdout, wantStderr, connection, mux, ct);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            logs.CreateLogger("Dashboard.Engine.Attach").LogDebug("attach {ContainerId}: {Error}", container.Id, e.Message);
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }

    private static async Task ReplayAsync(ContainerRecord container, long? sinceNano, bool stdout, bool stderr, StreamMux mux, CancellationToken ct)
    {
        if (!stdout && !stderr)
        {
            return;
        }

        await foreach (var line in CriLog.ReadAsync(container.LogPath, new LogReadOptions { Stdout = stdout, Stderr = stderr, SinceNano = sinceNano }, null, ct))
        {
            await mux.WriteAsync(line.Stream, line.Content, ct);
        }
    }

    /// <summary>
    /// Streams live output through the shim. An attach made before the container starts (what
    /// <c>docker run</c> does) waits for the start, then first replays what the container already
    /// wrote since it started, so a quick <c>echo</c> is not lost while the engine connects.
    /// </summary>
    private static async Task StreamAsync(ContainerManager manager, string id, bool wantStdin, bool wantStdout, bool wantStderr, Stream connection, StreamMux mux, CancellationToken ct)
    {
        var container = await manager.GetAsync(id, ct);
        var pending = !container.State.Status.IsActive();

        // The engine records StartedAt after the shim reported, so output written earlier would be before it: replay from now.
        var since = ToNano(DateTimeOffset.UtcNow);

        // `docker run` and `docker start -a` attach first and start next: wait for that start (or its failure).
        var (startedBefore, finishedBefore) = (container.State.StartedAt, container.State.FinishedAt);
        while (!container.State.Status.IsActive())
        {
            if (container.State.StartedAt != startedBefore || container.State.FinishedAt != finishedBefore)
            {
                await ReplayAsync(container, since, wantStdout, wantStderr, mux, ct);
                return;
            }

            await Task.Delay(s_startPoll, ct);
            container = await manager.GetAsync(id, ct);
        }

        await using var shim = await ShimControl.ConnectAsync(manager.ControlSocket(id), ct);
        if (pending)
        {
            await ReplayAsync(container, since, wantStdout, wantStderr, mux, ct);
        }

        if (shim is null)
        {
            return;
        }

        await shim.WriteAsync(ShimControl.AttachLine(wantStdin), ct);
        await shim.FlushAsync(ct);
        using var stopInput = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var input = wantStdin ? ForwardInputAsync(connection, shim, container.Config.StdinOnce, stopInput.Token) : Task.CompletedTask;
        while (await ShimControl.ReadFrameAsync(shim, ct) is { } frame)
        {
            if (frame.Type == ShimControl.ExitFrame)
            {
                break;
            }

            if ((frame.Type == 1 && wantStdout) || (frame.Type == 2 && wantStderr))
            {
                await mux.WriteAsync(frame.Type, frame.Data, ct);
            }
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

    private static long? ToNano(DateTimeOffset? time) =>
        time is { } t ? (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100 : null;

    /// <summary>Client bytes become stdin frames; the client's EOF closes the container's stdin only with StdinOnce (Docker semantics).</summary>
    private static async Task ForwardInputAsync(Stream connection, Stream shim, bool stdinOnce, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var n = await connection.ReadAsync(buffer, ct);
            if (n <= 0)
            {
                if (stdinOnce)
                {
                    await ShimControl.WriteFrameAsync(shim, ShimControl.CloseStdin, ReadOnlyMemory<byte>.Empty, ct);
                }

                return;
            }

            await ShimControl.WriteFrameAsync(shim, ShimControl.StdinData, buffer.AsMemory(0, n), ct);
        }
    }
}
