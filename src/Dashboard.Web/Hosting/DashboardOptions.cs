namespace Dashboard.Web.Hosting;

/// <summary>The <c>Dashboard</c> configuration section (command line, <c>--config FILE</c>, environment).</summary>
public sealed class DashboardOptions
{
    public const string Section = "Dashboard";

    public string DataDir { get; set; } = "/var/lib/dashboard/web";

    /// <summary><c>unix:///path/engine.sock</c> or <c>NAME=URI</c>, in order; the first is the default engine.</summary>
    public List<string> Engines { get; set; } = [];

    public string? BootstrapSecretFile { get; set; }

    /// <summary>Origins allowed to open the Blazor circuit and hubs besides the page's own origin.</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>Login/setup posts allowed per client address per minute.</summary>
    public int LoginAttemptsPerMinute { get; set; } = 10;

    public int MaxFailedAccessAttempts { get; set; } = 5;

    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often an open circuit re-checks the user's security stamp (role changes, sign-out everywhere).</summary>
    public TimeSpan RevalidationInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Serve sign-in over plain HTTP (cookies without Secure). Only for a loopback address during development or
    /// behind a TLS-terminating proxy on the same host; everything else must use HTTPS.
    /// </summary>
    public bool AllowInsecureHttp { get; set; }

    public string DatabasePath => Path.Combine(DataDir, "web.db");
}
