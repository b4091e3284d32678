using System.Security.Claims;
using System.Text.RegularExpressions;
using Dashboard.Web.Engines;

namespace Dashboard.Web.Security;

/// <summary>
/// Registry credentials of one engine (issue 5 §9): Admin of that engine only, every change audited. Passwords pass
/// through to the engine and are never returned, logged or kept here.
/// </summary>
public sealed partial class RegistryActions(IEngineRegistry engines, ActionAuthorizer authorizer, IAuditLog audit)
{
    public async Task<IReadOnlyList<RegistrySettings>> ListAsync(ClaimsPrincipal user, string engine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        await authorizer.EnsureAsync(user, DashboardAction.ViewRegistries, $"engine {engine}", cancellationToken, engine);
        return await engines.Get(engine).ListRegistriesAsync(cancellationToken);
    }

    /// <summary>
    /// Saves <paramref name="username"/>/<paramref name="password"/> and the insecure flag; an empty username keeps the
    /// stored credentials and changes only the flag.
    /// </summary>
    public async Task SetAsync(ClaimsPrincipal user, string engine, string registry, string? username, string? password, bool insecure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        registry = (registry ?? "").Trim();
        username = string.IsNullOrWhiteSpace(username) ? null : username.Trim();
        var target = $"registry {engine}/{registry}";
        var access = await authorizer.EnsureAsync(user, DashboardAction.SetRegistry, target, cancellationToken, engine);
        var detail = (username is null ? "credentials unchanged" : $"username {username}, password replaced") + (insecure ? ", insecure" : "");
        await AuditedAsync(access, DashboardAction.SetRegistry, target, detail, async () =>
        {
            Validate(registry);
            if (username is not null && string.IsNullOrEmpty(password))
            {
                throw new EngineException(EngineErrorKind.InvalidRequest, $"save {target}: a username needs a password");
            }

            await engines.Get(engine).SetRegistryAsync(registry, username, username is null ? null : password, insecure, cancellationToken);
        });
    }

    public async Task RemoveAsync(ClaimsPrincipal user, string engine, string registry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        registry = (registry ?? "").Trim();
        var target = $"registry {engine}/{registry}";
        var access = await authorizer.EnsureAsync(user, DashboardAction.RemoveRegistry, target, cancellationToken, engine);
        await AuditedAsync(access, DashboardAction.RemoveRegistry, target, null, async () =>
        {
            Validate(registry);
            await engines.Get(engine).RemoveRegistryAsync(registry, cancellationToken);
        });
    }

    /// <summary>host[:port] as in an image reference's first component; the engine checks again.</summary>
    public static bool IsValidName(string registry) => registry.Length <= 255 && Name().IsMatch(registry);

    private static void Validate(string registry)
    {
        if (!IsValidName(registry))
        {
            throw new EngineException(EngineErrorKind.InvalidRequest, $"registry {registry}: invalid registry name (host or host:port)");
        }
    }

    private async Task AuditedAsync(UserAccess access, DashboardAction action, string target, string? detail, Func<Task> run)
    {
        try
        {
            await run();
        }
        catch (EngineException e)
        {
            await audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, access.UserName ?? "", action.ToString(), target, AuditOutcome.Failed, e.Message), CancellationToken.None);
            throw;
        }

        await audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, access.UserName ?? "", action.ToString(), target, AuditOutcome.Succeeded, detail), CancellationToken.None);
    }

    [GeneratedRegex(@"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*(?::[0-9]{1,5})?$|^\[[0-9a-fA-F:]+\](?::[0-9]{1,5})?$", RegexOptions.CultureInvariant)]
    private static partial Regex Name();
}
