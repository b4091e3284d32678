namespace Dashboard.Engine.Networking;

/// <summary>
/// The default network's bridge is host state that outlives containers and engine restarts, as Docker's
/// <c>docker0</c> does: it is created (idempotently) when the engine starts and is never removed when
/// containers come and go or the engine stops. A bridge appearing with its gateway address on a
/// container's first start changed the host's addresses, and browsers on the host abort their open
/// connections on that (Chromium: ERR_NETWORK_CHANGED). Every bridge this engine creates is recorded in
/// <c>STATE_ROOT/bridges/</c>, so that an explicit cleanup (<see cref="RemoveHostBridgesAsync"/>: uninstall,
/// tests) removes exactly this engine's devices. User-defined networks keep their bridge only while a
/// container is attached.
/// </summary>
public sealed partial class NetworkManager
{
    private string BridgesDir => BridgesDirectory(_options.StateRoot);

    private static string BridgesDirectory(string stateRoot) => Path.Combine(stateRoot, "bridges");

    /// <summary>Called at the end of <see cref="InitializeAsync"/>: a missing tool or a clash is logged, the bridge is then made on first use.</summary>
    private async Task EnsureDefaultBridgeAsync(CancellationToken cancellationToken)
    {
        if (await _store.GetNetworkAsync(DefaultNetwork, cancellationToken) is not { Driver: BridgeDriver } network)
        {
            return;
        }

        try
        {
            await EnsureBridgeAsync(network, cancellationToken);
        }
        catch (EngineException e)
        {
            _log.LogWarning("the default bridge could not be created at start, it will be on first use: {Error}", e.Message);
        }
    }

    private async Task<bool> IsDefaultNetworkAsync(string networkId) =>
        await _store.GetNetworkAsync(DefaultNetwork, CancellationToken.None) is { } d && d.Id == networkId;

    private void RecordBridge(string bridge)
    {
        Directory.CreateDirectory(BridgesDir);
        File.WriteAllText(Path.Combine(BridgesDir, bridge), "");
    }

    private void ForgetBridge(string bridge)
    {
        var path = Path.Combine(BridgesDir, bridge);
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Removes every bridge device the engine with <paramref name="stateRoot"/> created (explicit cleanup
    /// while that engine is not running; its containers are gone). Returns the names removed.
    /// </summary>
    public static async Task<IReadOnlyList<string>> RemoveHostBridgesAsync(string stateRoot, CancellationToken cancellationToken = default)
    {
        var dir = BridgesDirectory(stateRoot);
        var removed = new List<string>();
        foreach (var file in Directory.Exists(dir) ? Directory.GetFiles(dir) : [])
        {
            var bridge = Path.GetFileName(file);
            if (bridge.StartsWith("dbr-", StringComparison.Ordinal) && HostNetwork.LinkExists(bridge))
            {
                await HostNetwork.DeleteLinkAsync(bridge, cancellationToken);
                removed.Add(bridge);
            }

            File.Delete(file);
        }

        return removed;
    }
}
