using System.Security.Claims;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;

namespace Dashboard.Web.Model;

public enum ImageUsage
{
    InUse,
    Unused,
    Dangling,
}

/// <summary>Per-layer state of a running pull, as the engine reports it.</summary>
public sealed record LayerProgress(string Id, string Status, long? Current, long? Total)
{
    public double? Percent => Current is { } c && Total is > 0 and { } t ? Math.Min(100.0, 100.0 * c / t) : null;
}

/// <summary>The images of one engine, reloaded when the engine reports an image event; pull with progress.</summary>
public sealed class ImagesViewModel(IEngineRegistry engines, IUserAccessSource accessSource, ImageActions actions) : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly Dictionary<string, LayerProgress> _layers = new(StringComparer.Ordinal);
    private Task _watch = Task.CompletedTask;
    private IEngineClient? _client;

    public event Func<Task>? Changed;

    public string Engine { get; private set; } = "";

    public UserAccess Access { get; private set; } = UserAccess.None;

    public IReadOnlyList<ImageSummary> Images { get; private set; } = [];

    public string? Error { get; private set; }

    public bool Pulling { get; private set; }

    public string? PullStatus { get; private set; }

    public string? PullError { get; private set; }

    public IReadOnlyList<LayerProgress> Layers { get; private set; } = [];

    public static ImageUsage UsageOf(ImageSummary image) =>
        image.Tags.Count == 0 || image.Tags.All(t => t == "<none>:<none>") ? ImageUsage.Dangling
        : image.Containers > 0 ? ImageUsage.InUse
        : ImageUsage.Unused;

    public async Task InitializeAsync(ClaimsPrincipal user, string? engine, CancellationToken cancellationToken)
    {
        Engine = engine ?? (engines.Names.Count > 0 ? engines.Names[0] : "");
        Access = await accessSource.GetAsync(user, cancellationToken);
        if (!Access.Can(DashboardAction.ViewImages))
        {
            Error = "list images: permission denied";
            return;
        }

        try
        {
            _client = engines.Get(Engine);
        }
        catch (EngineException e)
        {
            Error = e.Message;
            return;
        }

        var client = _client;
        var token = _cts.Token;
        _watch = await EngineEventSubscription.StartWatchAsync(opened => WatchAsync(client, opened, token), token);
        await ReloadAsync(token);
    }

    public async Task PullAsync(ClaimsPrincipal user, string reference, CancellationToken cancellationToken)
    {
        if (Pulling)
        {
            return;
        }

        Pulling = true;
        PullError = null;
        PullStatus = $"pulling {reference}";
        _layers.Clear();
        Layers = [];
        try
        {
            await foreach (var batch in actions.PullAsync(user, Engine, reference, cancellationToken))
            {
                foreach (var p in batch)
                {
                    if (p.Error is not null)
                    {
                        PullError = p.Error;
                    }
                    else if (p.LayerId is { Length: > 0 } id && p.Status is not "Pulling from" && !p.Status.StartsWith("Pulling from", StringComparison.Ordinal))
                    {
                        _layers[id] = new LayerProgress(id, p.Status, p.Current, p.Total);
                    }
                    else
                    {
                        PullStatus = p.Status;
                    }
                }

                Layers = [.. _layers.Values];
                await NotifyAsync();
            }
        }
        catch (Exception e) when (e is EngineException or DashboardForbiddenException)
        {
            PullError = e.Message;
        }
        finally
        {
            Pulling = false;
        }

        await ReloadAsync(cancellationToken);
    }

    public async Task RemoveAsync(ClaimsPrincipal user, ImageSummary image, CancellationToken cancellationToken)
    {
        await actions.RemoveAsync(user, Engine, image.Id, cancellationToken);
        await ReloadAsync(cancellationToken);
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

    private async Task ReloadAsync(CancellationToken cancellationToken)
    {
        if (_client is null)
        {
            return;
        }

        try
        {
            Images = [.. (await _client.ListImagesAsync(cancellationToken)).OrderBy(i => i.Tags.Count > 0 ? i.Tags[0] : "~", StringComparer.Ordinal)];
            Error = null;
        }
        catch (EngineException e)
        {
            Error = e.Message;
        }
    }

    private async Task WatchAsync(IEngineClient client, TaskCompletionSource opened, CancellationToken token)
    {
        try
        {
            await foreach (var batch in client.GetEventsAsync(opened, token))
            {
                if (batch.Any(e => e.Type == EngineEventType.Image || e.IsResync))
                {
                    await ReloadAsync(token);
                    await NotifyAsync();
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (EngineException)
        {
            // The list stays as last loaded; live refresh stops.
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
