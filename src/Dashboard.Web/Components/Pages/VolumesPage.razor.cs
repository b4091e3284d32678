using Dashboard.Web.Engines;
using Dashboard.Web.Model;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Dashboard.Web.Components.Pages;

public partial class VolumesPage : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private string? _newName;
    private string? _actionError;
    private string? _pruned;
    private string? _inspect;
    private string? _inspectName;

    [Inject]
    private IEngineRegistry Engines { get; set; } = default!;

    [Inject]
    private IUserAccessSource AccessSource { get; set; } = default!;

    [Inject]
    private ResourceActions Actions { get; set; } = default!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "engine")]
    public string? EngineName { get; set; }

    private VolumesViewModel ViewModel { get; set; } = default!;

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
        ViewModel = new VolumesViewModel(Engines, AccessSource);
        ViewModel.Changed += OnChangedAsync;
    }

    protected override async Task OnInitializedAsync()
    {
        var state = await AuthenticationState;
        await ViewModel.InitializeAsync(state.User, EngineName, _cts.Token);
    }

    private Task OnChangedAsync() => InvokeAsync(StateHasChanged);

    private Task CreateAsync() => RunAsync(async user =>
    {
        var name = (_newName ?? "").Trim();
        await Actions.CreateVolumeAsync(user, ViewModel.Engine, name, new Dictionary<string, string>(), _cts.Token);
        _newName = null;
        Snackbar.Add($"created volume {name}", Severity.Success);
    });

    private Task RemoveAsync(VolumeSummary volume) => RunAsync(async user =>
    {
        await Actions.RemoveVolumeAsync(user, ViewModel.Engine, volume.Name, _cts.Token);
        Snackbar.Add($"removed volume {volume.Name}", Severity.Success);
    });

    private Task PruneAsync() => RunAsync(async user =>
    {
        var result = await Actions.PruneVolumesAsync(user, ViewModel.Engine, _cts.Token);
        _pruned = $"removed {result.Deleted.Count} unused volume(s), {Images.FormatSize((long)result.SpaceReclaimed)} reclaimed";
    });

    private Task InspectAsync(VolumeSummary volume) => RunAsync(async user =>
    {
        _inspect = await Actions.InspectVolumeAsync(user, ViewModel.Engine, volume.Name, _cts.Token);
        _inspectName = volume.Name;
    }, reload: false);

    private async Task RunAsync(Func<System.Security.Claims.ClaimsPrincipal, Task> action, bool reload = true)
    {
        try
        {
            var state = await AuthenticationState;
            await action(state.User);
            _actionError = null;
        }
        catch (Exception e) when (e is EngineException or DashboardForbiddenException)
        {
            _actionError = e.Message;
            Snackbar.Add(e.Message, Severity.Error);
        }

        if (reload)
        {
            await ViewModel.ReloadAsync(_cts.Token);
        }
    }
}
