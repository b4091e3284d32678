using Dashboard.Web.Engines;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Dashboard.Web.Components.Controls;

public partial class RegistriesPanel : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private IReadOnlyList<RegistrySettings> _registries = [];
    private string? _error;
    private string? _registry;
    private string? _username;
    private string? _password;
    private bool _insecure;
    private int _passwordField;
    private bool _busy;
    private string? _confirmRemove;

    [Parameter, EditorRequired]
    public string Engine { get; set; } = "";

    [Inject]
    private RegistryActions Actions { get; set; } = default!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    public void Dispose()
    {
        _cts.Cancel();
        _cts.Dispose();
        GC.SuppressFinalize(this);
    }

    protected override Task OnParametersSetAsync() => ReloadAsync();

    private void OnPasswordInput(ChangeEventArgs e) => _password = e.Value as string;

    private void Edit(RegistrySettings r)
    {
        _registry = r.Registry;
        _username = r.Username;
        _insecure = r.Insecure;
        _password = null;
        _passwordField++;
    }

    private async Task ReloadAsync()
    {
        try
        {
            var state = await AuthenticationState;
            _registries = await Actions.ListAsync(state.User, Engine, _cts.Token);
            _error = null;
        }
        catch (Exception e) when (e is EngineException or DashboardForbiddenException)
        {
            _registries = [];
            _error = e.Message;
        }
    }

    private async Task SaveAsync()
    {
        var registry = _registry ?? "";
        var password = _password;
        // Dropped before the engine call: the secret lives only for this request, whatever its outcome.
        _password = null;
        // A new element, so the browser's copy of the typed password is gone too (the value is never bound back).
        _passwordField++;
        _busy = true;
        try
        {
            var state = await AuthenticationState;
            await Actions.SetAsync(state.User, Engine, registry, _username, password, _insecure, _cts.Token);
            Snackbar.Add($"saved registry {registry.Trim()}", Severity.Success);
            _registry = null;
            _username = null;
            _insecure = false;
            await ReloadAsync();
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

    private async Task RemoveAsync(string registry)
    {
        _busy = true;
        try
        {
            var state = await AuthenticationState;
            await Actions.RemoveAsync(state.User, Engine, registry, _cts.Token);
            Snackbar.Add($"removed registry {registry}", Severity.Success);
            _confirmRemove = null;
            await ReloadAsync();
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
