using System.Diagnostics;
using System.Text;

namespace Dashboard.Engine.Hosting;

/// <summary>
/// Where an API operation's time goes, for tests/bench/engine-api.sh: with <c>DASHBOARD_ENGINE_TIMING=1</c> each
/// timed operation logs its phases in milliseconds; otherwise every call is a no-op on a null timer.
/// </summary>
public sealed class PhaseTimer
{
    private static readonly bool s_enabled = Environment.GetEnvironmentVariable("DASHBOARD_ENGINE_TIMING") == "1";

    private readonly string _operation;
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly StringBuilder _phases = new();
    private long _last;

    private PhaseTimer(string operation)
    {
        _operation = operation;
        _last = _start;
    }

    /// <summary>A timer when timing is enabled, else null (use with <c>?.</c>).</summary>
    public static PhaseTimer? Start(string operation) => s_enabled ? new PhaseTimer(operation) : null;

    public void Mark(string phase)
    {
        var now = Stopwatch.GetTimestamp();
        _phases.Append(System.Globalization.CultureInfo.InvariantCulture, $" {phase}={Stopwatch.GetElapsedTime(_last, now).TotalMilliseconds:F2}");
        _last = now;
    }

    public void Log(ILogger log) =>
        log.LogInformation("timing {Operation}: total={Total:F2}{Phases}", _operation, Stopwatch.GetElapsedTime(_start).TotalMilliseconds, _phases.ToString());
}
