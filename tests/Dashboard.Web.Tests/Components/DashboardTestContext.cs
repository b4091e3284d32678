using Bunit;
using Bunit.TestDoubles;
using Dashboard.Web.Alerts;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor;
using MudBlazor.Services;

namespace Dashboard.Web.Tests.Components;

/// <summary>A bUnit context wired like the app, with the engine and the user store replaced by fakes.</summary>
public abstract class DashboardTestContext : BunitContext
{
    protected DashboardTestContext(Action<IServiceCollection>? configure = null, bool popoverProvider = true)
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IEngineRegistry>(new EngineRegistry([KeyValuePair.Create("local", (IEngineClient)Engine)]));
        Services.AddSingleton<IUserAccessSource>(Access);
        Services.AddSingleton<IAuditLog>(Audit);
        Services.AddSingleton(Follows);
        Services.AddScoped<ActionAuthorizer>();
        Services.AddScoped<ContainerActions>();
        Services.AddScoped<ImageActions>();
        Services.AddScoped<RegistryActions>();
        Services.AddScoped<ExecActions>();
        Services.AddSingleton<IAlertStore>(AlertStore);
        Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new AlertOptions()));
        Services.AddSingleton<WebhookSender>(sp => new WebhookSender(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<AlertOptions>>(), NullLogger<WebhookSender>.Instance));
        Services.AddSingleton<AlertService>(sp => new AlertService(
            sp.GetRequiredService<IEngineRegistry>(), AlertStore, sp.GetRequiredService<WebhookSender>(),
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<AlertOptions>>(), NullLogger<AlertService>.Instance));
        Services.AddScoped<AlertActions>();
        Services.AddScoped<Dashboard.Web.Model.ResourceActions>();
        Auth = AddAuthorization();
        Auth.SetAuthorized("alice");
        configure?.Invoke(Services);

        // Reading Renderer builds the service provider, so this comes after every registration.
        Renderer.SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));
        if (popoverProvider)
        {
            Render<MudPopoverProvider>();
        }
    }

    protected FakeEngineClient Engine { get; } = new();

    protected Dashboard.Web.Logs.LogFollowService Follows { get; } = new();

    protected FakeUserAccessSource Access { get; } = new(Roles.Viewer);

    protected MemoryAlertStore AlertStore { get; } = new();

    protected MemoryAuditLog Audit { get; } = new(NullLogger<MemoryAuditLog>.Instance);

    protected BunitAuthorizationContext Auth { get; }

    protected static readonly TimeSpan Wait = Eventually.Timeout;

    /// <summary>Polls a condition that no render signals (background subscriptions).</summary>
    protected static void WaitUntil(Func<bool> condition) => Eventually.Until(condition);
}
