using Dashboard.Web.Engines;
using Dashboard.Web.Model;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Dashboard.Web.Components.Pages;

/// <summary>Create, edit (<c>?mode=edit&amp;from=ID</c>, recreates) and clone (<c>?mode=clone&amp;from=ID</c>, pre-fills).</summary>
public partial class ContainerCreate
{
    private ContainerForm _form = new();
    private string? _error;
    private bool _allowed;
    private bool _isAdmin;
    private bool _busy;

    [Inject]
    private CreateActions Actions { get; set; } = default!;

    [Inject]
    private IUserAccessSource UserAccess { get; set; } = default!;

    [Inject]
    private IEngineRegistry Engines { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "engine")]
    public string? EngineName { get; set; }

    [SupplyParameterFromQuery(Name = "from")]
    public string? From { get; set; }

    [SupplyParameterFromQuery(Name = "mode")]
    public string? Mode { get; set; }

    private string Engine => string.IsNullOrEmpty(EngineName) ? Engines.Names[0] : EngineName;

    private string Title => Mode switch
    {
        "edit" => "Edit container",
        "clone" => "Clone container",
        _ => "New container",
    };

    private (ContainerCreateRequest? Request, IReadOnlyList<string> Errors) Parsed => _form.ToRequest();

    protected override async Task OnInitializedAsync()
    {
        var state = await AuthenticationState;
        var access = await UserAccess.GetAsync(state.User, CancellationToken.None);
        _isAdmin = access.Roles.Contains(Roles.Admin);
        if (!access.Can(DashboardAction.CreateContainer))
        {
            _error = "create containers: permission denied";
            return;
        }

        _allowed = true;
        if (Mode is "edit" or "clone" && !string.IsNullOrEmpty(From))
        {
            try
            {
                var existing = await Actions.LoadAsync(state.User, Engine, From, CancellationToken.None);
                _form = ContainerForm.FromRequest(existing, keepName: Mode == "edit");
            }
            catch (Exception e) when (e is EngineException or DashboardForbiddenException)
            {
                _error = e.Message;
                _allowed = false;
            }
        }
    }

    private async Task SubmitAsync()
    {
        if (_busy || Parsed.Request is not { } request)
        {
            return;
        }

        _busy = true;
        _error = null;
        try
        {
            var state = await AuthenticationState;
            var id = Mode == "edit" && !string.IsNullOrEmpty(From)
                ? await Actions.RecreateAsync(state.User, Engine, From, request, CancellationToken.None)
                : await Actions.CreateAsync(state.User, Engine, request, _form.Pull, start: true, CancellationToken.None);
            Snackbar.Add($"{request.Name ?? id[..Math.Min(12, id.Length)]}: {(Mode == "edit" ? "recreated" : "created")}", Severity.Success);
            Navigation.NavigateTo($"/containers/{Uri.EscapeDataString(Engine)}/{Uri.EscapeDataString(id)}");
        }
        catch (Exception e) when (e is EngineException or DashboardForbiddenException)
        {
            _error = e.Message;
        }
        finally
        {
            _busy = false;
        }
    }
}
