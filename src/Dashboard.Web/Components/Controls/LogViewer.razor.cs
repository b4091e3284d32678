using Dashboard.Web.Engines;
using Dashboard.Web.Model;
using Dashboard.Web.Security;
using Dashboard.Web.Logs;
using Microsoft.AspNetCore.Components;

namespace Dashboard.Web.Components.Controls;

/// <summary>
/// Shows the tail of a container's log, then follows it. Lines reach the DOM only as markup produced by
/// <see cref="Logs.AnsiHtmlConverter"/>, which encodes every character of container output. The engine follow is
/// shared with every other view of the same container (<see cref="LogFollowService"/>); a batch re-renders only
/// <see cref="LogLines"/> and <see cref="LogStatusText"/>, not the toolbar.
/// </summary>
public partial class LogViewer : IAsyncDisposable
{
    /// <summary>Up to this many lines render directly; beyond it only the newest this many (following) or the visible rows.</summary>
    public const int VirtualizeAbove = 200;

    private LogViewerViewModel? _viewModel;
    private LogLines? _lines;
    private LogStatusText? _status;
    private string? _error;
    private bool _showTimestamps;
    private IEngineClient? _startedClient;
    private string? _startedId;

    [Inject]
    private LogFollowService Follows { get; set; } = default!;

    [Parameter, EditorRequired]
    public IEngineClient Client { get; set; } = default!;

    [Parameter, EditorRequired]
    public string ContainerId { get; set; } = "";

    [Parameter]
    public LogViewerOptions Options { get; set; } = new();

    /// <summary>Called before the stream opens; throwing <see cref="DashboardForbiddenException"/> keeps it closed (D7).</summary>
    [Parameter]
    public Func<CancellationToken, Task>? Authorize { get; set; }

    private bool ShowStdout => _viewModel?.ShowStdout ?? true;

    private bool ShowStderr => _viewModel?.ShowStderr ?? true;

    private bool Paused => _viewModel?.Paused ?? false;

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        GC.SuppressFinalize(this);
    }

    protected override async Task OnParametersSetAsync()
    {
        if (ReferenceEquals(_startedClient, Client) && _startedId == ContainerId)
        {
            return;
        }

        await StopAsync();
        _startedClient = Client;
        _startedId = ContainerId;
        _error = null;
        if (Authorize is not null)
        {
            try
            {
                await Authorize(CancellationToken.None);
            }
            catch (DashboardForbiddenException e)
            {
                _error = e.Message;
                return;
            }
        }

        _viewModel = new LogViewerViewModel(Client, ContainerId, Options, Follows);
        _viewModel.Changed += OnChangedAsync;
        _viewModel.Start();
    }

    private async Task StopAsync()
    {
        if (_viewModel is { } vm)
        {
            vm.Changed -= OnChangedAsync;
            _viewModel = null;
            await vm.DisposeAsync();
        }
    }

    private async Task OnChangedAsync()
    {
        var error = _viewModel?.Error;
        if (error != _error || _lines is null || _status is null)
        {
            _error = error;
            await InvokeAsync(StateHasChanged);
            return;
        }

        await _lines.RefreshAsync();
        await _status.RefreshAsync();
    }

    private void SetTimestamps(bool value) => _showTimestamps = value;

    private void SetStdout(bool value)
    {
        if (_viewModel is not null)
        {
            _viewModel.ShowStdout = value;
        }
    }

    private void SetStderr(bool value)
    {
        if (_viewModel is not null)
        {
            _viewModel.ShowStderr = value;
        }
    }

    private void TogglePause()
    {
        if (_viewModel is not null)
        {
            _viewModel.Paused = !_viewModel.Paused;
        }
    }
}
