namespace Dashboard.Web.Engines;

public sealed record PortPublish(int ContainerPort, string Protocol, string? HostIp, int? HostPort);

/// <summary>A bind mount (<c>Source</c> is a host path) or a named volume (<c>Source</c> is a volume name).</summary>
public sealed record MountSpec(string Type, string Source, string Target, bool ReadOnly);

public sealed record DeviceSpec(string PathOnHost, string PathInContainer, string Permissions);

public sealed record HealthSpec(IReadOnlyList<string> Test, TimeSpan? Interval, TimeSpan? Timeout, int? Retries);

/// <summary>
/// Everything the dashboard asks an engine to create, engine-neutral. The create policy is evaluated on this final
/// value, whatever form field, template or clone produced it (security.md D1, D4).
/// </summary>
public sealed record ContainerCreateRequest
{
    public required string Image { get; init; }

    public string? Name { get; init; }

    public IReadOnlyList<string>? Command { get; init; }

    public IReadOnlyList<string>? Entrypoint { get; init; }

    public IReadOnlyList<string> Env { get; init; } = [];

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public IReadOnlyList<PortPublish> Ports { get; init; } = [];

    public IReadOnlyList<MountSpec> Mounts { get; init; } = [];

    public long? MemoryBytes { get; init; }

    public long? NanoCpus { get; init; }

    public long? PidsLimit { get; init; }

    /// <summary><c>no</c>, <c>always</c>, <c>unless-stopped</c> or <c>on-failure</c>.</summary>
    public string RestartPolicy { get; init; } = "no";

    public int RestartMaxRetries { get; init; }

    public HealthSpec? Health { get; init; }

    public string? NetworkMode { get; init; }

    public string? User { get; init; }

    public IReadOnlyList<string> CapAdd { get; init; } = [];

    public IReadOnlyList<string> CapDrop { get; init; } = [];

    public bool ReadOnlyRootfs { get; init; }

    public bool Tty { get; init; }

    public bool Privileged { get; init; }

    public string? PidMode { get; init; }

    public string? IpcMode { get; init; }

    public string? UtsMode { get; init; }

    public IReadOnlyList<DeviceSpec> Devices { get; init; } = [];

    public IReadOnlyList<string> SecurityOpt { get; init; } = [];
}
