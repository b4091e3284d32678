using Dashboard.Web.Engines;
using Dashboard.Web.Model;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Dashboard.Web.Components.Pages;

public partial class ContainerDetail : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private bool _busy;
    private int _tab;

    [Inject]
    private IEngineRegistry Engines { get; set; } = default!;

    [Inject]
    private IUserAccessSource UserAccess { get; set; } = default!;

    [Inject]
    private ContainerActions Actions { get; set; } = default!;

    [Inject]
    private ActionAuthorizer Authorizer { get; set; } = default!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Parameter]
    public string Engine { get; set; } = "";

    [Parameter]
    public string Id { get; set; } = "";

    /// <summary><c>?tab=logs</c> opens the logs tab directly.</summary>
    [SupplyParameterFromQuery(Name = "tab")]
    public string? Tab { get; set; }

    private ContainerDetailViewModel ViewModel { get; set; } = default!;

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
        ViewModel = new ContainerDetailViewModel(Engines, UserAccess, Actions, Authorizer);
        ViewModel.Changed += OnChangedAsync;
        _tab = string.Equals(Tab, "logs", StringComparison.OrdinalIgnoreCase) ? 1 : 0;
    }

    protected override async Task OnInitializedAsync()
    {
        var state = await AuthenticationState;
        await ViewModel.InitializeAsync(state.User, Engine, Id, _cts.Token);
    }

    private Task OnChangedAsync() => InvokeAsync(StateHasChanged);

    private async Task AuthorizeLogsAsync(CancellationToken cancellationToken)
    {
        var state = await AuthenticationState;
        await ViewModel.AuthorizeLogsAsync(state.User, cancellationToken);
    }

    private async Task AuthorizeStatsAsync(CancellationToken cancellationToken)
    {
        var state = await AuthenticationState;
        await ViewModel.AuthorizeStatsAsync(state.User, cancellationToken);
    }

    private async Task RunAsync(ContainerAction action)
    {
        if (_busy)
        {
            return;
        }

        _busy = true;
        try
        {
            var state = await AuthenticationState;
            await ViewModel.RunAsync(state.User, action, _cts.Token);
            Snackbar.Add($"{action.ToString().ToLowerInvariant()} {ViewModel.Details?.Name}: done", Severity.Success);
            if (action == ContainerAction.Remove)
            {
                Navigation.NavigateTo("/containers");
            }
        }
        catch (Exception e) when (e is EngineException or DashboardForbiddenException)
        {
            Snackbar.Add(e.Message, Severity.Error);
        }
        finally
        {
            _busy = false;
        }
    }

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;
}
