using Dashboard.Engine.Api;

namespace Dashboard.Engine.Containers;

/// <summary>
/// Docker's restart policies (<c>no</c>, <c>on-failure[:N]</c>, <c>always</c>, <c>unless-stopped</c>)
/// and the decision moby's restartmanager makes after each exit.
/// </summary>
public static class RestartPolicyRules
{
    /// <summary>Validates the policy of a create body, as moby's <c>validateRestartPolicy</c> does.</summary>
    public static void Validate(RestartPolicy? policy, bool autoRemove)
    {
        var name = policy?.Name ?? "";
        switch (name)
        {
            case "" or "no":
                if (policy is { MaximumRetryCount: not 0 })
                {
                    throw new EngineException(ErrorKind.InvalidArgument, $"invalid restart policy: maximum retry count can only be used with 'on-failure'");
                }

                return;
            case "always" or "unless-stopped":
                if (policy!.MaximumRetryCount != 0)
                {
                    throw new EngineException(ErrorKind.InvalidArgument, $"invalid restart policy: maximum retry count can only be used with 'on-failure'");
                }

                break;
            case "on-failure":
                if (policy!.MaximumRetryCount < 0)
                {
                    throw new EngineException(ErrorKind.InvalidArgument, "invalid restart policy: maximum retry count cannot be negative");
                }

                break;
            default:
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid restart policy: unknown policy '{name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
        }

        if (autoRemove)
        {
            throw new EngineException(ErrorKind.InvalidArgument, "conflicting options: cannot specify both --restart and --rm");
        }
    }

    /// <summary>
    /// Whether a container that exited with <paramref name="exitCode"/> is started again (moby
    /// restartmanager <c>ShouldRestart</c>): <c>always</c> restarts unless stopped through the API while the
    /// engine runs; <c>unless-stopped</c> also not after an engine restart once stopped by hand;
    /// <c>on-failure</c> on a non-zero code while fewer than N restarts were made (0 = no limit).
    /// </summary>
    public static bool ShouldRestart(RestartPolicy? policy, int exitCode, bool manuallyStopped, int restartCount) =>
        (policy?.Name ?? "") switch
        {
            "always" => true,
            "unless-stopped" => !manuallyStopped,
            "on-failure" => exitCode != 0 && (policy!.MaximumRetryCount == 0 || restartCount < policy.MaximumRetryCount),
            _ => false,
        };
}

/// <summary>
/// The delay before each restart (moby restartmanager): 100 ms, doubled after every exit, capped at one
/// minute, and back to 100 ms once the container has run for 10 s.
/// </summary>
public sealed class RestartBackoff
{
    public static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan Max = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan ResetAfter = TimeSpan.FromSeconds(10);

    private TimeSpan _current = TimeSpan.Zero;

    /// <summary>The delay before the next start of a container that ran for <paramref name="ranFor"/>.</summary>
    public TimeSpan Next(TimeSpan ranFor)
    {
        if (ranFor >= ResetAfter)
        {
            _current = TimeSpan.Zero;
        }

        _current = _current == TimeSpan.Zero ? Initial : _current < Max ? _current * 2 : _current;
        if (_current > Max)
        {
            _current = Max;
        }

        return _current;
    }
}
