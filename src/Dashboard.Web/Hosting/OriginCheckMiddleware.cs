namespace Dashboard.Web.Hosting;

/// <summary>
/// Refuses cross-origin connections to the Blazor circuit and the hubs: they authenticate with the cookie, so
/// another site's page could otherwise drive them with the victim's session (Cross-Site WebSocket Hijacking,
/// security.md D6). Browsers always send Origin on WebSocket and cross-origin requests.
/// </summary>
public sealed class OriginCheckMiddleware(RequestDelegate next, IOptions<DashboardOptions> options, ILogger<OriginCheckMiddleware> logger)
{
    private readonly HashSet<string> _allowed = new(
        options.Value.AllowedOrigins.Select(o => o.TrimEnd('/')),
        StringComparer.OrdinalIgnoreCase);

    public static bool IsProtectedPath(PathString path) =>
        path.StartsWithSegments("/_blazor", StringComparison.OrdinalIgnoreCase) ||
        path.StartsWithSegments("/hubs", StringComparison.OrdinalIgnoreCase);

    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (IsProtectedPath(context.Request.Path) && context.Request.Headers.Origin is { Count: > 0 } origins)
        {
            var origin = origins.ToString();
            var own = $"{context.Request.Scheme}://{context.Request.Host.Value}";
            if (!string.Equals(origin, own, StringComparison.OrdinalIgnoreCase) && !_allowed.Contains(origin))
            {
                logger.LogWarning("refused {Path} from origin {Origin}", context.Request.Path, origin);
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            }
        }

        return next(context);
    }
}
