using System.Globalization;
using Dashboard.Web.Engines;

namespace Dashboard.Web.Model;

/// <summary>
/// The create/edit/clone form as the user types it (strings, one item per line). <see cref="ToRequest"/> parses it into
/// the engine request the policy then judges; <see cref="FromRequest"/> fills it from an existing container.
/// </summary>
public sealed class ContainerForm
{
    public string Image { get; set; } = "";

    public bool Pull { get; set; }

    public string Name { get; set; } = "";

    public string Command { get; set; } = "";

    public string Entrypoint { get; set; } = "";

    /// <summary>KEY=VALUE per line.</summary>
    public string Env { get; set; } = "";

    /// <summary>KEY=VALUE per line.</summary>
    public string Labels { get; set; } = "";

    /// <summary><c>[ip:]host:container[/proto]</c> or <c>container[/proto]</c> per line.</summary>
    public string Ports { get; set; } = "";

    /// <summary><c>source:target[:ro]</c> per line; a source starting with / or . is a host path (bind mount).</summary>
    public string Volumes { get; set; } = "";

    public string MemoryMiB { get; set; } = "";

    public string Cpus { get; set; } = "";

    public string PidsLimit { get; set; } = "";

    public string RestartPolicy { get; set; } = "no";

    public string RestartMaxRetries { get; set; } = "";

    public string HealthCommand { get; set; } = "";

    public string HealthIntervalSeconds { get; set; } = "";

    public string HealthTimeoutSeconds { get; set; } = "";

    public string HealthRetries { get; set; } = "";

    public string Network { get; set; } = "";

    public string User { get; set; } = "";

    /// <summary>Capabilities separated by spaces or commas.</summary>
    public string CapAdd { get; set; } = "";

    public string CapDrop { get; set; } = "";

    public bool ReadOnlyRootfs { get; set; }

    public bool Tty { get; set; }

    public bool Privileged { get; set; }

    public string PidMode { get; set; } = "";

    public string IpcMode { get; set; } = "";

    public string UtsMode { get; set; } = "";

    /// <summary><c>/dev/host[:/dev/container[:rwm]]</c> per line.</summary>
    public string Devices { get; set; } = "";

    public string SecurityOpt { get; set; } = "";

    public static IReadOnlyList<string> RestartPolicies { get; } = ["no", "always", "unless-stopped", "on-failure"];

    /// <summary>The request, or the list of field errors (each names its field) when the form does not parse.</summary>
    public (ContainerCreateRequest? Request, IReadOnlyList<string> Errors) ToRequest()
    {
        var errors = new List<string>();
        T? Try<T>(string field, Func<T> parse)
        {
            try
            {
                return parse();
            }
            catch (FormatException e)
            {
                errors.Add($"{field}: {e.Message}");
                return default;
            }
        }

        var image = Image.Trim();
        if (image.Length == 0)
        {
            errors.Add("image: required");
        }

        var name = Name.Trim();
        if (name.Length > 0 && !(char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')))
        {
            errors.Add("name: letters, digits, _ . - only, starting with a letter or digit");
        }

        if (!RestartPolicies.Contains(RestartPolicy))
        {
            errors.Add($"restart policy: unknown {RestartPolicy}");
        }

        var command = Try("command", () => ShellWords.Split(Command));
        var entrypoint = Try("entrypoint", () => ShellWords.Split(Entrypoint));
        var env = Lines(Env).ToList();
        foreach (var e in env.Where(e => e.IndexOf('=', StringComparison.Ordinal) <= 0))
        {
            errors.Add($"env: {e}: expected KEY=VALUE");
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in Lines(Labels))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                errors.Add($"labels: {line}: expected KEY=VALUE");
            }
            else
            {
                labels[line[..eq]] = line[(eq + 1)..];
            }
        }

        var ports = Lines(Ports).Select(l => Try("ports", () => ParsePort(l))).Where(p => p is not null).Select(p => p!).ToList();
        var mounts = Lines(Volumes).Select(l => Try("volumes", () => ParseMount(l))).Where(m => m is not null).Select(m => m!).ToList();
        var devices = Lines(Devices).Select(l => Try("devices", () => ParseDevice(l))).Where(d => d is not null).Select(d => d!).ToList();
        var memory = Try("memory", () => OptionalLong(MemoryMiB, 4, 1L << 30));
        var cpus = Try("cpus", () => OptionalDouble(Cpus, 0.01, 1024));
        var pids = Try("pids limit", () => OptionalLong(PidsLimit, 1, 1L << 22));
        var retries = Try("restart retries", () => OptionalLong(RestartMaxRetries, 0, 1000));
        HealthSpec? health = null;
        if (HealthCommand.Trim().Length > 0)
        {
            var interval = Try("health interval", () => OptionalDouble(HealthIntervalSeconds, 1, 86400));
            var timeout = Try("health timeout", () => OptionalDouble(HealthTimeoutSeconds, 1, 86400));
            var healthRetries = Try("health retries", () => OptionalLong(HealthRetries, 1, 100));
            health = new HealthSpec(["CMD-SHELL", HealthCommand.Trim()],
                interval is { } i ? TimeSpan.FromSeconds(i) : null, timeout is { } t ? TimeSpan.FromSeconds(t) : null, (int?)healthRetries);
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        return (new ContainerCreateRequest
        {
            Image = image,
            Name = name.Length == 0 ? null : name,
            Command = command is { Count: > 0 } ? command : null,
            Entrypoint = entrypoint is { Count: > 0 } ? entrypoint : null,
            Env = env,
            Labels = labels,
            Ports = ports,
            Mounts = mounts,
            MemoryBytes = memory * 1024 * 1024,
            NanoCpus = cpus is { } c ? (long)Math.Round(c * 1e9) : null,
            PidsLimit = pids,
            RestartPolicy = RestartPolicy,
            RestartMaxRetries = (int)(retries ?? 0),
            Health = health,
            NetworkMode = Blank(Network),
            User = Blank(User),
            CapAdd = Words(CapAdd),
            CapDrop = Words(CapDrop),
            ReadOnlyRootfs = ReadOnlyRootfs,
            Tty = Tty,
            Privileged = Privileged,
            PidMode = Blank(PidMode),
            IpcMode = Blank(IpcMode),
            UtsMode = Blank(UtsMode),
            Devices = devices,
            SecurityOpt = Lines(SecurityOpt).ToList(),
        }, []);
    }

    /// <summary>Pre-fills the form from an existing container; <paramref name="keepName"/> is false for a clone.</summary>
    public static ContainerForm FromRequest(ContainerCreateRequest request, bool keepName)
    {
        ArgumentNullException.ThrowIfNull(request);
        var ci = CultureInfo.InvariantCulture;
        return new ContainerForm
        {
            Image = request.Image,
            Name = keepName ? request.Name ?? "" : "",
            Command = request.Command is { } c ? ShellWords.Join(c) : "",
            Entrypoint = request.Entrypoint is { } e ? ShellWords.Join(e) : "",
            Env = string.Join('\n', request.Env),
            Labels = string.Join('\n', request.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")),
            Ports = string.Join('\n', request.Ports.Select(p =>
                (p.HostPort is { } hp ? (p.HostIp is { Length: > 0 } ip ? $"{ip}:{hp}:" : $"{hp}:") : "") + $"{p.ContainerPort}/{p.Protocol}")),
            Volumes = string.Join('\n', request.Mounts.Select(m => $"{m.Source}:{m.Target}{(m.ReadOnly ? ":ro" : "")}")),
            MemoryMiB = request.MemoryBytes is { } mem ? (mem / (1024 * 1024)).ToString(ci) : "",
            Cpus = request.NanoCpus is { } n ? (n / 1e9).ToString("0.###", ci) : "",
            PidsLimit = request.PidsLimit?.ToString(ci) ?? "",
            RestartPolicy = RestartPolicies.Contains(request.RestartPolicy) ? request.RestartPolicy : "no",
            RestartMaxRetries = request.RestartMaxRetries > 0 ? request.RestartMaxRetries.ToString(ci) : "",
            HealthCommand = request.Health is { Test.Count: > 0 } h
                ? (h.Test[0] == "CMD-SHELL" ? string.Join(' ', h.Test.Skip(1)) : ShellWords.Join(h.Test.Skip(h.Test[0] == "CMD" ? 1 : 0)))
                : "",
            HealthIntervalSeconds = request.Health?.Interval?.TotalSeconds.ToString(ci) ?? "",
            HealthTimeoutSeconds = request.Health?.Timeout?.TotalSeconds.ToString(ci) ?? "",
            HealthRetries = request.Health?.Retries?.ToString(ci) ?? "",
            Network = request.NetworkMode ?? "",
            User = request.User ?? "",
            CapAdd = string.Join(' ', request.CapAdd),
            CapDrop = string.Join(' ', request.CapDrop),
            ReadOnlyRootfs = request.ReadOnlyRootfs,
            Tty = request.Tty,
            Privileged = request.Privileged,
            PidMode = request.PidMode ?? "",
            IpcMode = request.IpcMode ?? "",
            UtsMode = request.UtsMode ?? "",
            Devices = string.Join('\n', request.Devices.Select(d => $"{d.PathOnHost}:{d.PathInContainer}:{d.Permissions}")),
            SecurityOpt = string.Join('\n', request.SecurityOpt),
        };
    }

    public static PortPublish ParsePort(string spec)
    {
        var s = spec.Trim();
        var proto = "tcp";
        var slash = s.LastIndexOf('/');
        if (slash >= 0)
        {
            proto = s[(slash + 1)..].ToLowerInvariant();
            s = s[..slash];
            if (proto is not ("tcp" or "udp" or "sctp"))
            {
                throw new FormatException($"{spec}: protocol must be tcp, udp or sctp");
            }
        }

        var parts = s.Split(':');
        return parts.Length switch
        {
            1 => new PortPublish(Port(parts[0], spec), proto, null, null),
            2 => new PortPublish(Port(parts[1], spec), proto, null, Port(parts[0], spec)),
            3 => new PortPublish(Port(parts[2], spec), proto, parts[0].Trim('[', ']'), Port(parts[1], spec)),
            _ => throw new FormatException($"{spec}: expected [ip:]host:container[/proto]"),
        };
    }

    public static MountSpec ParseMount(string spec)
    {
        var parts = spec.Trim().Split(':');
        if (parts.Length is < 2 or > 3 || parts[0].Length == 0 || !parts[1].StartsWith('/'))
        {
            throw new FormatException($"{spec}: expected source:/target[:ro]");
        }

        var readOnly = parts.Length == 3 && parts[2] switch
        {
            "ro" => true,
            "rw" => false,
            _ => throw new FormatException($"{spec}: mode must be ro or rw"),
        };
        var bind = parts[0].StartsWith('/') || parts[0].StartsWith('.') || parts[0].StartsWith('~');
        return new MountSpec(bind ? "bind" : "volume", parts[0], parts[1], readOnly);
    }

    public static DeviceSpec ParseDevice(string spec)
    {
        var parts = spec.Trim().Split(':');
        if (parts.Length is < 1 or > 3 || !parts[0].StartsWith('/'))
        {
            throw new FormatException($"{spec}: expected /dev/host[:/dev/container[:rwm]]");
        }

        return new DeviceSpec(parts[0], parts.Length > 1 ? parts[1] : parts[0], parts.Length > 2 ? parts[2] : "rwm");
    }

    private static int Port(string text, string spec) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and <= 65535
            ? p
            : throw new FormatException($"{spec}: port must be 1-65535");

    private static long? OptionalLong(string text, long min, long max)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
            ? v
            : throw new FormatException($"expected a whole number from {min} to {max}");
    }

    private static double? OptionalDouble(string text, double min, double max)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return double.TryParse(text.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
            ? v
            : throw new FormatException($"expected a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}");
    }

    private static IEnumerable<string> Lines(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0);

    private static List<string> Words(string text) =>
        [.. text.Split([' ', ',', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private static string? Blank(string text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
