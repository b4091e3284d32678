using Dashboard.Web.Engines;
using Microsoft.AspNetCore.Components;

namespace Dashboard.Web.Components.Pages;

/// <summary>
/// First render of a long list. <see cref="Microsoft.AspNetCore.Components.Web.Virtualization.Virtualize{TItem}"/>
/// renders no rows until the browser has reported its viewport over the circuit, so the 1,000-container list showed
/// its first row only once the page had loaded, the circuit had started, listed the engine again and made a spacer
/// round trip. The prerendered page now carries the first <see cref="FirstRows"/> rows as plain rows and hands them to
/// the circuit, which shows them until its own list has loaded (no empty table in between).
/// </summary>
public partial class Containers
{
    /// <summary>Rows of a long list in the prerendered page: more than a 70vh table of 42 px rows shows on a 1440 px tall screen.</summary>
    public const int FirstRows = 30;

    /// <summary>The rows the prerendered page showed, restored in the circuit (persisted in the page, data-protected).</summary>
    [PersistentState]
    public List<ContainerSummary>? FirstPage { get; set; }

    /// <summary>What the table shows: the list, or in a circuit that has not loaded it yet, the prerendered first rows.</summary>
    private IReadOnlyList<ContainerSummary> TableRows =>
        !RendererInfo.IsInteractive ? FirstPage ?? []
        : !ViewModel.Loaded && ViewModel.Error is null && FirstPage is { Count: > 0 } first ? first
        : ViewModel.Rows;

    /// <summary>Virtualize only once interactive: prerendered HTML cannot ask the browser for its viewport.</summary>
    private bool VirtualizeTable => RendererInfo.IsInteractive && TableRows.Count > VirtualizeAbove;

    private bool TableLoading => !ViewModel.Loaded && ViewModel.Error is null && TableRows.Count == 0;

    protected override void OnParametersSet()
    {
        if (!RendererInfo.IsInteractive && ViewModel.Loaded)
        {
            var rows = ViewModel.Rows;
            FirstPage = [.. rows.Count > VirtualizeAbove ? rows.Take(FirstRows) : rows];
        }
    }

    protected override void OnAfterRender(bool firstRender)
    {
        // Once the circuit has its own list the prerendered rows are stale (and must not reappear on an engine switch).
        if (RendererInfo.IsInteractive && ViewModel.Loaded)
        {
            FirstPage = null;
        }
    }
}
