using Dashboard.Web.Engines;
using Dashboard.Web.Model;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;

namespace Dashboard.Web.Components.Controls;

/// <summary>
/// Shows the tail of a container's log, then follows it. Lines reach the DOM only as markup produced by
/// <see cref="Logs.AnsiHtmlConverter"/>, which encodes every character of container output.
/// </summary>
public partial class LogViewer : IAsyncDisposable
{
    /// <summary>Up to this many lines render directly; beyond it only the visible rows are rendered.</summary>
    public const int VirtualizeAbove = 200;

    private LogViewerViewModel? _viewModel;
    private ElementReference _scroller;
    private string? _error;
    private bool _showTimestamps;
    private IEngineClient? _startedClient;
    private string? _startedId;

    [Inject]
    private IJSRuntime JS { get; set; } = default!;

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

        _viewModel = new LogViewerViewModel(Client, ContainerId, Options);
        _viewModel.Changed += OnChangedAsync;
        _viewModel.Start();
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender)
        {
            await JS.InvokeVoidAsync("dashboard.followLog", _scroller);
        }
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

    private Task OnChangedAsync()
    {
        _error = _viewModel?.Error;
        return InvokeAsync(StateHasChanged);
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
