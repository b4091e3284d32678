using System.Threading.Channels;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Exec;
using Dashboard.Engine.Logs;

namespace Dashboard.Engine.Api;

/// <summary><c>POST /containers/{id}/attach</c> (hijacked) and <c>/resize</c>, served by the container's shim control socket.</summary>
public static class AttachEndpoints
{
    private static readonly TimeSpan s_startPoll = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan s_positionWait = TimeSpan.FromSeconds(5);

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

        // Before the upgrade: once the client has its response it may start the container (docker run does at once).
        // The shim stamps that run's records after this instant; earlier ones are previous runs'.
        var since = ToNano(DateTimeOffset.UtcNow)!.Value;
        var connection = await Hijack.UpgradeAsync(context, tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream");
        var mux = new StreamMux(connection, raw: tty);
        try
        {
            if (stream)
            {
                await StreamAsync(manager, container, since, replayLogs, wantStdin, wantStdout, wantStderr, connection, mux, ct);
            }
            else if (replayLogs)
            {
                await ReplayAsync(container, null, null, wantStdout, wantStderr, mux, ct);
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

    private static async Task ReplayAsync(ContainerRecord container, long? sinceNano, long? untilNano, bool stdout, bool stderr, StreamMux mux, CancellationToken ct)
    {
        if (!stdout && !stderr)
        {
            return;
        }

        var options = new LogReadOptions { Stdout = stdout, Stderr = stderr, SinceNano = sinceNano, UntilNano = untilNano };
        await foreach (var line in CriLog.ReadAsync(container.LogPath, options, null, ct))
        {
            await mux.WriteAsync(line.Stream, line.Content, ct);
        }
    }

    /// <summary>
    /// Streams live output through the shim. An attach made before the container starts (what <c>docker run</c>
    /// does) waits for the start. Output the client must not miss (all of it since the start for such an attach,
    /// the whole log with <c>logs=1</c>) is handed over by the shim at an exact position: the shim sends a
    /// position frame when it registers the attach, then everything after that position live; the engine replays
    /// the log only up to the position (when the shim says so), so nothing is lost or sent twice.
    /// </summary>
    private static async Task StreamAsync(ContainerManager manager, ContainerRecord container, long since, bool replayLogs, bool wantStdin, bool wantStdout, bool wantStderr, Stream connection, StreamMux mux, CancellationToken ct)
    {
        var id = container.Id;
        var pending = !container.State.Status.IsActive();
        if (pending && replayLogs)
        {
            await ReplayAsync(container, null, since - 1, wantStdout, wantStderr, mux, ct);
        }

        // `docker run` and `docker start -a` attach first and start next: wait for that start (or its failure).
        var (startedBefore, finishedBefore) = (container.State.StartedAt, container.State.FinishedAt);
        while (!container.State.Status.IsActive())
        {
            if (container.State.StartedAt != startedBefore || container.State.FinishedAt != finishedBefore)
            {
                // It ran and exited meanwhile: its shim closed the log before the exit was recorded, so the log is complete.
                await ReplayAsync(container, since, null, wantStdout, wantStderr, mux, ct);
                return;
            }

            await Task.Delay(s_startPoll, ct);
            container = await manager.GetAsync(id, ct);
        }

        var replay = pending ? ShimControl.ReplayFromStart : replayLogs ? ShimControl.ReplayFromLog : null;
        long? replaySince = pending ? since : null;
        await using var shim = await ShimControl.ConnectAsync(manager.ControlSocket(id), ct);
        if (shim is null)
        {
            // The shim is gone, and it removes its socket only after closing the log: the log holds all there is.
            if (replay is not null)
            {
                await ReplayAsync(container, replaySince, null, wantStdout, wantStderr, mux, ct);
            }

            return;
        }

        await shim.WriteAsync(ShimControl.AttachLine(wantStdin, replay), ct);
        await shim.FlushAsync(ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);

        // Frames are read on while the log is replayed, so a chatty container's shim does not drop this client meanwhile.
        var frames = Channel.CreateBounded<(byte Type, byte[] Data)>(new BoundedChannelOptions(256) { SingleReader = true, SingleWriter = true });
        var pump = PumpAsync(shim, frames.Writer, stop.Token);
        var input = wantStdin ? ForwardInputAsync(connection, shim, container.Config.StdinOnce, stop.Token) : Task.CompletedTask;
        try
        {
            if (replay is not null && await PositionAsync(frames.Reader, ct) is { } position)
            {
                var (log, inode, offset) = ShimControl.ParsePosition(position);
                if (log)
                {
                    await AttachReplay.ReplayToAsync(container.LogPath, inode, offset, replaySince, wantStdout, wantStderr, mux, ct);
                }
            }
            else if (replay is not null)
            {
                // No position: either the shim finished before it took the attach (its log is complete), or it predates
                // positions (then output written while this replay runs may also arrive live, as it always did).
                await ReplayAsync(container, replaySince, null, wantStdout, wantStderr, mux, ct);
            }

            await foreach (var (type, data) in frames.Reader.ReadAllAsync(ct))
            {
                if (type == ShimControl.ExitFrame)
                {
                    break;
                }

                if (((type == 1 && wantStdout) || (type == 2 && wantStderr)) && !await mux.WriteAsync(type, data, ct))
                {
                    break;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await shim.DisposeAsync();
            foreach (var task in new[] { pump, input })
            {
                try
                {
                    await task;
                }
                catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
                {
                }
            }
        }
    }

    /// <summary>
    /// The position frame that starts the answer to an attach with a replay, or null: at the end of the stream, or
    /// when the first frame is something else or none came within <see cref="s_positionWait"/> (a shim older than
    /// positions); such a frame stays in the channel for the output loop.
    /// </summary>
    private static async Task<byte[]?> PositionAsync(ChannelReader<(byte Type, byte[] Data)> frames, CancellationToken ct)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
        wait.CancelAfter(s_positionWait);
        try
        {
            if (!await frames.WaitToReadAsync(wait.Token))
            {
                return null;
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return null;
        }

        return frames.TryPeek(out var first) && first.Type == ShimControl.PositionFrame && frames.TryRead(out _) ? first.Data : null;
    }

    private static async Task PumpAsync(Stream shim, ChannelWriter<(byte Type, byte[] Data)> frames, CancellationToken ct)
    {
        try
        {
            while (await ShimControl.ReadFrameAsync(shim, ct) is { } frame)
            {
                await frames.WriteAsync(frame, ct);
            }
        }
        finally
        {
            frames.TryComplete();
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
