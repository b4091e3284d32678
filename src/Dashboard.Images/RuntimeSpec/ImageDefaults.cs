using Dashboard.Linux.Fs;
using Dashboard.Oci.Image;

namespace Dashboard.Images.RuntimeSpec;

/// <summary>A port an image declares (<c>80/tcp</c>).</summary>
public readonly record struct ExposedPort(int Port, string Protocol);

/// <summary>
/// The image-config fields the engine uses outside config.json, validated (security.md B10):
/// volume paths must be absolute without <c>..</c> (containerd CVE-2022-23648), an unknown stop
/// signal falls back to SIGTERM, malformed port specs are dropped.
/// </summary>
public sealed record ImageDefaults(
    string StopSignal,
    IReadOnlyList<string> Volumes,
    IReadOnlyList<ExposedPort> ExposedPorts,
    IReadOnlyDictionary<string, string> Labels,
    HealthConfig? Healthcheck,
    IReadOnlyList<string> Warnings)
{
    private static readonly HashSet<string> s_signals = new(StringComparer.Ordinal)
    {
        "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV",
        "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN",
        "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
    };

    public static ImageDefaults From(ImageConfig image)
    {
        var config = image.Config ?? new ContainerConfig();
        var warnings = new List<string>();
        var stopSignal = NormalizeSignal(config.StopSignal);
        if (stopSignal is null)
        {
            if (config.StopSignal is not null)
            {
                warnings.Add($"ignored invalid StopSignal \"{config.StopSignal}\"");
            }

            stopSignal = "SIGTERM";
        }

        var volumes = new List<string>();
        foreach (var volume in config.Volumes?.Keys ?? Enumerable.Empty<string>())
        {
            if (!volume.StartsWith('/') || volume.Split('/').Contains("..") || volume.Contains('\0', StringComparison.Ordinal))
            {
                throw new ImageException(ImageErrorKind.InvalidSpec, $"image volume \"{volume}\" is not an absolute path without \"..\"");
            }

            var clean = "/" + SafeRoot.Clean(volume);
            if (clean == "/")
            {
                throw new ImageException(ImageErrorKind.InvalidSpec, "image volume \"/\" would hide the root filesystem");
            }

            if (!volumes.Contains(clean))
            {
                volumes.Add(clean);
            }
        }

        var ports = new List<ExposedPort>();
        foreach (var spec in config.ExposedPorts?.Keys ?? Enumerable.Empty<string>())
        {
            var slash = spec.IndexOf('/', StringComparison.Ordinal);
            var portText = slash < 0 ? spec : spec[..slash];
            var protocol = slash < 0 ? "tcp" : spec[(slash + 1)..].ToLowerInvariant();
            if (int.TryParse(portText, out var port) && port is > 0 and <= 65535 && protocol is "tcp" or "udp" or "sctp")
            {
                ports.Add(new ExposedPort(port, protocol));
            }
            else
            {
                warnings.Add($"ignored invalid exposed port \"{spec}\"");
            }
        }

        return new ImageDefaults(stopSignal, volumes, ports, config.Labels ?? new Dictionary<string, string>(), config.Healthcheck, warnings);
    }

    /// <summary>Canonical <c>SIGxxx</c> name, or <c>SIGRTMIN+n</c>/number forms the kernel has; null when unknown.</summary>
    public static string? NormalizeSignal(string? signal)
    {
        if (string.IsNullOrWhiteSpace(signal))
        {
            return null;
        }

        var upper = signal.Trim().ToUpperInvariant();
        if (int.TryParse(upper, out var number))
        {
            return number is >= 1 and <= 64 ? number.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        }

        if (!upper.StartsWith("SIG", StringComparison.Ordinal))
        {
            upper = "SIG" + upper;
        }

        return s_signals.Contains(upper) ? upper : null;
    }
}
