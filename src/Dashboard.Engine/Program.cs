using Dashboard.Engine;
using Dashboard.Engine.Hosting;

if (BackupCommand.IsCommand(args))
{
    return await BackupCommand.RunAsync(args);
}

EngineOptions options;
try
{
    options = EngineOptions.Parse(args);
}
catch (EngineException e)
{
    Console.Error.WriteLine($"dashboard-engine: {e.Message}");
    Console.Error.WriteLine("Try 'dashboard-engine --help'.");
    return 2;
}

if (options.ShowHelp)
{
    Console.WriteLine(EngineOptions.Usage);
    return 0;
}

// The diagnostic port is configured before Main runs, by environment only (runtimeconfig knobs do not
// reach it); a root engine with it open hands every local root-equivalent a debugger (security.md A14).
var diagnostics = Environment.GetEnvironmentVariable("DOTNET_EnableDiagnostics") ?? Environment.GetEnvironmentVariable("COMPlus_EnableDiagnostics");
if (diagnostics != "0" && Environment.IsPrivilegedProcess && !options.AllowDiagnostics)
{
    Console.Error.WriteLine("dashboard-engine: refusing to run as root with the .NET diagnostic port enabled: set DOTNET_EnableDiagnostics=0 in the environment (the systemd unit does), or pass --allow-diagnostics for debugging");
    return 1;
}

try
{
    PendingRestore restore;
    await using (var app = EngineHost.Build(options))
    {
        await EngineHost.StartAsync(app);
        await app.WaitForShutdownAsync();
        await app.StopAsync();
        restore = app.Services.GetRequiredService<PendingRestore>();
    }

    // Returns only when no restore was asked for; otherwise this process becomes the restarted engine.
    restore.ApplyAndReexecute(options, Console.Error);
    return 0;
}
catch (EngineException e)
{
    Console.Error.WriteLine($"dashboard-engine: {e.Message}");
    return 1;
}
