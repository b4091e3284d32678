using System.Threading.RateLimiting;
using Dashboard.Web.Api;
using Dashboard.Web.Components;
using Dashboard.Web.Engines;
using Dashboard.Web.Hubs;
using Dashboard.Web.Identity;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting.Systemd;
using MudBlazor.Services;

namespace Dashboard.Web.Hosting;

public static class WebApp
{
    /// <summary>Largest message a client may send to the circuit or a hub (security.md D11).</summary>
    public const long MaxReceiveMessageSize = 32 * 1024;

    /// <summary>Where the build copies wwwroot-assets/ (vendored xterm.js), next to the app.</summary>
    public const string VendorDirectory = "wwwroot-assets";

    public static WebApplication Build(string[] args)
    {
        var normalized = CommandLine.Normalize(args);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = normalized, ContentRootPath = PublishedContentRoot() });
        if (builder.Configuration["Dashboard:ConfigFile"] is { Length: > 0 } configFile)
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
            builder.Configuration.AddCommandLine(normalized);
        }

        AddServices(builder.Services, builder.Configuration);
        var app = builder.Build();
        Configure(app);
        return app;
    }

    /// <summary>
    /// A published app finds its wwwroot and appsettings.json next to itself, whatever the working directory of
    /// the service; otherwise the default (the working directory) applies.
    /// </summary>
    private static string? PublishedContentRoot() =>
        Directory.Exists(Path.Combine(AppContext.BaseDirectory, "wwwroot")) ? AppContext.BaseDirectory : null;

    /// <summary>
    /// systemd's readiness protocol (Type=notify) whenever systemd hands us a NOTIFY_SOCKET. AddSystemd alone decides
    /// by reading the parent's /proc/PID/comm, which the unit's ProtectProc=invisible hides from the dashboard user:
    /// the service then never reported ready and systemd restarted it after every start timeout.
    /// </summary>
    private static void AddSystemdNotify(IServiceCollection services)
    {
        services.AddSystemd();
        if (!SystemdHelpers.IsSystemdService() && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET")))
        {
            services.AddSingleton<ISystemdNotifier, SystemdNotifier>();
            services.AddSingleton<IHostLifetime, SystemdLifetime>();
        }
    }

    public static void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DashboardOptions>().Bind(configuration.GetSection(DashboardOptions.Section));
        AddSystemdNotify(services);

        services.AddDbContext<WebDbContext>((sp, o) =>
            o.UseSqlite($"Data Source={sp.GetRequiredService<IOptions<DashboardOptions>>().Value.DatabasePath}"));
        services.AddHostedService<DatabaseInitializer>();

        services.AddAuthentication(IdentityConstants.ApplicationScheme).AddIdentityCookies();
        services.AddIdentityCore<WebUser>()
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<WebDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();
        services.AddOptions<IdentityOptions>().Configure<IOptions<DashboardOptions>>((o, d) =>
        {
            o.Password.RequiredLength = 12;
            o.Password.RequiredUniqueChars = 5;
            o.Password.RequireDigit = false;
            o.Password.RequireLowercase = false;
            o.Password.RequireUppercase = false;
            o.Password.RequireNonAlphanumeric = false;
            o.Lockout.AllowedForNewUsers = true;
            o.Lockout.MaxFailedAccessAttempts = d.Value.MaxFailedAccessAttempts;
            o.Lockout.DefaultLockoutTimeSpan = d.Value.LockoutDuration;
            o.User.RequireUniqueEmail = false;
        });
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromMinutes(1));
        services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme).Configure<IOptions<DashboardOptions>>((o, d) =>
        {
            var secure = !d.Value.AllowInsecureHttp;

            // __Host- pins the cookie to this host, path / and Secure (security.md D5).
            o.Cookie.Name = secure ? "__Host-dashboard" : "dashboard";
            o.Cookie.HttpOnly = true;
            o.Cookie.SecurePolicy = secure ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.Path = "/";
            o.LoginPath = "/account/login";
            o.AccessDeniedPath = "/account/login";
            o.ReturnUrlParameter = "returnUrl";
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
        });
        services.AddAntiforgery();
        services.AddOptions<AntiforgeryOptions>().Configure<IOptions<DashboardOptions>>((o, d) =>
        {
            var secure = !d.Value.AllowInsecureHttp;
            o.Cookie.Name = secure ? "__Host-dashboard-af" : "dashboard-af";
            o.Cookie.SecurePolicy = secure ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
            o.Cookie.SameSite = SameSiteMode.Strict;
        });
        services.AddDataProtection()
            .SetApplicationName("dashboard-web")
            .Services.AddOptions<Microsoft.AspNetCore.DataProtection.KeyManagement.KeyManagementOptions>().Configure<IOptions<DashboardOptions>>((o, d) =>
                o.XmlRepository = new Microsoft.AspNetCore.DataProtection.Repositories.FileSystemXmlRepository(
                    new DirectoryInfo(Path.Combine(d.Value.DataDir, "keys")), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());

        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(AccountEndpoints.RateLimitPolicy, context =>
            {
                var limit = context.RequestServices.GetRequiredService<IOptions<DashboardOptions>>().Value.LoginAttemptsPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter(
                    context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = limit, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
            });
        });

        services.AddRazorComponents()
            .AddInteractiveServerComponents(o =>
            {
                o.DetailedErrors = false;
                o.DisconnectedCircuitMaxRetained = 50;
                o.DisconnectedCircuitRetentionPeriod = TimeSpan.FromMinutes(1);
                o.MaxBufferedUnacknowledgedRenderBatches = 10;
            })
            .AddHubOptions(o => o.MaximumReceiveMessageSize = MaxReceiveMessageSize);
        services.AddSignalR(o =>
        {
            o.MaximumReceiveMessageSize = MaxReceiveMessageSize;
            o.EnableDetailedErrors = false;
        });
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, RevalidatingIdentityStateProvider>();
        // Bottom-right: at the top right the snackbar would cover the container action buttons after each action.
        services.AddMudServices(o => o.SnackbarConfiguration.PositionClass = MudBlazor.Defaults.Classes.Position.BottomRight);

        services.AddSingleton<IEngineRegistry>(sp =>
        {
            var configured = sp.GetRequiredService<IOptions<DashboardOptions>>().Value.Engines;
            var endpoints = (configured.Count == 0 ? ["unix:///run/dashboard/engine.sock"] : configured)
                .Select(EngineEndpoint.Parse)
                .ToList();
            return new EngineRegistry(endpoints.Select(e => KeyValuePair.Create(e.Name, (IEngineClient)new DockerEngineClient(e))));
        });
        services.AddSingleton<IAuditLog, MemoryAuditLog>();
        services.AddSingleton<Logs.LogFollowService>();
        services.AddScoped<IUserAccessSource, IdentityUserAccessSource>();
        services.AddScoped<ActionAuthorizer>();
        services.AddScoped<ContainerActions>();
        services.AddScoped<ImageActions>();
        services.AddScoped<RegistryActions>();
        services.AddScoped<UserAdministration>();
        services.AddScoped<ExecActions>();
        services.AddScoped<CreateActions>();
        services.AddScoped<BootstrapService>();
        services.AddScoped<IBootstrapStatus>(sp => sp.GetRequiredService<BootstrapService>());
        services.AddDashboardAuthAndApi();
        services.AddScoped<Model.BackupService>();
        services.AddScoped<Model.ResourceActions>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddScoped<RemoteEngineService>();

        // After DatabaseInitializer: hosted services start in registration order.
        services.AddHostedService<RemoteEngineLoader>();
        Alerts.AlertServiceCollectionExtensions.AddAlerts(services, configuration);
    }

    public static void Configure(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseMiddleware<SecurityHeadersMiddleware>();
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error", createScopeForErrors: true);
            app.UseHsts();
        }

        app.UseMiddleware<OriginCheckMiddleware>();
        var vendor = Path.Combine(AppContext.BaseDirectory, VendorDirectory);
        if (Directory.Exists(vendor))
        {
            app.UseStaticFiles(new StaticFileOptions { FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(vendor), RequestPath = "/vendor" });
        }

        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseAntiforgery();

        app.MapStaticAssets().AllowAnonymous();
        app.MapGet("/healthz", () => Results.Text("ok")).AllowAnonymous();
        app.MapHealthEndpoints();
        app.HoldDataDirLock();
        app.Map("/error", () => Results.Problem("internal error")).AllowAnonymous();
        app.MapAccountEndpoints();
        app.MapGet("/audit.csv", async (HttpContext context, ActionAuthorizer authorizer, IAuditLog audit) =>
        {
            try
            {
                await authorizer.EnsureAsync(context.User, DashboardAction.ViewAudit, "audit log", context.RequestAborted);
            }
            catch (DashboardForbiddenException)
            {
                return Results.Forbid();
            }

            return Results.File(System.Text.Encoding.UTF8.GetBytes(AuditCsv.Write(audit.Recent(100_000))), "text/csv", "audit.csv");
        });
        app.MapDashboardApi();
        app.MapHub<ContainersHub>(ContainersHub.Path);
        Model.BackupDownloads.MapBackupDownloads(app);
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
    }
}
