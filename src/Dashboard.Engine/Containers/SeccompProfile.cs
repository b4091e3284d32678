using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dashboard.Engine.Api;
using Dashboard.Oci.Runtime;
using OciSeccomp = Dashboard.Oci.Runtime.Seccomp;

namespace Dashboard.Engine.Containers;

/// <summary>
/// A seccomp profile in Docker's file format (moby <c>profiles/seccomp</c>: the format of
/// <c>default.json</c> and of <c>--security-opt seccomp=FILE</c>, whose content the docker CLI sends).
/// It is the OCI <c>linux.seccomp</c> object plus <c>archMap</c> and per-rule <c>includes</c>/<c>excludes</c>
/// filters that <see cref="Resolve"/> evaluates for one container's capabilities and this host.
/// </summary>
public sealed class SeccompProfile
{
    [JsonPropertyName("defaultAction")] public string DefaultAction { get; set; } = "";
    [JsonPropertyName("defaultErrnoRet")] public uint? DefaultErrnoRet { get; set; }
    [JsonPropertyName("architectures")] public List<string>? Architectures { get; set; }
    [JsonPropertyName("archMap")] public List<SeccompArchMap>? ArchMap { get; set; }
    [JsonPropertyName("flags")] public List<string>? Flags { get; set; }
    [JsonPropertyName("listenerPath")] public string? ListenerPath { get; set; }
    [JsonPropertyName("listenerMetadata")] public string? ListenerMetadata { get; set; }
    [JsonPropertyName("syscalls")] public List<SeccompRule>? Syscalls { get; set; }

    private static readonly string[] s_actions =
    [
        "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
        "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
    ];

    private static readonly string[] s_ops =
    [
        "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
    ];

    /// <summary>Parses a profile document sent by a client; malformed or inconsistent profiles are InvalidArgument.</summary>
    public static SeccompProfile Parse(string json)
    {
        SeccompProfile? profile;
        try
        {
            profile = JsonSerializer.Deserialize(json, DockerJson.Info<SeccompProfile>(DockerJson.Options));
        }
        catch (JsonException e)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"decoding seccomp profile failed: {e.Message}", e);
        }

        if (profile is null)
        {
            throw new EngineException(ErrorKind.InvalidArgument, "decoding seccomp profile failed: empty profile");
        }

        profile.Validate();
        return profile;
    }

    private void Validate()
    {
        static EngineException Bad(string message) => new(ErrorKind.InvalidArgument, "invalid seccomp profile: " + message);

        if (!s_actions.Contains(DefaultAction))
        {
            throw Bad($"unknown defaultAction \"{DefaultAction}\"");
        }

        if (Architectures is { Count: > 0 } && ArchMap is { Count: > 0 })
        {
            throw Bad("both 'architectures' and 'archMap' are specified, use either 'architectures' or 'archMap'");
        }

        foreach (var rule in Syscalls ?? [])
        {
            if (!string.IsNullOrEmpty(rule.Name) && rule.Names is { Count: > 0 })
            {
                throw Bad("'name' and 'names' were both specified, use either 'name' or 'names'");
            }

            if (string.IsNullOrEmpty(rule.Name) && rule.Names is not { Count: > 0 })
            {
                throw Bad("a rule names no syscall");
            }

            if (!s_actions.Contains(rule.Action))
            {
                throw Bad($"unknown action \"{rule.Action}\"");
            }

            foreach (var arg in rule.Args ?? [])
            {
                if (arg.Index > 5 || !s_ops.Contains(arg.Op))
                {
                    throw Bad($"invalid argument condition (index {arg.Index}, op \"{arg.Op}\")");
                }
            }

            foreach (var filter in new[] { rule.Includes, rule.Excludes })
            {
                if (filter?.MinKernel is { } k && !TryParseKernel(k, out _))
                {
                    throw Bad($"invalid minKernel \"{k}\"");
                }
            }
        }
    }

    /// <summary>
    /// The OCI <c>linux.seccomp</c> for a container whose bounding set is <paramref name="boundingCapabilities"/>
    /// on <paramref name="host"/>, with moby's rule semantics: a rule is dropped when an <c>excludes</c> arch
    /// matches, any <c>excludes</c> capability is held, or the kernel reaches its <c>excludes.minKernel</c>;
    /// it is kept only when the arch is among <c>includes.arches</c>, every <c>includes</c> capability is held
    /// and the kernel reaches <c>includes.minKernel</c>.
    /// </summary>
    public OciSeccomp Resolve(IReadOnlyCollection<string> boundingCapabilities, SeccompHost host)
    {
        ArgumentNullException.ThrowIfNull(boundingCapabilities);
        ArgumentNullException.ThrowIfNull(host);
        var architectures = Architectures is { Count: > 0 } a ? new List<string>(a) : [];
        foreach (var map in ArchMap ?? [])
        {
            if (map.Architecture == host.OciArch)
            {
                architectures.Add(map.Architecture);
                architectures.AddRange(map.SubArchitectures ?? []);
            }
        }

        var syscalls = new List<SeccompSyscall>();
        foreach (var rule in Syscalls ?? [])
        {
            if (rule.Excludes is { } ex && (ex.Arches?.Contains(host.Arch) == true
                || ex.Caps?.Any(boundingCapabilities.Contains) == true
                || (ex.MinKernel is { } exMin && TryParseKernel(exMin, out var exVersion) && host.Kernel >= exVersion)))
            {
                continue;
            }

            if (rule.Includes is { } inc && ((inc.Arches is { Count: > 0 } arches && !arches.Contains(host.Arch))
                || inc.Caps?.All(boundingCapabilities.Contains) == false
                || (inc.MinKernel is { } incMin && TryParseKernel(incMin, out var incVersion) && host.Kernel < incVersion)))
            {
                continue;
            }

            syscalls.Add(new SeccompSyscall
            {
                Names = string.IsNullOrEmpty(rule.Name) ? [.. rule.Names!] : [rule.Name],
                Action = rule.Action,
                ErrnoRet = rule.ErrnoRet,
                Args = rule.Args is { Count: > 0 } args ? [.. args] : null,
            });
        }

        return new OciSeccomp
        {
            DefaultAction = DefaultAction,
            DefaultErrnoRet = DefaultErrnoRet,
            Architectures = architectures.Count > 0 ? architectures : null,
            Flags = Flags is { Count: > 0 } f ? [.. f] : null,
            ListenerPath = ListenerPath,
            ListenerMetadata = ListenerMetadata,
            Syscalls = syscalls,
        };
    }

    private static bool TryParseKernel(string text, out Version version)
    {
        var parts = text.Split('.');
        version = new Version(0, 0);
        if (parts.Length != 2 || !int.TryParse(parts[0], out var major) || !int.TryParse(parts[1], out var minor) || major < 0 || minor < 0)
        {
            return false;
        }

        version = new Version(major, minor);
        return true;
    }
}

public sealed class SeccompArchMap
{
    [JsonPropertyName("architecture")] public string Architecture { get; set; } = "";
    [JsonPropertyName("subArchitectures")] public List<string>? SubArchitectures { get; set; }
}

/// <summary>One rule of a Docker-format profile: an OCI syscall rule plus moby's conditions.</summary>
public sealed class SeccompRule
{
    [JsonPropertyName("names")] public List<string>? Names { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("action")] public string Action { get; set; } = "";
    [JsonPropertyName("errnoRet")] public uint? ErrnoRet { get; set; }
    [JsonPropertyName("args")] public List<SeccompArg>? Args { get; set; }
    [JsonPropertyName("comment")] public string? Comment { get; set; }
    [JsonPropertyName("includes")] public SeccompRuleFilter? Includes { get; set; }
    [JsonPropertyName("excludes")] public SeccompRuleFilter? Excludes { get; set; }
}

/// <summary>moby's Filter: Go architecture names (<c>amd64</c>, <c>arm64</c>, …), capabilities, a minimum kernel "major.minor".</summary>
public sealed class SeccompRuleFilter
{
    [JsonPropertyName("caps")] public List<string>? Caps { get; set; }
    [JsonPropertyName("arches")] public List<string>? Arches { get; set; }
    [JsonPropertyName("minKernel")] public string? MinKernel { get; set; }
}

/// <summary>The facts of the host a profile is resolved for: Go-style arch name, libseccomp arch name, kernel major.minor.</summary>
public sealed record SeccompHost(string Arch, string OciArch, Version Kernel)
{
    public static SeccompHost Current { get; } = Detect();

    private static SeccompHost Detect()
    {
        var (arch, oci) = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => ("amd64", "SCMP_ARCH_X86_64"),
            Architecture.Arm64 => ("arm64", "SCMP_ARCH_AARCH64"),
            Architecture.X86 => ("386", "SCMP_ARCH_X86"),
            Architecture.Arm => ("arm", "SCMP_ARCH_ARM"),
            Architecture.S390x => ("s390x", "SCMP_ARCH_S390X"),
            Architecture.Ppc64le => ("ppc64le", "SCMP_ARCH_PPC64LE"),
            Architecture.RiscV64 => ("riscv64", "SCMP_ARCH_RISCV64"),
            var other => (other.ToString().ToLowerInvariant(), ""),
        };
        var kernel = Environment.OSVersion.Version;
        return new SeccompHost(arch, oci, new Version(Math.Max(kernel.Major, 0), Math.Max(kernel.Minor, 0)));
    }
}
