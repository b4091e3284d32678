using Dashboard.Web.Engines;
using Dashboard.Web.Hosting;
using Dashboard.Web.Model;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Forms;

namespace Dashboard.Web.Components.Pages;

public partial class Backup : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private UserAccess _access = UserAccess.None;
    private bool _restoring;
    private string? _restoreError;
    private BackupService.RestoreOutcome? _restored;
    private string? _restoreEngine;
    private string? _engineRestoreError;
    private (string Engine, string Schema)? _engineRestored;

    [Inject]
    private IEngineRegistry Engines { get; set; } = default!;

    [Inject]
    private IUserAccessSource AccessSource { get; set; } = default!;

    [Inject]
    private BackupService Backups { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    public void Dispose()
    {
        _cts.Cancel();
        _cts.Dispose();
        GC.SuppressFinalize(this);
    }

    protected override async Task OnInitializedAsync()
    {
        var state = await AuthenticationState;
        _access = await AccessSource.GetAsync(state.User, _cts.Token);
        _restoreEngine = Engines.Names.Count > 0 ? Engines.Names[0] : null;
    }

    private async Task RestoreEngineAsync(InputFileChangeEventArgs e)
    {
        if (_restoreEngine is not { } engine)
        {
            return;
        }

        _restoring = true;
        _engineRestoreError = null;
        _engineRestored = null;
        try
        {
            var state = await AuthenticationState;
            await using var upload = e.File.OpenReadStream(BackupService.MaxEngineRestoreBytes, _cts.Token);
            _engineRestored = (engine, await Backups.RestoreEngineAsync(state.User, engine, upload, _cts.Token));
        }
        catch (Exception ex) when (ex is EngineException or DashboardForbiddenException or IOException)
        {
            _engineRestoreError = ex.Message;
        }
        finally
        {
            _restoring = false;
        }
    }

    private async Task RestoreAsync(InputFileChangeEventArgs e)
    {
        _restoring = true;
        _restoreError = null;
        _restored = null;
        try
        {
            var state = await AuthenticationState;
            await using var upload = e.File.OpenReadStream(BackupService.MaxRestoreBytes, _cts.Token);
            _restored = await Backups.RestoreWebAsync(state.User, upload, _cts.Token);
        }
        catch (Exception ex) when (ex is BackupException or DashboardForbiddenException or IOException)
        {
            _restoreError = ex.Message;
        }
        finally
        {
            _restoring = false;
        }
    }
}
