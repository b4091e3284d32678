using Dashboard.Web.Engines;
using Dashboard.Web.Model;

namespace Dashboard.Web.Api;

/// <summary>A long-syntax mount (<c>--mount</c>); the create policy sees it exactly like a <c>-v</c> bind.</summary>
public sealed class ApiMount
{
    public string Type { get; set; } = "volume";

    public string Source { get; set; } = "";

    public string Target { get; set; } = "";

    public bool ReadOnly { get; set; }
}

/// <summary>
/// <c>POST /api/containers</c>. Parsed strictly (unknown fields and duplicate keys are refused, security.md D4), turned
/// into one <see cref="ContainerCreateRequest"/>, and that same instance is what the policy checks and the engine gets.
/// </summary>
public sealed class ApiCreateContainer
{
    public string? Engine { get; set; }

    public string? Image { get; set; }

    public string? Name { get; set; }

    public List<string>? Cmd { get; set; }

    public List<string>? Entrypoint { get; set; }

    public List<string>? Env { get; set; }

    public Dictionary<string, string>? Labels { get; set; }

    /// <summary><c>[ip:]host:container[/proto]</c> or <c>container[/proto]</c>, as <c>docker run -p</c>.</summary>
    public List<string>? Ports { get; set; }

    /// <summary><c>source:/target[:ro]</c>, as <c>docker run -v</c>.</summary>
    public List<string>? Volumes { get; set; }

    public List<ApiMount>? Mounts { get; set; }

    /// <summary><c>/dev/host[:/dev/container[:rwm]]</c>.</summary>
    public List<string>? Devices { get; set; }

    public long? MemoryBytes { get; set; }

    public double? Cpus { get; set; }

    public long? PidsLimit { get; set; }

    public string? RestartPolicy { get; set; }

    public int RestartMaxRetries { get; set; }

    public string? NetworkMode { get; set; }

    public string? User { get; set; }

    public List<string>? CapAdd { get; set; }

    public List<string>? CapDrop { get; set; }

    public bool ReadOnlyRootfs { get; set; }

    public bool Tty { get; set; }

    public bool Privileged { get; set; }

    public string? PidMode { get; set; }

    public string? IpcMode { get; set; }

    public string? UtsMode { get; set; }

    public List<string>? SecurityOpt { get; set; }

    /// <summary>Pull the image first (needs the pull permission too).</summary>
    public bool Pull { get; set; }

    public bool Start { get; set; }

    /// <summary>The engine-neutral request; <see cref="FormatException"/> names the first invalid field.</summary>
    public ContainerCreateRequest ToRequest()
    {
        if (string.IsNullOrWhiteSpace(Image))
        {
            throw new FormatException("image: required");
        }

        if (RestartPolicy is { } policy && !ContainerForm.RestartPolicies.Contains(policy))
        {
            throw new FormatException($"restartPolicy {policy}: expected one of {string.Join(", ", ContainerForm.RestartPolicies)}");
        }

        if (Cpus is { } cpus && (cpus <= 0 || cpus > 1024))
        {
            throw new FormatException("cpus: expected a number above 0 and at most 1024");
        }

        var mounts = (Volumes ?? []).Select(ContainerForm.ParseMount).ToList();
        foreach (var m in Mounts ?? [])
        {
            var type = (m.Type ?? "").Trim().ToLowerInvariant();
            if (type is not ("bind" or "volume") || m.Source.Length == 0 || !m.Target.StartsWith('/'))
            {
                throw new FormatException($"mount {m.Source}:{m.Target}: expected type bind or volume, a source and an absolute target");
            }

            mounts.Add(new MountSpec(type, m.Source, m.Target, m.ReadOnly));
        }

        return new ContainerCreateRequest
        {
            Image = Image.Trim(),
            Name = string.IsNullOrWhiteSpace(Name) ? null : Name.Trim(),
            Command = Cmd is { Count: > 0 } ? Cmd : null,
            Entrypoint = Entrypoint is { Count: > 0 } ? Entrypoint : null,
            Env = Env ?? [],
            Labels = Labels ?? new Dictionary<string, string>(StringComparer.Ordinal),
            Ports = (Ports ?? []).Select(ContainerForm.ParsePort).ToList(),
            Mounts = mounts,
            Devices = (Devices ?? []).Select(ContainerForm.ParseDevice).ToList(),
            MemoryBytes = MemoryBytes,
            NanoCpus = Cpus is { } c ? (long)(c * 1e9) : null,
            PidsLimit = PidsLimit,
            RestartPolicy = RestartPolicy ?? "no",
            RestartMaxRetries = RestartMaxRetries,
            NetworkMode = NetworkMode,
            User = User,
            CapAdd = CapAdd ?? [],
            CapDrop = CapDrop ?? [],
            ReadOnlyRootfs = ReadOnlyRootfs,
            Tty = Tty,
            Privileged = Privileged,
            PidMode = PidMode,
            IpcMode = IpcMode,
            UtsMode = UtsMode,
            SecurityOpt = SecurityOpt ?? [],
        };
    }
}

public sealed class ApiPullRequest
{
    public string? Engine { get; set; }

    public string? Image { get; set; }
}

public sealed class ApiCreateToken
{
    public string? Name { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }
}

public sealed record ApiError(string Message);

public sealed record ApiCreated(string Id, string Engine, bool Started);

public sealed record ApiPulled(string Image, string Engine, string Status);
