using System.Security.Claims;
using Dashboard.Web.Engines;

namespace Dashboard.Web.Security;

public enum ContainerAction
{
    Start,
    Stop,
    Restart,
    Kill,
    Pause,
    Unpause,
    Remove,
}

/// <summary>The lifecycle entry point shared by pages and hubs: authorize on the current roles, call the engine, audit.</summary>
public sealed class ContainerActions(IEngineRegistry engines, ActionAuthorizer authorizer, IAuditLog audit)
{
    public static DashboardAction ToDashboardAction(ContainerAction action) => action switch
    {
        ContainerAction.Start => DashboardAction.StartContainer,
        ContainerAction.Stop => DashboardAction.StopContainer,
        ContainerAction.Restart => DashboardAction.RestartContainer,
        ContainerAction.Kill => DashboardAction.KillContainer,
        ContainerAction.Pause => DashboardAction.PauseContainer,
        ContainerAction.Unpause => DashboardAction.UnpauseContainer,
        ContainerAction.Remove => DashboardAction.RemoveContainer,
        _ => throw new ArgumentOutOfRangeException(nameof(action)),
    };

    public async Task RunAsync(ClaimsPrincipal user, string engine, string containerId, ContainerAction action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var dashboardAction = ToDashboardAction(action);
        var target = $"container {engine}/{containerId}";
        ValidateId(containerId, target);
        var access = await authorizer.EnsureAsync(user, dashboardAction, target, cancellationToken, engine);
        var client = engines.Get(engine);
        try
        {
            await (action switch
            {
                ContainerAction.Start => client.StartContainerAsync(containerId, cancellationToken),
                ContainerAction.Stop => client.StopContainerAsync(containerId, cancellationToken),
                ContainerAction.Restart => client.RestartContainerAsync(containerId, cancellationToken),
                ContainerAction.Kill => client.KillContainerAsync(containerId, cancellationToken),
                ContainerAction.Pause => client.PauseContainerAsync(containerId, cancellationToken),
                ContainerAction.Unpause => client.UnpauseContainerAsync(containerId, cancellationToken),
                ContainerAction.Remove => client.RemoveContainerAsync(containerId, force: true, cancellationToken),
                _ => throw new ArgumentOutOfRangeException(nameof(action)),
            });
        }
        catch (EngineException e)
        {
            await audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, access.UserName ?? "", dashboardAction.ToString(), target, AuditOutcome.Failed, e.Message), CancellationToken.None);
            throw;
        }

        await audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, access.UserName ?? "", dashboardAction.ToString(), target, AuditOutcome.Succeeded, null), CancellationToken.None);
    }

    /// <summary>IDs and names only (Docker's name rule); never a path or a query (security.md D7, D10).</summary>
    public static void ValidateId(string containerId, string target)
    {
        if (string.IsNullOrEmpty(containerId) || containerId.Length > 128 ||
            !char.IsAsciiLetterOrDigit(containerId[0]) ||
            !containerId.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
        {
            throw new EngineException(EngineErrorKind.InvalidRequest, $"{target}: invalid container id");
        }
    }
}
