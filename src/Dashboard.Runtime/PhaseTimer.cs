using System.Diagnostics;
using System.Globalization;

namespace Dashboard.Runtime;

/// <summary>
/// Opt-in timing of the create/start path (<c>DASHBOARD_RUNTIME_TIMING=1</c>): one stderr line per
/// phase with the CLOCK_MONOTONIC time in ms, so lines of the CLI and of init can be merged by time, and the
/// bytes this thread has allocated so far (each fresh page the GC hands out costs a page fault).
/// Used by tests/bench to explain where a <c>run</c> spends its time.
/// </summary>
public static class PhaseTimer
{
    public const string Variable = "DASHBOARD_RUNTIME_TIMING";

    private static readonly bool s_enabled = Environment.GetEnvironmentVariable(Variable) == "1";

    public static bool Enabled => s_enabled;

    public static void Mark(string phase)
    {
        if (!s_enabled)
        {
            return;
        }

        // Written to fd 2 directly: Console would start a signal-handling thread, and the runtime
        // only runs init in the clone child while it has no threads but the finalizer.
        var ms = Stopwatch.GetTimestamp() * 1000.0 / Stopwatch.Frequency;
        var line = System.Text.Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"timing {Linux.Native.Sys.GetPid()} {ms:F3} {phase} [alloc {GC.GetAllocatedBytesForCurrentThread()}]\n"));
        Linux.Native.Sys.WriteAll(2, line, "stderr");
    }
}
