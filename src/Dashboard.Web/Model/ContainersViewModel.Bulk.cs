using System.Security.Claims;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;

namespace Dashboard.Web.Model;

/// <summary>The outcome of a bulk action for one container (podman's per-item results for batch operations).</summary>
public sealed record BulkItemResult(string Engine, string Id, string Name, string? Error, bool Skipped = false);

/// <summary>Selection and bulk lifecycle actions; each row's action goes to the row's engine under the user's role there.</summary>
public sealed partial class ContainersViewModel
{
    /// <summary>How many containers a bulk action changes at once (an engine serialises lifecycle calls anyway).</summary>
    public const int BulkParallelism = 4;

    private readonly HashSet<(string Engine, string Id)> _selected = [];

    public int SelectedCount
    {
        get
        {
            lock (_lock)
            {
                return _selected.Count;
            }
        }
    }

    /// <summary>True when the user may run some lifecycle action on some listed engine (checkboxes are shown only then).</summary>
    public bool CanSelect => ShownEngines.Any(e => Enum.GetValues<ContainerAction>().Any(a => _access.Can(ContainerActions.ToDashboardAction(a), e)));

    public bool IsSelected(ContainerSummary container)
    {
        ArgumentNullException.ThrowIfNull(container);
        lock (_lock)
        {
            return _selected.Contains((EngineOf(container), container.Id));
        }
    }

    public void SetSelected(ContainerSummary container, bool selected)
    {
        ArgumentNullException.ThrowIfNull(container);
        lock (_lock)
        {
            if (selected)
            {
                _selected.Add((EngineOf(container), container.Id));
            }
            else
            {
                _selected.Remove((EngineOf(container), container.Id));
            }
        }
    }

    /// <summary>True when every row shown (after search and filters) is selected.</summary>
    public bool AllShownSelected
    {
        get
        {
            var rows = Rows;
            lock (_lock)
            {
                return rows.Count > 0 && rows.All(c => _selected.Contains((c.Engine, c.Id)));
            }
        }
    }

    /// <summary>Selects or clears every row shown (after search and filters); hidden rows keep their state.</summary>
    public void SelectShown(bool selected)
    {
        var rows = Rows;
        lock (_lock)
        {
            foreach (var c in rows)
            {
                if (selected)
                {
                    _selected.Add((c.Engine, c.Id));
                }
                else
                {
                    _selected.Remove((c.Engine, c.Id));
                }
            }
        }
    }

    public void ClearSelection()
    {
        lock (_lock)
        {
            _selected.Clear();
        }
    }

    /// <summary>The selected containers that are still listed.</summary>
    public IReadOnlyList<ContainerSummary> Selected
    {
        get
        {
            lock (_lock)
            {
                return _selected.Select(k => _containers.GetValueOrDefault(k)).OfType<ContainerSummary>()
                    .OrderBy(c => c.Name, StringComparer.Ordinal).ThenBy(c => c.Engine, StringComparer.Ordinal).ToList();
            }
        }
    }

    /// <summary>Actions offered for the selection: those that fit the state of, and are allowed on the engine of, at least one selected row.</summary>
    public IReadOnlyList<ContainerAction> BulkActions
    {
        get
        {
            var selected = Selected;
            return Enum.GetValues<ContainerAction>().Where(a => selected.Any(c => Applies(c, a))).ToList();
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> on every selected row where it fits the state and the user's role on that row's
    /// engine allows it; the others are reported as skipped. Each call still goes through <see cref="ContainerActions"/>
    /// (authorized on the current roles, audited), so a role revoked meanwhile is refused per item.
    /// </summary>
    public async Task<IReadOnlyList<BulkItemResult>> RunBulkAsync(ClaimsPrincipal user, ContainerAction action, CancellationToken cancellationToken)
    {
        var selected = Selected;
        var results = new BulkItemResult[selected.Count];
        using var gate = new SemaphoreSlim(BulkParallelism);
        await Task.WhenAll(selected.Select(async (c, i) =>
        {
            if (!Applies(c, action))
            {
                results[i] = new BulkItemResult(c.Engine, c.Id, c.Name, null, Skipped: true);
                return;
            }

            await gate.WaitAsync(cancellationToken);
            try
            {
                await actions.RunAsync(user, c.Engine, c.Id, action, cancellationToken);
                results[i] = new BulkItemResult(c.Engine, c.Id, c.Name, null);
            }
            catch (Exception e) when (e is EngineException or DashboardForbiddenException)
            {
                results[i] = new BulkItemResult(c.Engine, c.Id, c.Name, e.Message);
            }
            finally
            {
                gate.Release();
            }
        }));
        return results;
    }

    private bool Applies(ContainerSummary container, ContainerAction action) =>
        ContainerActionRules.ForState(container.State).Contains(action) &&
        _access.Can(ContainerActions.ToDashboardAction(action), container.Engine);

    /// <summary>Rows that left the list (removed, engine gone) leave the selection; called under <see cref="_lock"/>.</summary>
    private void PruneSelection() => _selected.RemoveWhere(k => !_containers.ContainsKey(k));
}
