using System.Diagnostics;

namespace Dashboard.Testing;

/// <summary>
/// Host bridges of a real engine a test started. The engine keeps its default bridge up after it stops (as
/// docker0) and records every bridge it made in <c>STATE_ROOT/bridges/</c>; a test that starts an engine removes
/// them when it is done, as uninstall does. Shared by test projects that do not reference Dashboard.Engine.
/// </summary>
public static class EngineBridges
{
    /// <summary>Deletes the <c>dbr-*</c> links recorded under <paramref name="stateRoot"/> (the engine has stopped); returns the names deleted.</summary>
    public static IReadOnlyList<string> Remove(string stateRoot)
    {
        var dir = Path.Combine(stateRoot, "bridges");
        var removed = new List<string>();
        foreach (var file in Directory.Exists(dir) ? Directory.GetFiles(dir, "dbr-*") : [])
        {
            var bridge = Path.GetFileName(file);
            if (Directory.Exists("/sys/class/net/" + bridge))
            {
                using var ip = Process.Start(new ProcessStartInfo("ip", ["link", "delete", bridge]) { UseShellExecute = false, RedirectStandardError = true })!;
                ip.StandardError.ReadToEnd();
                if (ip.WaitForExit(10_000) && ip.ExitCode == 0)
                {
                    removed.Add(bridge);
                }
            }

            File.Delete(file);
        }

        return removed;
    }
}
