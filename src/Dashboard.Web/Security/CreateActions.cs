using System.Security.Claims;
using Dashboard.Web.Engines;
using Dashboard.Web.Model;

namespace Dashboard.Web.Security;

/// <summary>
/// Create, recreate (edit) and load-for-clone. Every path authorizes the user, then runs <see cref="CreatePolicy"/> on
/// the final request unless the user is an Admin now (read from the store), so no form field, clone or edit can
/// smuggle a dangerous option past it (security.md D1, D2 Portainer #1762, D3).
/// </summary>
public sealed class CreateActions(ActionAuthorizer authorizer, IEngineRegistry engines, IAuditLog audit)
{
    public async Task<ContainerCreateRequest> LoadAsync(ClaimsPrincipal user, string engine, string id, CancellationToken cancellationToken)
    {
        var target = $"container {engine}/{id}";
        ContainerActions.ValidateId(id, target);
        await authorizer.EnsureAsync(user, DashboardAction.ViewContainers, target, cancellationToken, engine);
        return await engines.Get(engine).GetCreateRequestAsync(id, cancellationToken);
    }

    /// <summary>Creates and (when <paramref name="start"/>) starts a container; pulls the image first when asked.</summary>
    public async Task<string> CreateAsync(ClaimsPrincipal user, string engine, ContainerCreateRequest request, bool pull, bool start, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var target = $"container {engine}/{request.Name ?? "(unnamed)"}";
        var who = await EnsureAllowedAsync(user, engine, request, target, cancellationToken);
        var client = engines.Get(engine);
        try
        {
            if (pull)
            {
                await authorizer.EnsureAsync(user, DashboardAction.PullImage, $"image {request.Image}", cancellationToken, engine);
                await PullAsync(client, request.Image, cancellationToken);
            }

            var id = await client.CreateContainerAsync(request, cancellationToken);
            if (start)
            {
                await client.StartContainerAsync(id, cancellationToken);
            }

            await WriteAsync(who, "CreateContainer", $"container {engine}/{id}", AuditOutcome.Succeeded, DockerRunLine.Format(request));
            return id;
        }
        catch (EngineException e)
        {
            await WriteAsync(who, "CreateContainer", target, AuditOutcome.Failed, e.Message);
            throw;
        }
    }

    /// <summary>
    /// Edit: replaces container <paramref name="id"/> with one made from <paramref name="request"/>. The old container is
    /// renamed aside, not removed, until the new one exists, and restored if the create fails.
    /// </summary>
    public async Task<string> RecreateAsync(ClaimsPrincipal user, string engine, string id, ContainerCreateRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var target = $"container {engine}/{id}";
        ContainerActions.ValidateId(id, target);
        var who = await EnsureAllowedAsync(user, engine, request, target, cancellationToken);
        await authorizer.EnsureAsync(user, DashboardAction.RemoveContainer, target, cancellationToken, engine);
        var client = engines.Get(engine);
        var old = await client.InspectContainerAsync(id, cancellationToken);
        var wasRunning = old.State is ContainerState.Running or ContainerState.Paused or ContainerState.Restarting;
        var name = request.Name ?? old.Name;
        if (wasRunning)
        {
            await client.StopContainerAsync(id, cancellationToken);
        }

        var aside = $"{old.Name}-replaced-{id[..Math.Min(8, id.Length)]}";
        await client.RenameContainerAsync(id, aside, cancellationToken);
        string newId;
        try
        {
            newId = await client.CreateContainerAsync(request with { Name = name }, cancellationToken);
        }
        catch (EngineException e)
        {
            await client.RenameContainerAsync(id, old.Name, CancellationToken.None);
            if (wasRunning)
            {
                await client.StartContainerAsync(id, CancellationToken.None);
            }

            await WriteAsync(who, "RecreateContainer", target, AuditOutcome.Failed, e.Message);
            throw;
        }

        await client.RemoveContainerAsync(id, force: true, cancellationToken);
        if (wasRunning)
        {
            await client.StartContainerAsync(newId, cancellationToken);
        }

        await WriteAsync(who, "RecreateContainer", target, AuditOutcome.Succeeded, $"now {newId}: {DockerRunLine.Format(request with { Name = name })}");
        return newId;
    }

    private async Task<UserAccess> EnsureAllowedAsync(ClaimsPrincipal user, string engine, ContainerCreateRequest request, string target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var who = await authorizer.EnsureAsync(user, DashboardAction.CreateContainer, target, cancellationToken, engine);
        if (who.Roles.Contains(Roles.Admin))
        {
            return who;
        }

        var dangerous = CreatePolicy.DangerousOptions(request);
        if (dangerous.Count > 0)
        {
            var what = string.Join(", ", dangerous);
            await WriteAsync(who, "CreateContainer", target, AuditOutcome.Denied, what);
            throw new DashboardForbiddenException($"create {target}: {what}: permission denied (Admin only)");
        }

        return who;
    }

    private static async Task PullAsync(IEngineClient client, string image, CancellationToken cancellationToken)
    {
        await foreach (var batch in client.PullImageAsync(image, cancellationToken))
        {
            if (batch.FirstOrDefault(p => p.Error is not null) is { } failed)
            {
                throw new EngineException(EngineErrorKind.Internal, $"pull {image}: {failed.Error}");
            }
        }
    }

    private Task WriteAsync(UserAccess who, string action, string target, AuditOutcome outcome, string? detail) =>
        audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, who.UserName ?? "", action, target, outcome, detail), CancellationToken.None);
}
