using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dashboard.Web.Engines;
using Dashboard.Web.Identity;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Antiforgery;
using Dashboard.Web.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;

namespace Dashboard.Web.Api;

/// <summary>
/// The REST API for scripts under <c>/api</c>. Every endpoint goes through the same action classes as the pages and
/// the hub (one authorization point, one create policy, one audit log: security.md D2 PR #3969). Browsers use the
/// cookie and must send the antiforgery header on every unsafe method; scripts send a bearer token.
/// </summary>
public static class ApiEndpoints
{
    public const string Prefix = "/api";
    public const string AntiforgeryHeader = "X-CSRF-TOKEN";
    public const int MaxBodyBytes = 64 * 1024;
    public const int MaxLogTail = 10_000;

    private static readonly JsonSerializerOptions s_input = new(JsonSerializerDefaults.Web)
    {
        // One parse that both the policy and the engine see; no duplicates or unknown fields for a later layer to
        // read differently (security.md D4).
        AllowDuplicateProperties = false,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
        ReadCommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        MaxDepth = 16,
    };

    private static readonly JsonSerializerOptions s_output = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>API tokens and their scheme, and the session notifier that pushes role changes to open circuits.</summary>
    public static IServiceCollection AddDashboardAuthAndApi(this IServiceCollection services)
    {
        services.AddSingleton<SessionNotifier>();
        services.AddScoped<ApiTokenService>();
        services.AddScoped<EngineRoleAdministration>();
        services.AddScoped<TwoFactorService>();
        services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.TwoFactorUserIdScheme).Configure<IOptions<DashboardOptions>>((o, d) =>
        {
            // Holds "password verified, second factor pending": same cookie rules as the session cookie (D5).
            var secure = !d.Value.AllowInsecureHttp;
            o.Cookie.Name = secure ? "__Host-dashboard-2fa" : "dashboard-2fa";
            o.Cookie.HttpOnly = true;
            o.Cookie.SecurePolicy = secure ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.Path = "/";
            o.ExpireTimeSpan = TimeSpan.FromMinutes(5);
        });

        // Every request re-checks the security stamp: "sign out everywhere" ends other cookies at once, not after
        // the default interval (security.md D5). One indexed read per request.
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.Zero);
        services.AddSingleton(TimeProvider.System);
        services.AddAntiforgery(o => o.HeaderName = AntiforgeryHeader);
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null)
            .AddPolicyScheme(ApiTokenAuthenticationHandler.ApiScheme, null, o =>
            {
                o.ForwardDefaultSelector = context => ApiTokenAuthenticationHandler.HasBearer(context.Request, out _)
                    ? ApiTokenAuthenticationHandler.SchemeName
                    : IdentityConstants.ApplicationScheme;

                // JSON 401/403 instead of the cookie's redirect to the sign-in page.
                o.ForwardChallenge = ApiTokenAuthenticationHandler.SchemeName;
                o.ForwardForbid = ApiTokenAuthenticationHandler.SchemeName;
            });
        return services;
    }

    public static void MapDashboardApi(this IEndpointRouteBuilder app)
    {
        var policy = new AuthorizationPolicyBuilder(ApiTokenAuthenticationHandler.ApiScheme).RequireAuthenticatedUser().Build();
        var api = app.MapGroup(Prefix).RequireAuthorization(policy).AddEndpointFilter(GuardAsync).DisableAntiforgery();

        api.MapGet("/antiforgery", (IAntiforgery antiforgery, HttpContext context) =>
        {
            var tokens = antiforgery.GetAndStoreTokens(context);
            return Results.Json(new { header = AntiforgeryHeader, token = tokens.RequestToken }, s_output);
        });

        api.MapGet("/tokens", async (ClaimsPrincipal user, ApiTokenService tokens, CancellationToken ct) =>
            Results.Json(await tokens.ListAsync(user, ct), s_output));
        api.MapPost("/tokens", async (HttpContext context, ApiTokenService tokens) =>
        {
            var body = await ReadAsync<ApiCreateToken>(context);
            var created = await tokens.CreateAsync(context.User, body.Name, body.ExpiresAt, context.RequestAborted);
            return Results.Json(new { created.Info.Id, created.Info.Name, created.Info.ExpiresAt, created.Token }, s_output, statusCode: StatusCodes.Status201Created);
        });
        api.MapDelete("/tokens/{id}", async (string id, ClaimsPrincipal user, ApiTokenService tokens, CancellationToken ct) =>
        {
            await tokens.RevokeAsync(user, id, ct);
            return Results.NoContent();
        });

        api.MapGet("/containers", async (string? engine, ClaimsPrincipal user, ActionAuthorizer authorizer, IEngineRegistry engines, CancellationToken ct) =>
        {
            var name = EngineName(engines, engine);
            await authorizer.EnsureAsync(user, DashboardAction.ViewContainers, $"containers on {name}", ct, name);
            return Results.Json(await engines.Get(name).ListContainersAsync(null, ct), s_output);
        });
        api.MapPost("/containers", async (HttpContext context, CreateActions create, IEngineRegistry engines) =>
        {
            var body = await ReadAsync<ApiCreateContainer>(context);
            var request = body.ToRequest();
            var name = EngineName(engines, body.Engine);
            var id = await create.CreateAsync(context.User, name, request, body.Pull, body.Start, context.RequestAborted);
            return Results.Json(new ApiCreated(id, name, body.Start), s_output, statusCode: StatusCodes.Status201Created);
        });
        foreach (var (verb, action) in new[] { ("start", ContainerAction.Start), ("stop", ContainerAction.Stop), ("restart", ContainerAction.Restart), ("kill", ContainerAction.Kill) })
        {
            api.MapPost($"/containers/{{id}}/{verb}", (string id, string? engine, ClaimsPrincipal user, ContainerActions actions, IEngineRegistry engines, CancellationToken ct) =>
                RunAsync(actions, user, EngineName(engines, engine), id, action, ct));
        }

        api.MapDelete("/containers/{id}", (string id, string? engine, ClaimsPrincipal user, ContainerActions actions, IEngineRegistry engines, CancellationToken ct) =>
            RunAsync(actions, user, EngineName(engines, engine), id, ContainerAction.Remove, ct));
        api.MapGet("/containers/{id}/logs", async (string id, string? engine, int? tail, ClaimsPrincipal user, ActionAuthorizer authorizer, IEngineRegistry engines, CancellationToken ct) =>
        {
            var name = EngineName(engines, engine);
            var target = $"container {name}/{id}";
            ContainerActions.ValidateId(id, target);
            await authorizer.EnsureAsync(user, DashboardAction.ViewLogs, target, ct, name);
            var lines = new List<LogLine>();
            await foreach (var batch in engines.Get(name).GetLogsAsync(id, Math.Clamp(tail ?? 100, 0, MaxLogTail), follow: false, ct))
            {
                lines.AddRange(batch);
            }

            return Results.Json(lines, s_output);
        });

        api.MapGet("/images", async (string? engine, ClaimsPrincipal user, ActionAuthorizer authorizer, IEngineRegistry engines, CancellationToken ct) =>
        {
            var name = EngineName(engines, engine);
            await authorizer.EnsureAsync(user, DashboardAction.ViewImages, $"images on {name}", ct, name);
            return Results.Json(await engines.Get(name).ListImagesAsync(ct), s_output);
        });
        api.MapPost("/images/pull", async (HttpContext context, ImageActions images, IEngineRegistry engines) =>
        {
            var body = await ReadAsync<ApiPullRequest>(context);
            var name = EngineName(engines, body.Engine);
            var last = "";
            await foreach (var batch in images.PullAsync(context.User, name, body.Image ?? "", context.RequestAborted))
            {
                if (batch.FirstOrDefault(p => p.Error is not null) is { } failed)
                {
                    throw new EngineException(EngineErrorKind.Internal, $"pull {body.Image}: {failed.Error}");
                }

                last = batch.Count > 0 ? batch[^1].Status : last;
            }

            return Results.Json(new ApiPulled(body.Image ?? "", name, last), s_output);
        });
    }

    private static async Task<IResult> RunAsync(ContainerActions actions, ClaimsPrincipal user, string engine, string id, ContainerAction action, CancellationToken ct)
    {
        await actions.RunAsync(user, engine, id, action, ct);
        return Results.NoContent();
    }

    private static string EngineName(IEngineRegistry engines, string? engine) =>
        string.IsNullOrEmpty(engine)
            ? engines.Names.Count > 0 ? engines.Names[0] : throw new EngineException(EngineErrorKind.Unavailable, "no engine configured")
            : engine;

    /// <summary>The whole body, at most <see cref="MaxBodyBytes"/>, whatever Content-Length or chunking says (D4).</summary>
    private static async Task<T> ReadAsync<T>(HttpContext context)
        where T : class
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                throw new BadHttpRequestException($"request body larger than {MaxBodyBytes} bytes", StatusCodes.Status413PayloadTooLarge);
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            throw new FormatException("request body: a JSON object is required");
        }

        try
        {
            return JsonSerializer.Deserialize<T>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), s_input)
                ?? throw new FormatException("request body: a JSON object is required");
        }
        catch (JsonException e)
        {
            throw new FormatException($"request body: {e.Message}", e);
        }
    }

    /// <summary>Antiforgery for cookie callers, and every failure as <c>{"message"}</c> with a fitting status.</summary>
    private static async ValueTask<object?> GuardAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        try
        {
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) &&
                !context.User.HasClaim(c => c.Type == ApiTokenService.TokenIdClaim))
            {
                // A cookie is ambient authority: another site could make the browser send it (security.md D6).
                var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
                if (!await antiforgery.IsRequestValidAsync(context))
                {
                    return Error(StatusCodes.Status400BadRequest, $"missing or invalid antiforgery token: send header {AntiforgeryHeader} from GET {Prefix}/antiforgery");
                }
            }

            return await next(invocation);
        }
        catch (DashboardForbiddenException e)
        {
            return Error(StatusCodes.Status403Forbidden, e.Message);
        }
        catch (EngineException e)
        {
            return Error(e.Kind switch
            {
                EngineErrorKind.NotFound => StatusCodes.Status404NotFound,
                EngineErrorKind.Conflict => StatusCodes.Status409Conflict,
                EngineErrorKind.InvalidRequest => StatusCodes.Status400BadRequest,
                EngineErrorKind.PermissionDenied => StatusCodes.Status403Forbidden,
                EngineErrorKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
                _ => StatusCodes.Status502BadGateway,
            }, e.Message);
        }
        catch (ApiTokenException e)
        {
            return Error(e.NotFound ? StatusCodes.Status404NotFound : StatusCodes.Status400BadRequest, e.Message);
        }
        catch (FormatException e)
        {
            return Error(StatusCodes.Status400BadRequest, e.Message);
        }
        catch (BadHttpRequestException e)
        {
            return Error(e.StatusCode, e.Message);
        }
    }

    private static IResult Error(int status, string message) => Results.Json(new ApiError(message), s_output, statusCode: status);
}
