using System.Security.Claims;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;

namespace Dashboard.Web.Model;

/// <summary>Engine events as they happen, newest first, bounded (persisted history is future work).</summary>
public sealed class EventsViewModel(IEngineRegistry engines, IUserAccessSource accessSource, int capacity = EventsViewModel.DefaultCapacity) : IAsyncDisposable
{
    public const int DefaultCapacity = 1000;

    private readonly LinkedList<EngineEvent> _events = new();
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _cts = new();
    private Task _watch = Task.CompletedTask;

    public event Func<Task>? Changed;

    public string Engine { get; private set; } = "";

    public string? Error { get; private set; }

    public EngineEventType? TypeFilter { get; set; }

    public IReadOnlyList<EngineEvent> Events
    {
        get
        {
            lock (_lock)
            {
                return _events.Where(e => TypeFilter is null || e.Type == TypeFilter).ToList();
            }
        }
    }

    public async Task InitializeAsync(ClaimsPrincipal user, string? engine, CancellationToken cancellationToken)
    {
        Engine = engine ?? (engines.Names.Count > 0 ? engines.Names[0] : "");
        var access = await accessSource.GetAsync(user, cancellationToken);
        if (!access.Can(DashboardAction.ViewContainers))
        {
            Error = "read events: permission denied";
            return;
        }

        IEngineClient client;
        try
        {
            client = engines.Get(Engine);
        }
        catch (EngineException e)
        {
            Error = e.Message;
            return;
        }

        var token = _cts.Token;
        _watch = Task.Run(() => WatchAsync(client, token), token);
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        try
        {
            await _watch;
        }
        catch (OperationCanceledException)
        {
        }

        _cts.Dispose();
    }

    private async Task WatchAsync(IEngineClient client, CancellationToken token)
    {
        try
        {
            await foreach (var batch in client.GetEventsAsync(token))
            {
                lock (_lock)
                {
                    foreach (var e in batch)
                    {
                        _events.AddFirst(e);
                        if (_events.Count > capacity)
                        {
                            _events.RemoveLast();
                        }
                    }
                }

                await NotifyAsync();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (EngineException e)
        {
            Error = $"live events stopped: {e.Message}";
            await NotifyAsync();
        }
    }

    private async Task NotifyAsync()
    {
        if (Changed is { } handler)
        {
            await handler();
        }
    }
}
