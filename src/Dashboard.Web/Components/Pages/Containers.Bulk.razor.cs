using System.Globalization;
using Dashboard.Web.Model;
using Dashboard.Web.Security;
using MudBlazor;

namespace Dashboard.Web.Components.Pages;

/// <summary>Row selection and bulk actions of the container list (each item goes to its own engine).</summary>
public partial class Containers
{
    private bool _bulkBusy;

    /// <summary>The last bulk action's failures, one line per container, shown until the next one.</summary>
    private List<BulkItemResult> _bulkFailures = [];

    private static string BusyKey(Dashboard.Web.Engines.ContainerSummary c) => c.Engine + "/" + c.Id;

    private void OnSelectChanged(Dashboard.Web.Engines.ContainerSummary container, bool selected) => ViewModel.SetSelected(container, selected);

    private void OnSelectAllChanged(bool selected) => ViewModel.SelectShown(selected);

    private void ClearSelection() => ViewModel.ClearSelection();

    private async Task RunBulkAsync(ContainerAction action)
    {
        // A second bulk dispatch while one runs is dropped (security.md D11 "multiple dispatches").
        if (_bulkBusy)
        {
            return;
        }

        _bulkBusy = true;
        try
        {
            var state = await AuthenticationState;
            var results = await ViewModel.RunBulkAsync(state.User, action, _cts.Token);
            var done = results.Count(r => !r.Skipped && r.Error is null);
            var skipped = results.Count(r => r.Skipped);
            _bulkFailures = results.Where(r => r.Error is not null).ToList();
            var verb = action.ToString().ToLowerInvariant();
            var text = string.Create(CultureInfo.InvariantCulture, $"{verb}: {done} done") +
                (_bulkFailures.Count > 0 ? string.Create(CultureInfo.InvariantCulture, $", {_bulkFailures.Count} failed") : "") +
                (skipped > 0 ? string.Create(CultureInfo.InvariantCulture, $", {skipped} skipped") : "");
            Snackbar.Add(text, _bulkFailures.Count > 0 ? Severity.Warning : Severity.Success);
        }
        finally
        {
            _bulkBusy = false;
        }
    }
}
