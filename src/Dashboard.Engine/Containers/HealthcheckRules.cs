using Dashboard.Engine.Api;

namespace Dashboard.Engine.Containers;

/// <summary>A health check with Docker's defaults applied (moby daemon/health.go).</summary>
public sealed record HealthcheckSettings(
    IReadOnlyList<string> Command,
    TimeSpan Interval,
    TimeSpan Timeout,
    int Retries,
    TimeSpan StartPeriod,
    TimeSpan StartInterval);

/// <summary>Docker's <c>Config.Healthcheck</c>: <c>["NONE"]</c>, <c>["CMD", arg…]</c>, <c>["CMD-SHELL", "command"]</c>; durations in nanoseconds, 0 = default.</summary>
public static class HealthcheckRules
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultStartInterval = TimeSpan.FromSeconds(5);
    public const int DefaultRetries = 3;
    private const long MinimumNanoseconds = 1_000_000;

    /// <summary>moby <c>validateHealthCheck</c>: durations of at least 1 ms, retries not negative, a known test type.</summary>
    public static void Validate(HealthConfig? config)
    {
        if (config is null)
        {
            return;
        }

        static void Duration(long value, string field)
        {
            if (value < 0 || (value != 0 && value < MinimumNanoseconds))
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"{field} in Healthcheck cannot be less than 1ms");
            }
        }

        Duration(config.Interval, "Interval");
        Duration(config.Timeout, "Timeout");
        Duration(config.StartPeriod, "StartPeriod");
        Duration(config.StartInterval, "StartInterval");
        if (config.Retries < 0)
        {
            throw new EngineException(ErrorKind.InvalidArgument, "Retries in Healthcheck cannot be negative");
        }

        switch (config.Test)
        {
            case null or []:
            case ["NONE"]:
                return;
            case ["CMD", _, ..]:
                return;
            case ["CMD-SHELL", _, ..]:
                return;
            case ["NONE", ..]:
                throw new EngineException(ErrorKind.InvalidArgument, "Healthcheck NONE takes no arguments");
            default:
                throw new EngineException(ErrorKind.InvalidArgument, $"unknown Healthcheck type '{config.Test[0]}': use CMD, CMD-SHELL or NONE, followed by the command");
        }
    }

    /// <summary>The effective check of a container, or null when it has none (or NONE).</summary>
    public static HealthcheckSettings? Resolve(HealthConfig? config)
    {
        if (config?.Test is not [var kind, .. var rest] || kind == "NONE" || rest.Count == 0)
        {
            return null;
        }

        List<string> command = kind switch
        {
            "CMD" => rest,
            "CMD-SHELL" => ["/bin/sh", "-c", string.Join(' ', rest)],
            _ => [],
        };
        if (command.Count == 0)
        {
            return null;
        }

        static TimeSpan Or(long nanoseconds, TimeSpan fallback) => nanoseconds > 0 ? TimeSpan.FromTicks(nanoseconds / 100) : fallback;
        return new HealthcheckSettings(
            command,
            Or(config.Interval, DefaultInterval),
            Or(config.Timeout, DefaultTimeout),
            config.Retries > 0 ? config.Retries : DefaultRetries,
            Or(config.StartPeriod, TimeSpan.Zero),
            Or(config.StartInterval, DefaultStartInterval));
    }
}
