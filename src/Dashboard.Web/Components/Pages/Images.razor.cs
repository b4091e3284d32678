using System.Globalization;
using Dashboard.Web.Engines;
using Dashboard.Web.Model;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Dashboard.Web.Components.Pages;

public partial class Images : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private string? _reference;

    [Inject]
    private IEngineRegistry Engines { get; set; } = default!;

    [Inject]
    private IUserAccessSource UserAccess { get; set; } = default!;

    [Inject]
    private ImageActions Actions { get; set; } = default!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "engine")]
    public string? EngineName { get; set; }

    private ImagesViewModel ViewModel { get; set; } = default!;

    public async ValueTask DisposeAsync()
    {
        ViewModel.Changed -= OnChangedAsync;
        await ViewModel.DisposeAsync();
        await _cts.CancelAsync();
        _cts.Dispose();
        GC.SuppressFinalize(this);
    }

    public static string FormatSize(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.0} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 10):0.0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };

    protected override void OnInitialized()
    {
        ViewModel = new ImagesViewModel(Engines, UserAccess, Actions);
        ViewModel.Changed += OnChangedAsync;
    }

    protected override async Task OnInitializedAsync()
    {
        var state = await AuthenticationState;
        await ViewModel.InitializeAsync(state.User, EngineName, _cts.Token);
    }

    private static string UsageText(ImageSummary image) => ImagesViewModel.UsageOf(image) switch
    {
        ImageUsage.InUse => $"in use ({image.Containers})",
        ImageUsage.Dangling => "dangling",
        _ => "unused",
    };

    private Task OnChangedAsync() => InvokeAsync(StateHasChanged);

    private async Task PullAsync()
    {
        var state = await AuthenticationState;
        await ViewModel.PullAsync(state.User, _reference ?? "", _cts.Token);
        if (ViewModel.PullError is null)
        {
            Snackbar.Add($"pulled {_reference}", Severity.Success);
        }
    }

    private async Task RemoveAsync(ImageSummary image)
    {
        try
        {
            var state = await AuthenticationState;
            await ViewModel.RemoveAsync(state.User, image, _cts.Token);
            Snackbar.Add($"removed {(image.Tags.Count > 0 ? image.Tags[0] : image.ShortId)}", Severity.Success);
        }
        catch (Exception e) when (e is EngineException or DashboardForbiddenException)
        {
            Snackbar.Add(e.Message, Severity.Error);
        }
    }
}
