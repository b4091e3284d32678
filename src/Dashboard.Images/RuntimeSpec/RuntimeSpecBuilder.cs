using System.Text;
using Dashboard.Linux;
using Dashboard.Linux.Fs;
using Dashboard.Oci.Image;
using Dashboard.Oci.Runtime;

namespace Dashboard.Images.RuntimeSpec;

/// <summary>What the caller (docker run flags, the UI) overrides of the image's defaults.</summary>
public sealed record SpecOverrides
{
    /// <summary>Replaces the image Entrypoint; the image Cmd is then dropped unless <see cref="Cmd"/> is given (Docker semantics).</summary>
    public IReadOnlyList<string>? Entrypoint { get; init; }

    public IReadOnlyList<string>? Cmd { get; init; }

    /// <summary><c>KEY=value</c> entries that replace image entries with the same key.</summary>
    public IReadOnlyList<string>? Env { get; init; }

    public string? User { get; init; }

    public string? WorkingDir { get; init; }

    public string? Hostname { get; init; }

    public bool Terminal { get; init; }

    public bool ReadonlyRootfs { get; init; }

    public bool NoNewPrivileges { get; init; } = true;
}

/// <summary>
/// Turns an image config into a runtime-spec config.json: Entrypoint/Cmd/Env/WorkingDir/User
/// (names resolved through the image's own /etc/passwd and /etc/group, read in-root) merged with
/// caller overrides on top of safe defaults (<see cref="DefaultSpec"/>: masked and read-only paths,
/// default mounts, deny-all device cgroup), with Docker's default capability set and nothing
/// inheritable (CVE-2022-29162). The image config is untrusted input (security.md B10).
/// </summary>
public static class RuntimeSpecBuilder
{
    /// <summary>Docker's default capabilities (moby oci/caps/defaults.go).</summary>
    public static IReadOnlyList<string> DefaultCapabilities { get; } =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    /// <summary>MAX_ARG_STRLEN: the kernel refuses longer single strings at execve.</summary>
    private const int MaxEnvEntry = 128 * 1024;
    private const int MaxEnvTotal = 1 << 20;
    private const int MaxIdFile = 4 << 20;

    public static Spec Build(ImageConfig image, string rootfsPath, SpecOverrides? overrides = null)
    {
        overrides ??= new SpecOverrides();
        var config = image.Config ?? new ContainerConfig();
        var spec = DefaultSpec.Create();
        var process = spec.Process!;

        var entrypoint = overrides.Entrypoint ?? config.Entrypoint ?? [];
        var cmd = overrides.Cmd ?? (overrides.Entrypoint is not null ? [] : config.Cmd ?? []);
        process.Args = [.. entrypoint, .. cmd];
        if (process.Args.Count == 0 || process.Args[0].Length == 0)
        {
            throw Invalid("no command specified");
        }

        if (process.Args.Any(a => a.Contains('\0', StringComparison.Ordinal)))
        {
            throw Invalid("command contains a NUL byte");
        }

        process.Terminal = overrides.Terminal;
        process.Cwd = WorkingDirectory(overrides.WorkingDir ?? config.WorkingDir);
        process.NoNewPrivileges = overrides.NoNewPrivileges;
        string[] caps = [.. DefaultCapabilities];
        process.Capabilities = new Capabilities { Bounding = [.. caps], Effective = [.. caps], Permitted = [.. caps] };

        var env = MergeEnv(config.Env, overrides.Env);
        using (var root = SafeRoot.Open(rootfsPath))
        {
            var user = ResolveUser(root, overrides.User ?? config.User ?? string.Empty);
            process.User = new User { Uid = user.Uid, Gid = user.Gid, AdditionalGids = user.AdditionalGids.Count > 0 ? [.. user.AdditionalGids] : null };
            if (!env.Any(e => e.StartsWith("HOME=", StringComparison.Ordinal)))
            {
                env.Add("HOME=" + (user.Home ?? "/"));
            }
        }

        if (overrides.Terminal && !env.Any(e => e.StartsWith("TERM=", StringComparison.Ordinal)))
        {
            env.Add("TERM=xterm");
        }

        process.Env = env;
        spec.Root = new Root { Path = rootfsPath, Readonly = overrides.ReadonlyRootfs };
        spec.Hostname = overrides.Hostname ?? spec.Hostname;
        return spec;
    }

    /// <summary>An absolute, lexically clean working directory; /proc is refused (CVE-2024-21626: WORKDIR /proc/self/fd/N).</summary>
    public static string WorkingDirectory(string? workingDir)
    {
        if (string.IsNullOrEmpty(workingDir))
        {
            return "/";
        }

        var clean = "/" + SafeRoot.Clean(workingDir);
        if (clean == "/proc" || clean.StartsWith("/proc/", StringComparison.Ordinal))
        {
            throw Invalid($"working directory {workingDir} is inside /proc");
        }

        return clean;
    }

    private static List<string> MergeEnv(IReadOnlyList<string>? image, IReadOnlyList<string>? overrides)
    {
        var result = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        long total = 0;
        foreach (var entry in (image ?? []).Concat(overrides ?? []))
        {
            var eq = entry.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || entry.Contains('\0', StringComparison.Ordinal))
            {
                throw Invalid($"invalid environment entry \"{(entry.Length > 40 ? entry[..40] + "…" : entry.Replace("\0", "\\0", StringComparison.Ordinal))}\"");
            }

            if (entry.Length > MaxEnvEntry || (total += entry.Length) > MaxEnvTotal)
            {
                throw Invalid($"environment entry {entry[..eq]} makes the environment too large");
            }

            var key = entry[..eq];
            if (index.TryGetValue(key, out var at))
            {
                result[at] = entry;
            }
            else
            {
                index[key] = result.Count;
                result.Add(entry);
            }
        }

        if (!index.ContainsKey("PATH"))
        {
            result.Insert(0, DefaultSpec.DefaultPath);
        }

        return result;
    }

    /// <summary>The resolved identity of the container process.</summary>
    public sealed record ResolvedUser(uint Uid, uint Gid, IReadOnlyList<uint> AdditionalGids, string? Home);

    /// <summary>
    /// Resolves <c>user[:group]</c> (names or numbers) the way Docker does, reading /etc/passwd and
    /// /etc/group of the image through in-root lookups so a symlinked /etc/passwd cannot point at the host's.
    /// </summary>
    public static ResolvedUser ResolveUser(SafeRoot root, string spec)
    {
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        var userPart = colon < 0 ? spec : spec[..colon];
        var groupPart = colon < 0 ? null : spec[(colon + 1)..];
        if (userPart.Length == 0)
        {
            userPart = "0";
        }

        var passwd = ReadIdFile(root, "etc/passwd");
        var groups = ReadIdFile(root, "etc/group");
        string? name = null;
        string? home = null;
        uint uid;
        uint gid = 0;
        var numericUser = uint.TryParse(userPart, out uid);
        var passwdEntry = passwd.FirstOrDefault(f => f.Length >= 7 && (numericUser ? f[2] == userPart : f[0] == userPart));
        if (passwdEntry is not null)
        {
            name = passwdEntry[0];
            uid = ParseId(passwdEntry[2], "passwd");
            gid = ParseId(passwdEntry[3], "passwd");
            home = passwdEntry[5];
        }
        else if (!numericUser)
        {
            throw Invalid($"unable to find user {userPart}: no matching entries in passwd file");
        }

        if (groupPart is not null && groupPart.Length > 0)
        {
            if (uint.TryParse(groupPart, out var numericGid))
            {
                gid = numericGid;
            }
            else
            {
                var groupEntry = groups.FirstOrDefault(f => f.Length >= 3 && f[0] == groupPart)
                    ?? throw Invalid($"unable to find group {groupPart}: no matching entries in group file");
                gid = ParseId(groupEntry[2], "group");
            }
        }

        var additional = new List<uint>();
        if (name is not null && groupPart is null)
        {
            foreach (var group in groups.Where(f => f.Length >= 4 && f[3].Split(',').Contains(name, StringComparer.Ordinal)))
            {
                var id = ParseId(group[2], "group");
                if (id != gid && !additional.Contains(id))
                {
                    additional.Add(id);
                }
            }
        }

        return new ResolvedUser(uid, gid, additional, home);
    }

    private static List<string[]> ReadIdFile(SafeRoot root, string path)
    {
        Microsoft.Win32.SafeHandles.SafeFileHandle? handle;
        try
        {
            handle = root.TryOpen(path, FileCalls.O_RDONLY | FileCalls.O_NONBLOCK);
        }
        catch (SyscallException e) when (e.Errno is Errno.ENOTDIR or Errno.ELOOP)
        {
            return [];
        }

        if (handle is null)
        {
            return [];
        }

        using (handle)
        {
            // A fifo or device planted as /etc/passwd must not block or stream forever.
            var status = FileCalls.Stat(handle);
            if (status.Kind != FileKind.Regular || status.Size > MaxIdFile)
            {
                throw Invalid($"/{path} in the image is not a regular file of at most {MaxIdFile} bytes");
            }

            using var stream = new FileStream(handle, FileAccess.Read, 1);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd().Split('\n')
                .Where(line => line.Length > 0 && !line.StartsWith('#'))
                .Select(line => line.Split(':'))
                .ToList();
        }
    }

    private static uint ParseId(string text, string file) =>
        uint.TryParse(text, out var id) ? id : throw Invalid($"invalid id \"{text}\" in {file} file");

    private static ImageException Invalid(string message) => new(ImageErrorKind.InvalidSpec, message);
}
