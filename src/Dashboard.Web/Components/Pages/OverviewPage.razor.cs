using System.Globalization;
using Dashboard.Web.Engines;
using Dashboard.Web.Hosting;
using Dashboard.Web.Model;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Dashboard.Web.Components.Pages;

public partial class OverviewPage : IAsyncDisposable
{
    private static readonly ContainerState[] s_states = [ContainerState.Running, ContainerState.Paused, ContainerState.Restarting, ContainerState.Created, ContainerState.Exited, ContainerState.Dead];

    private readonly CancellationTokenSource _cts = new();

    [Inject]
    private IEngineRegistry Engines { get; set; } = default!;

    [Inject]
    private IUserAccessSource AccessSource { get; set; } = default!;

    [Inject]
    private IOptions<DashboardOptions> Options { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    /// <summary>How often host figures and the top lists refresh; tests shorten it.</summary>
    [Parameter]
    public TimeSpan Refresh { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Where /proc is read from; tests point it at a fixture.</summary>
    [Parameter]
    public string ProcRoot { get; set; } = "/proc";

    private OverviewViewModel ViewModel { get; set; } = default!;

    public async ValueTask DisposeAsync()
    {
        ViewModel.Changed -= OnChangedAsync;
        await ViewModel.DisposeAsync();
        await _cts.CancelAsync();
        _cts.Dispose();
        GC.SuppressFinalize(this);
    }

    private static string Percent(double value) => value.ToString("0.0", CultureInfo.InvariantCulture) + " %";

    private static string ContainerLink(TopContainer t) => $"/containers/{Uri.EscapeDataString(t.Engine)}/{Uri.EscapeDataString(t.Id)}";

    protected override void OnInitialized()
    {
        var dataDir = Options.Value.DataDir;
        ViewModel = new OverviewViewModel(Engines, AccessSource, new HostMetrics(ProcRoot), Directory.Exists(dataDir) ? dataDir : "/", Refresh);
        ViewModel.Changed += OnChangedAsync;
    }

    protected override async Task OnInitializedAsync()
    {
        var state = await AuthenticationState;
        await ViewModel.InitializeAsync(state.User, _cts.Token);
    }

    private Task OnChangedAsync() => InvokeAsync(StateHasChanged);
}
