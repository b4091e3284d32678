using Dashboard.Web.Engines;
using Dashboard.Web.Model;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Dashboard.Web.Components.Pages;

public partial class Events : IAsyncDisposable
{
    private static readonly EngineEventType[] s_types = [EngineEventType.Container, EngineEventType.Image, EngineEventType.Volume, EngineEventType.Network];

    private readonly CancellationTokenSource _cts = new();

    [Inject]
    private IEngineRegistry Engines { get; set; } = default!;

    [Inject]
    private IUserAccessSource UserAccess { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "engine")]
    public string? EngineName { get; set; }

    private EventsViewModel ViewModel { get; set; } = default!;

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
        ViewModel = new EventsViewModel(Engines, UserAccess);
        ViewModel.Changed += OnChangedAsync;
    }

    protected override async Task OnInitializedAsync()
    {
        var state = await AuthenticationState;
        await ViewModel.InitializeAsync(state.User, EngineName, _cts.Token);
    }

    private static string ObjectText(EngineEvent e)
    {
        var id = e.ActorId.Length > 12 && !e.ActorId.Contains(':', StringComparison.Ordinal) ? e.ActorId[..12] : e.ActorId;
        return e.Attributes.TryGetValue("name", out var name) ? $"{name} ({id})" : id;
    }

    private Task OnChangedAsync() => InvokeAsync(StateHasChanged);
}
