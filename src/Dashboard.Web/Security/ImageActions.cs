using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.RegularExpressions;
using Dashboard.Web.Engines;

namespace Dashboard.Web.Security;

/// <summary>Image pull and remove with the same per-call authorization and audit as container actions.</summary>
public sealed partial class ImageActions(IEngineRegistry engines, ActionAuthorizer authorizer, IAuditLog audit)
{
    public async IAsyncEnumerable<IReadOnlyList<PullProgress>> PullAsync(
        ClaimsPrincipal user,
        string engine,
        string reference,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        reference = (reference ?? "").Trim();
        var target = $"image {engine}/{reference}";
        if (!Reference().IsMatch(reference))
        {
            throw new EngineException(EngineErrorKind.InvalidRequest, $"pull {reference}: invalid image reference");
        }

        var access = await authorizer.EnsureAsync(user, DashboardAction.PullImage, target, cancellationToken, engine);
        var client = engines.Get(engine);
        var failed = default(string);
        var stream = client.PullImageAsync(reference, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                try
                {
                    if (!await stream.MoveNextAsync())
                    {
                        break;
                    }
                }
                catch (EngineException e)
                {
                    failed = e.Message;
                    throw;
                }

                failed ??= stream.Current.Select(p => p.Error).FirstOrDefault(e => e is not null);
                yield return stream.Current;
            }
        }
        finally
        {
            await stream.DisposeAsync();
            await audit.WriteAsync(
                new AuditEntry(DateTimeOffset.UtcNow, access.UserName ?? "", nameof(DashboardAction.PullImage), target, failed is null ? AuditOutcome.Succeeded : AuditOutcome.Failed, failed),
                CancellationToken.None);
        }
    }

    public async Task RemoveAsync(ClaimsPrincipal user, string engine, string imageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var target = $"image {engine}/{imageId}";
        if (!Reference().IsMatch(imageId ?? ""))
        {
            throw new EngineException(EngineErrorKind.InvalidRequest, $"{target}: invalid image id");
        }

        var access = await authorizer.EnsureAsync(user, DashboardAction.RemoveImage, target, cancellationToken, engine);
        try
        {
            await engines.Get(engine).RemoveImageAsync(imageId!, force: false, cancellationToken);
        }
        catch (EngineException e)
        {
            await audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, access.UserName ?? "", nameof(DashboardAction.RemoveImage), target, AuditOutcome.Failed, e.Message), CancellationToken.None);
            throw;
        }

        await audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, access.UserName ?? "", nameof(DashboardAction.RemoveImage), target, AuditOutcome.Succeeded, null), CancellationToken.None);
    }

    /// <summary>Registry/repository[:tag][@digest] or an image id: no spaces, no leading dash, no query (D10).</summary>
    [GeneratedRegex(@"^[a-zA-Z0-9][a-zA-Z0-9._/:@-]{0,254}$", RegexOptions.CultureInvariant)]
    private static partial Regex Reference();
}
