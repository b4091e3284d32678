using Dashboard.Web.Engines;
using Dashboard.Web.Model;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Dashboard.Web.Components.Pages;

public partial class Containers : IAsyncDisposable
{
    private static readonly ContainerState[] s_filterStates = [ContainerState.Running, ContainerState.Paused, ContainerState.Exited, ContainerState.Created];

    /// <summary>
    /// Short lists render every row, so they also appear in the prerendered page; long ones (the 1,000-row case)
    /// render only what is on screen.
    /// </summary>
    public const int VirtualizeAbove = 50;

    private readonly HashSet<string> _busy = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _cts = new();

    [Inject]
    private IEngineRegistry Engines { get; set; } = default!;

    [Inject]
    private IUserAccessSource UserAccess { get; set; } = default!;

    [Inject]
    private ContainerActions Actions { get; set; } = default!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "engine")]
    public string? EngineName { get; set; }

    private ContainersViewModel ViewModel { get; set; } = default!;

    public async ValueTask DisposeAsync()
    {
        ViewModel.Changed -= OnChangedAsync;
        await ViewModel.DisposeAsync();
        await _cts.CancelAsync();
        _cts.Dispose();
        GC.SuppressFinalize(this);
    }

    protected override void OnInitialized()
    {
        ViewModel = new ContainersViewModel(Engines, UserAccess, Actions);
        ViewModel.Changed += OnChangedAsync;
    }

    protected override async Task OnInitializedAsync()
    {
        var state = await AuthenticationState;
        await ViewModel.InitializeAsync(state.User, EngineName, _cts.Token);
    }

    private Task<AuthenticationState>? _seenState;

    /// <summary>The circuit's user changed (an Admin changed the roles): re-read access so the buttons follow now.</summary>
    protected override async Task OnParametersSetAsync()
    {
        if (_seenState is not null && !ReferenceEquals(_seenState, AuthenticationState))
        {
            await ViewModel.RefreshAccessAsync((await AuthenticationState).User, _cts.Token);
        }

        _seenState = AuthenticationState;
    }

    private Task OnChangedAsync() => InvokeAsync(StateHasChanged);

    private async Task OnEngineChangedAsync(string engine) => await ViewModel.SelectEngineAsync(engine);

    private void OnSearchChanged(string? value) => ViewModel.SetSearch(value);

    public static string FormatCpu(ContainerStatsSample? s) =>
        s?.CpuPercent is { } cpu ? cpu.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + " %" : "";

    public static string FormatMemory(ContainerStatsSample? s) =>
        s?.MemoryUsage is { } used ? Images.FormatSize((long)used) + (s.MemoryLimit is { } limit and > 0 and < long.MaxValue ? " / " + Images.FormatSize((long)limit) : "") : "";

    private bool IsBusy(string id) => _busy.Contains(id);

    private static string DetailHref(ContainerSummary c) => $"/containers/{Uri.EscapeDataString(c.Engine)}/{Uri.EscapeDataString(c.Id)}";

    private async Task RunAsync(ContainerSummary container, ContainerAction action)
    {
        // A second dispatch while the first is running is dropped (security.md D11 "multiple dispatches").
        if (!_busy.Add(BusyKey(container)))
        {
            return;
        }

        try
        {
            var state = await AuthenticationState;
            await ViewModel.RunAsync(state.User, container, action, _cts.Token);
            Snackbar.Add($"{action.ToString().ToLowerInvariant()} {container.Name}: done", Severity.Success);
        }
        catch (Exception e) when (e is EngineException or DashboardForbiddenException)
        {
            Snackbar.Add(e.Message, Severity.Error);
        }
        finally
        {
            _busy.Remove(BusyKey(container));
        }
    }
}
