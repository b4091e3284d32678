namespace Dashboard.Engine.Containers;

/// <summary>
/// Recovery from an engine killed in the middle of an operation (security.md E1 a): a container
/// directory without a row is a create that was never acknowledged, and a runtime container behind a
/// row that never recorded its start is a start that was never acknowledged; both are undone.
/// </summary>
public sealed partial class ContainerManager
{
    /// <summary>Removes container directories (overlay mount, anonymous volumes, bundle) that no row refers to.</summary>
    private async Task RemoveHalfCreatedAsync(IReadOnlyCollection<ContainerRecord> known)
    {
        if (!Directory.Exists(_options.ContainersDir))
        {
            return;
        }

        var ids = known.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var dir in Directory.GetDirectories(_options.ContainersDir))
        {
            var id = Path.GetFileName(dir);
            if (ids.Contains(id))
            {
                continue;
            }

            _log.LogWarning("removing half-created container directory {Directory}", dir);
            try
            {
                await _runtime.DeleteAsync(id, force: true, CancellationToken.None);
            }
            catch (EngineException e)
            {
                _log.LogWarning("runtime delete of half-created container {ContainerId}: {Error}", id, e.Message);
            }

            try
            {
                await _networking.TeardownOrphanAsync(id, dir, CancellationToken.None);
            }
            catch (EngineException e)
            {
                _log.LogWarning("network teardown of half-created container {ContainerId}: {Error}", id, e.Message);
            }

            await _volumes.AbandonAsync(dir);
            _images.RemoveContainerDirectory(dir);
        }
    }

    /// <summary>A stopped or created container the runtime still runs had its start cut short before it was recorded: stop it.</summary>
    private async Task ReconcileStoppedAsync(ContainerRecord container, CancellationToken cancellationToken)
    {
        if (await _runtime.StateAsync(container.Id, cancellationToken) is { Status: "running" or "paused" or "created" or "creating" })
        {
            _log.LogWarning("container {ContainerId}: its start was not recorded; stopping it", container.Id);
            await _runtime.DeleteAsync(container.Id, force: true, cancellationToken);
        }

        await RestartAfterEngineStartAsync(container);
    }
}
