using Dashboard.Web.Engines;

namespace Dashboard.Web.Alerts;

/// <summary>
/// Evaluates the alert rules on the server, whether or not anyone has the UI open: follows every engine's event
/// stream (reconnecting after failures) and, while CPU or memory rules exist, the stats of running containers.
/// Fired alerts are stored, announced to open circuits (<see cref="Changed"/>) and queued for the webhook.
/// </summary>
public sealed class AlertService(
    IEngineRegistry engines,
    IAlertStore store,
    WebhookSender webhook,
    IOptions<AlertOptions> options,
    ILogger<AlertService> logger) : BackgroundService
{
    private readonly AlertEvaluator _evaluator = new(options.Value.EventCooldown);
    private readonly SemaphoreSlim _reload = new(1, 1);

    /// <summary>Raised after an alert was stored or notifications were marked read.</summary>
    public event Func<Task>? Changed;

    public AlertEvaluator Evaluator => _evaluator;

    /// <summary>Re-reads the rules from the store (after an Admin changed them).</summary>
    public async Task ReloadRulesAsync(CancellationToken cancellationToken)
    {
        await _reload.WaitAsync(cancellationToken);
        try
        {
            _evaluator.SetRules(await store.ListRulesAsync(cancellationToken));
        }
        finally
        {
            _reload.Release();
        }
    }

    /// <summary>Stores and announces what fired, and queues the webhook.</summary>
    public async Task PublishAsync(IReadOnlyList<AlertFired> fired, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fired);
        if (fired.Count == 0)
        {
            return;
        }

        var url = WebhookSender.TryParseUrl(await store.GetWebhookUrlAsync(cancellationToken), out var parsed) ? parsed : null;
        foreach (var f in fired)
        {
            await store.AddNotificationAsync(new AlertNotification
            {
                RuleId = f.Rule.Id,
                RuleName = f.Rule.Name,
                Kind = f.Rule.Kind,
                Engine = f.Engine,
                ContainerId = f.ContainerId,
                ContainerName = f.ContainerName.Length > 256 ? f.ContainerName[..256] : f.ContainerName,
                Message = f.Message.Length > 1000 ? f.Message[..1000] : f.Message,
                TimeUtc = f.Time.UtcDateTime,
            }, cancellationToken);
            logger.LogInformation("alert {Rule}: {Message}", f.Rule.Name, f.Message);
            if (url is not null)
            {
                webhook.Enqueue(url, WebhookPayload.From(f));
            }
        }

        await NotifyAsync();
    }

    public async Task NotifyAsync()
    {
        if (Changed is { } handlers)
        {
            foreach (var handler in handlers.GetInvocationList().Cast<Func<Task>>())
            {
                try
                {
                    await handler();
                }
                catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
                {
                    // A circuit that went away between the check and the call.
                }
            }
        }
    }

    public override void Dispose()
    {
        _reload.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await ReloadRulesAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "alert rules could not be loaded");
        }

        var tasks = engines.Names.SelectMany(name => new[] { FollowEventsAsync(name, stoppingToken), FollowStatsAsync(name, stoppingToken) }).ToList();
        await Task.WhenAll(tasks);
    }

    private async Task FollowEventsAsync(string engine, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var batch in engines.Get(engine).GetEventsAsync(stoppingToken))
                {
                    var fired = batch.SelectMany(e => _evaluator.OnEvent(engine, e)).ToList();
                    await PublishAsync(fired, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning("alerts: events of engine {Engine}: {Error}", engine, e.Message);
            }

            try
            {
                await Task.Delay(options.Value.ReconnectDelay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task FollowStatsAsync(string engine, CancellationToken stoppingToken)
    {
        var streams = new Dictionary<string, (CancellationTokenSource Cts, Task Task)>(StringComparer.Ordinal);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    var wanted = new Dictionary<string, string>(StringComparer.Ordinal);
                    if (_evaluator.NeedsStats)
                    {
                        foreach (var c in (await engines.Get(engine).ListContainersAsync(null, stoppingToken))
                                     .Where(c => c.State == ContainerState.Running)
                                     .Take(options.Value.MaxStatsStreams))
                        {
                            wanted[c.Id] = c.Name;
                        }
                    }

                    // Ended streams (the container stopped, the engine went away) are started again while wanted.
                    foreach (var id in streams.Keys.Where(id => !wanted.ContainsKey(id) || streams[id].Task.IsCompleted).ToList())
                    {
                        await streams[id].Cts.CancelAsync();
                        streams[id].Cts.Dispose();
                        streams.Remove(id);
                    }

                    foreach (var (id, name) in wanted.Where(w => !streams.ContainsKey(w.Key)))
                    {
                        var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                        streams[id] = (cts, FollowContainerStatsAsync(engine, id, name, cts.Token));
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning("alerts: containers of engine {Engine}: {Error}", engine, e.Message);
                }

                await Task.Delay(options.Value.StatsScanInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            foreach (var (cts, task) in streams.Values)
            {
                await cts.CancelAsync();
                await task;
                cts.Dispose();
            }
        }
    }

    private async Task FollowContainerStatsAsync(string engine, string id, string name, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var batch in engines.Get(engine).GetStatsAsync(id, cancellationToken))
            {
                var fired = batch.SelectMany(s => _evaluator.OnStats(engine, name, s)).ToList();
                await PublishAsync(fired, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            // The next scan starts it again if the container still runs.
            logger.LogDebug("alerts: stats of {Container}: {Error}", name, e.Message);
        }
    }
}
