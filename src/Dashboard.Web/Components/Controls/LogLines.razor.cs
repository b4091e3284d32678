using System.Globalization;
using Dashboard.Web.Engines;
using Dashboard.Web.Logs;
using Dashboard.Web.Model;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.JSInterop;

namespace Dashboard.Web.Components.Controls;

/// <summary>
/// The lines of a <see cref="LogViewer"/>. While the view follows the end (the usual case) it renders the newest
/// <see cref="LogViewer.VirtualizeAbove"/> lines directly, each keyed by its sequence number, so a batch costs the
/// browser the new rows and the removal of as many old ones, in the same render that carries them. Once the user
/// scrolls up it switches to <see cref="Microsoft.AspNetCore.Components.Web.Virtualization.Virtualize{TItem}"/>
/// over the whole buffer (a follow through Virtualize needs a spacer round trip per batch before new rows show).
/// Row markup comes from <see cref="AnsiHtmlConverter"/> only, which encodes every character of container output.
/// </summary>
public partial class LogLines : IAsyncDisposable
{
    /// <summary>Every row is this tall (app.css <c>.log-line</c>), so a scroll offset converts to a row index.</summary>
    public const int RowHeight = 20;

    private readonly RenderFragment<LogEntry> _row;
    private ElementReference _scroller;
    private DotNetObjectReference<LogLines>? _self;
    private bool _following = true;
    private int _windowStart;
    private double? _scrollTo;

    public LogLines() => _row = entry => builder => BuildRow(builder, entry);

    [Inject]
    private IJSRuntime JS { get; set; } = default!;

    [Parameter]
    public LogViewerViewModel? ViewModel { get; set; }

    [Parameter]
    public bool ShowTimestamps { get; set; }

    [Parameter]
    public int BufferCapacity { get; set; }

    /// <summary>True while the view is pinned to the newest line.</summary>
    public bool Following => _following;

    /// <summary>Re-renders with the view model's current lines (from any thread).</summary>
    public Task RefreshAsync() => InvokeAsync(StateHasChanged);

    /// <summary>
    /// Called by dashboard.js when the user leaves the end of the log (<paramref name="following"/> false) or comes back
    /// to it. <paramref name="scrollTop"/> is the offset in the rows rendered then; leaving keeps the same row on screen.
    /// </summary>
    [JSInvokable]
    public Task SetFollowing(bool following, double scrollTop)
    {
        if (following == _following)
        {
            return Task.CompletedTask;
        }

        if (!following && double.IsFinite(scrollTop))
        {
            _scrollTo = Math.Max(0, scrollTop) + ((double)_windowStart * RowHeight);
        }

        _following = following;
        StateHasChanged();
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _self?.Dispose();
        await Task.CompletedTask;
        GC.SuppressFinalize(this);
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender)
        {
            _self = DotNetObjectReference.Create(this);
            await JS.InvokeVoidAsync("dashboard.followLog", _scroller, _self);
        }

        if (_scrollTo is { } top)
        {
            _scrollTo = null;
            await JS.InvokeVoidAsync("dashboard.scrollLogTo", _scroller, top);
        }
    }

    private void BuildRow(RenderTreeBuilder builder, LogEntry entry)
    {
        builder.OpenElement(0, "div");
        builder.SetKey(entry.Sequence);
        if (entry.Kind == LogEntryKind.Skipped)
        {
            builder.AddAttribute(1, "class", "log-line log-skipped");
            builder.AddAttribute(2, "data-testid", "log-skipped");
            builder.AddContent(3, string.Create(CultureInfo.InvariantCulture, $"… {entry.SkippedCount} lines skipped …"));
            builder.CloseElement();
            return;
        }

        builder.AddAttribute(4, "class", entry.Stream == LogStream.Stderr ? "log-line log-stderr" : "log-line");
        builder.AddAttribute(5, "data-testid", "log-line");
        if (ShowTimestamps && entry.Timestamp is { } ts)
        {
            builder.OpenElement(6, "span");
            builder.AddAttribute(7, "class", "log-ts");
            builder.AddAttribute(8, "data-testid", "log-ts");
            builder.AddContent(9, ts.ToString("yyyy-MM-dd HH:mm:ss.fff ", CultureInfo.InvariantCulture));
            builder.CloseElement();
        }

        builder.OpenElement(10, "span");
        builder.AddAttribute(11, "class", "log-text");
        builder.AddMarkupContent(12, entry.Html);
        builder.CloseElement();
        builder.CloseElement();
    }
}
