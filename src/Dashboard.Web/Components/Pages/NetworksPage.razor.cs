using Dashboard.Web.Engines;
using Dashboard.Web.Model;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Dashboard.Web.Components.Pages;

public partial class NetworksPage : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private string? _newName;
    private string _driver = "bridge";
    private bool _internal;
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

    private NetworksViewModel ViewModel { get; set; } = default!;

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
        ViewModel = new NetworksViewModel(Engines, AccessSource);
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
        await Actions.CreateNetworkAsync(user, ViewModel.Engine, name, _driver, _internal, _cts.Token);
        _newName = null;
        Snackbar.Add($"created network {name}", Severity.Success);
    });

    private Task RemoveAsync(NetworkSummary network) => RunAsync(async user =>
    {
        await Actions.RemoveNetworkAsync(user, ViewModel.Engine, network, _cts.Token);
        Snackbar.Add($"removed network {network.Name}", Severity.Success);
    });

    private Task PruneAsync() => RunAsync(async user =>
    {
        var result = await Actions.PruneNetworksAsync(user, ViewModel.Engine, _cts.Token);
        _pruned = result.Deleted.Count == 0 ? "no unused networks" : $"removed {string.Join(", ", result.Deleted)}";
    });

    private Task InspectAsync(NetworkSummary network) => RunAsync(async user =>
    {
        _inspect = await Actions.InspectNetworkAsync(user, ViewModel.Engine, network.Id, _cts.Token);
        _inspectName = network.Name;
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
