using Dashboard.Web.Identity;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Dashboard.Web.Components.Pages;

/// <summary>Users and roles, Admin only; every handler re-checks the caller against the store.</summary>
public partial class Users
{
    private IReadOnlyList<UserRow> _users = [];
    private string? _error;
    private bool _allowed;
    private bool _busy;
    private string _newName = "";
    private string _newPassword = "";
    private string _newRole = Roles.Viewer;
    private IReadOnlyList<string> _engineNames = [];
    private Dictionary<(string UserId, string Engine), string> _engineRoles = [];

    /// <summary>The select's value for "no per-engine assignment"; not a role name, so it cannot collide with one.</summary>
    private const string InheritValue = "";

    [Inject]
    private EngineRoleAdministration EngineRoles { get; set; } = default!;

    [Inject]
    private Dashboard.Web.Engines.IEngineRegistry Engines { get; set; } = default!;

    [Inject]
    private UserAdministration Administration { get; set; } = default!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override Task OnInitializedAsync() => RunAsync(null, () => Task.CompletedTask);

    private Task CreateAsync() => RunAsync($"user {_newName.Trim()} created", async () =>
    {
        var state = await AuthenticationState;
        await Administration.CreateAsync(state.User, _newName, _newPassword, _newRole, CancellationToken.None);
        _newName = "";
        _newPassword = "";
    });

    private Task SetRoleAsync(UserRow user, string? role) => RunAsync($"{user.UserName} is now {role}", async () =>
    {
        var state = await AuthenticationState;
        await Administration.SetRoleAsync(state.User, user.Id, role ?? "", CancellationToken.None);
    });

    private string? EngineRoleOf(string userId, string engine) => _engineRoles.GetValueOrDefault((userId, engine));

    private Task SetEngineRoleAsync(UserRow user, string engine, string? role)
    {
        var value = string.IsNullOrEmpty(role) ? null : role;
        return RunAsync($"{user.UserName} on {engine}: {value ?? "inherits " + user.Role}", async () =>
        {
            var state = await AuthenticationState;
            await EngineRoles.SetAsync(state.User, user.Id, engine, value, CancellationToken.None);
        });
    }

    private Task DeleteAsync(UserRow user) => RunAsync($"user {user.UserName} deleted", async () =>
    {
        var state = await AuthenticationState;
        await Administration.DeleteAsync(state.User, user.Id, CancellationToken.None);
    });

    private async Task RunAsync(string? done, Func<Task> action)
    {
        _busy = true;
        try
        {
            await action();
            var state = await AuthenticationState;
            _users = await Administration.ListAsync(state.User, CancellationToken.None);
            _engineNames = Engines.Names;
            _engineRoles = (await EngineRoles.ListAsync(state.User, CancellationToken.None)).ToDictionary(r => (r.UserId, r.Engine), r => r.Role);
            _allowed = true;
            _error = null;
            if (done is not null)
            {
                Snackbar.Add(done, Severity.Success);
            }
        }
        catch (DashboardForbiddenException e)
        {
            _allowed = false;
            _error = e.Message;
        }
        catch (UserAdministrationException e)
        {
            Snackbar.Add(e.Message, Severity.Error);
        }
        finally
        {
            _busy = false;
        }
    }
}
