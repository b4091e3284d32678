using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Dashboard.Web.Components.Pages;

/// <summary>Recent audit entries, Admin only (checked against the store, not the cookie).</summary>
public partial class Audit
{
    private IReadOnlyList<AuditEntry> _entries = [];
    private string? _filter;
    private string? _error;
    private bool _allowed;

    [Inject]
    private IAuditLog AuditLog { get; set; } = default!;

    [Inject]
    private ActionAuthorizer Authorizer { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private IEnumerable<AuditEntry> Filtered => string.IsNullOrWhiteSpace(_filter)
        ? _entries
        : _entries.Where(e =>
            e.User.Contains(_filter, StringComparison.OrdinalIgnoreCase) ||
            e.Action.Contains(_filter, StringComparison.OrdinalIgnoreCase) ||
            e.Target.Contains(_filter, StringComparison.OrdinalIgnoreCase) ||
            e.Outcome.ToString().Contains(_filter, StringComparison.OrdinalIgnoreCase));

    protected override async Task OnInitializedAsync()
    {
        var state = await AuthenticationState;
        try
        {
            await Authorizer.EnsureAsync(state.User, DashboardAction.ViewAudit, "audit log", CancellationToken.None);
            _allowed = true;
            _entries = AuditLog.Recent(1000);
        }
        catch (DashboardForbiddenException e)
        {
            _error = e.Message;
        }
    }
}
