using Dashboard.Web.Engines;
using Dashboard.Web.Model;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;

namespace Dashboard.Web.Components.Controls;

/// <summary>Live numbers and history charts for one container; the charts are SVG built from numbers only.</summary>
public partial class StatsPanel : IAsyncDisposable
{
    private StatsViewModel? _viewModel;
    private string? _error;

    [Parameter, EditorRequired]
    public IEngineClient Client { get; set; } = default!;

    [Parameter, EditorRequired]
    public string ContainerId { get; set; } = "";

    /// <summary>Called before the stream opens; throwing <see cref="DashboardForbiddenException"/> keeps it closed (D7).</summary>
    [Parameter]
    public Func<CancellationToken, Task>? Authorize { get; set; }

    public async ValueTask DisposeAsync()
    {
        if (_viewModel is { } vm)
        {
            vm.Changed -= OnChangedAsync;
            await vm.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    protected override async Task OnInitializedAsync()
    {
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

        _viewModel = new StatsViewModel(Client, ContainerId);
        _viewModel.Changed += OnChangedAsync;
        _viewModel.Start();
    }

    private static double? MemoryScale(ContainerStatsSample s) =>
        s.MemoryLimit is { } limit and > 0 and < long.MaxValue ? limit : null;

    private Task OnChangedAsync()
    {
        _error = _viewModel?.Error;
        return InvokeAsync(StateHasChanged);
    }
}
