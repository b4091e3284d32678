using Dashboard.Web.Alerts;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Dashboard.Web.Components.Pages;

public partial class AlertsPage : IDisposable
{
    public const int Shown = 200;

    private readonly CancellationTokenSource _cts = new();
    private UserAccess _access = UserAccess.None;
    private bool _canManage;
    private string? _error;
    private string? _actionError;
    private IReadOnlyList<AlertNotification> _notifications = [];
    private IReadOnlyList<AlertRule> _rules = [];
    private AlertRule _draft = NewDraft();
    private string? _webhookUrl;

    [Inject]
    private AlertActions Actions { get; set; } = default!;

    [Inject]
    private AlertService Service { get; set; } = default!;

    [Inject]
    private IEngineRegistry Engines { get; set; } = default!;

    [Inject]
    private IUserAccessSource AccessSource { get; set; } = default!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    public void Dispose()
    {
        Service.Changed -= OnChangedAsync;
        _cts.Cancel();
        _cts.Dispose();
        GC.SuppressFinalize(this);
    }

    public static string KindText(AlertKind kind) => kind switch
    {
        AlertKind.Died => "container died",
        AlertKind.Unhealthy => "container unhealthy",
        AlertKind.RestartLoop => "restarting in a loop",
        AlertKind.CpuAbove => "CPU over X% for N minutes",
        AlertKind.MemoryAbove => "memory over X% for N minutes",
        _ => kind.ToString(),
    };

    protected override async Task OnInitializedAsync()
    {
        var state = await AuthenticationState;
        _access = await AccessSource.GetAsync(state.User, _cts.Token);
        _canManage = _access.Can(DashboardAction.ManageAlerts);
        if (!_access.Can(DashboardAction.ViewAlerts))
        {
            _error = "read alerts: permission denied";
            return;
        }

        Service.Changed += OnChangedAsync;
        await LoadAsync();
        if (_canManage)
        {
            _webhookUrl = await Actions.WebhookUrlAsync(state.User, _cts.Token);
        }
    }

    private static AlertRule NewDraft() => new() { Kind = AlertKind.Died, Threshold = 80, Minutes = 5 };

    private async Task LoadAsync()
    {
        var user = (await AuthenticationState).User;
        _notifications = await Actions.RecentAsync(user, Shown, _cts.Token);
        _rules = await Actions.RulesAsync(user, _cts.Token);
    }

    private Task OnChangedAsync() => InvokeAsync(async () =>
    {
        if (_cts.IsCancellationRequested)
        {
            return;
        }

        await RunAsync(LoadAsync);
    });

    private Task MarkReadAsync(long? id) => RunAsync(async () =>
    {
        await Actions.MarkReadAsync((await AuthenticationState).User, id, _cts.Token);
        await LoadAsync();
    });

    private Task AddAsync() => RunAsync(async () =>
    {
        if (_draft.Kind == AlertKind.RestartLoop && _draft.Threshold > 100)
        {
            _draft.Threshold = 3;
        }

        var saved = await Actions.SaveRuleAsync((await AuthenticationState).User, _draft.Clone(), _cts.Token);
        Snackbar.Add($"rule {saved.Name} added", Severity.Success);
        _draft = NewDraft();
        await LoadAsync();
    });

    private Task ToggleAsync(AlertRule rule, bool enabled) => RunAsync(async () =>
    {
        var changed = rule.Clone();
        changed.Enabled = enabled;
        await Actions.SaveRuleAsync((await AuthenticationState).User, changed, _cts.Token);
        await LoadAsync();
    });

    private Task DeleteAsync(AlertRule rule) => RunAsync(async () =>
    {
        await Actions.DeleteRuleAsync((await AuthenticationState).User, rule, _cts.Token);
        Snackbar.Add($"rule {rule.Name} deleted", Severity.Success);
        await LoadAsync();
    });

    private Task SaveWebhookAsync() => RunAsync(async () =>
    {
        await Actions.SetWebhookUrlAsync((await AuthenticationState).User, _webhookUrl, _cts.Token);
        Snackbar.Add(string.IsNullOrWhiteSpace(_webhookUrl) ? "webhook removed" : "webhook saved", Severity.Success);
    });

    private Task TestWebhookAsync() => RunAsync(async () =>
    {
        var ok = await Actions.TestWebhookAsync((await AuthenticationState).User, _cts.Token);
        Snackbar.Add(ok ? "webhook answered" : "webhook did not answer with 2xx (see the log)", ok ? Severity.Success : Severity.Warning);
    });

    private async Task RunAsync(Func<Task> action)
    {
        try
        {
            await action();
            _actionError = null;
        }
        catch (Exception e) when (e is AlertConfigurationException or DashboardForbiddenException or EngineException)
        {
            _actionError = e.Message;
            Snackbar.Add(e.Message, Severity.Error);
        }

        StateHasChanged();
    }
}
