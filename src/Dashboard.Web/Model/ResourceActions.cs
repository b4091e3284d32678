using System.Security.Claims;
using System.Text.RegularExpressions;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;

namespace Dashboard.Web.Model;

/// <summary>Volume and network calls with the same per-call authorization and audit as container actions.</summary>
public sealed partial class ResourceActions(IEngineRegistry engines, ActionAuthorizer authorizer, IAuditLog audit)
{
    public static readonly IReadOnlyList<string> NetworkDrivers = ["bridge", "macvlan", "ipvlan"];

    public async Task<string> InspectVolumeAsync(ClaimsPrincipal user, string engine, string name, CancellationToken cancellationToken)
    {
        CheckName(name, "volume");
        await authorizer.EnsureAsync(user, DashboardAction.ViewVolumes, $"volume {engine}/{name}", cancellationToken);
        return await engines.Get(engine).InspectVolumeAsync(name, cancellationToken);
    }

    public Task CreateVolumeAsync(ClaimsPrincipal user, string engine, string name, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        CheckName(name, "volume");
        return RunAsync(user, DashboardAction.CreateVolume, $"volume {engine}/{name}", () => engines.Get(engine).CreateVolumeAsync(name, labels, cancellationToken), cancellationToken);
    }

    public Task RemoveVolumeAsync(ClaimsPrincipal user, string engine, string name, CancellationToken cancellationToken)
    {
        CheckName(name, "volume");
        return RunAsync(user, DashboardAction.RemoveVolume, $"volume {engine}/{name}", () => engines.Get(engine).RemoveVolumeAsync(name, force: false, cancellationToken), cancellationToken);
    }

    public async Task<PruneResult> PruneVolumesAsync(ClaimsPrincipal user, string engine, CancellationToken cancellationToken)
    {
        PruneResult? result = null;
        await RunAsync(user, DashboardAction.PruneVolumes, $"volumes of {engine}", async () => result = await engines.Get(engine).PruneVolumesAsync(cancellationToken), cancellationToken);
        return result!;
    }

    public async Task<string> InspectNetworkAsync(ClaimsPrincipal user, string engine, string id, CancellationToken cancellationToken)
    {
        CheckName(id, "network");
        await authorizer.EnsureAsync(user, DashboardAction.ViewNetworks, $"network {engine}/{id}", cancellationToken);
        return await engines.Get(engine).InspectNetworkAsync(id, cancellationToken);
    }

    public async Task<string> CreateNetworkAsync(ClaimsPrincipal user, string engine, string name, string driver, bool isInternal, CancellationToken cancellationToken)
    {
        CheckName(name, "network");
        if (!NetworkDrivers.Contains(driver))
        {
            throw new EngineException(EngineErrorKind.InvalidRequest, $"network {name}: driver must be one of {string.Join(", ", NetworkDrivers)}");
        }

        var id = "";
        await RunAsync(user, DashboardAction.CreateNetwork, $"network {engine}/{name}", async () => id = await engines.Get(engine).CreateNetworkAsync(name, driver, isInternal, cancellationToken), cancellationToken);
        return id;
    }

    public Task RemoveNetworkAsync(ClaimsPrincipal user, string engine, NetworkSummary network, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(network);
        CheckName(network.Id, "network");
        if (network.IsPredefined)
        {
            throw new EngineException(EngineErrorKind.InvalidRequest, $"network {network.Name}: predefined networks cannot be removed");
        }

        return RunAsync(user, DashboardAction.RemoveNetwork, $"network {engine}/{network.Name}", () => engines.Get(engine).RemoveNetworkAsync(network.Id, cancellationToken), cancellationToken);
    }

    public async Task<PruneResult> PruneNetworksAsync(ClaimsPrincipal user, string engine, CancellationToken cancellationToken)
    {
        PruneResult? result = null;
        await RunAsync(user, DashboardAction.PruneNetworks, $"networks of {engine}", async () => result = await engines.Get(engine).PruneNetworksAsync(cancellationToken), cancellationToken);
        return result!;
    }

    private static void CheckName(string? name, string what)
    {
        if (!Name().IsMatch(name ?? ""))
        {
            throw new EngineException(EngineErrorKind.InvalidRequest, $"{what} name {name}: use letters, digits, '_', '.' or '-' (starting with a letter or digit)");
        }
    }

    private async Task RunAsync(ClaimsPrincipal user, DashboardAction action, string target, Func<Task> call, CancellationToken cancellationToken)
    {
        var access = await authorizer.EnsureAsync(user, action, target, cancellationToken);
        try
        {
            await call();
        }
        catch (EngineException e)
        {
            await audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, access.UserName ?? "", action.ToString(), target, AuditOutcome.Failed, e.Message), CancellationToken.None);
            throw;
        }

        await audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, access.UserName ?? "", action.ToString(), target, AuditOutcome.Succeeded, null), CancellationToken.None);
    }

    /// <summary>Docker's volume and network name rule (also matches ids); no leading dash, no path separators (D10).</summary>
    [GeneratedRegex(@"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex Name();
}
