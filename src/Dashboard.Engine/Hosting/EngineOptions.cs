using System.Globalization;
using System.Text.Json;

namespace Dashboard.Engine.Hosting;

/// <summary>
/// Where the engine keeps things and how it listens. Every root is injectable so several engines
/// (and tests) run side by side (STYLE.md habit 2). Command-line flags override the config file.
/// </summary>
public sealed class EngineOptions
{
    public const string DefaultConfigFile = "/etc/dashboard/engine.json";

    public string DataRoot { get; set; } = "/var/lib/dashboard";

    public string Socket { get; set; } = "/run/dashboard/engine.sock";

    public string StateRoot { get; set; } = "/run/dashboard/runtime";

    /// <summary>Path of the <c>dashboard-runtime</c> binary; null = found through DASHBOARD_BIN, beside the engine, or PATH.</summary>
    public string? RuntimePath { get; set; }

    /// <summary>Group that may use the socket besides root (socket mode 0660, SO_PEERCRED check).</summary>
    public string SocketGroup { get; set; } = "dashboard";

    /// <summary>Parent of every container's cgroup (<c>linux.cgroupsPath</c> = PARENT/ID).</summary>
    public string CgroupParent { get; set; } = "/dashboard";

    public long LogMaxSize { get; set; } = 10 * 1024 * 1024;

    public int LogMaxFiles { get; set; } = 3;

    /// <summary><c>json</c> or <c>text</c>; null = text on a terminal, json otherwise.</summary>
    public string? LogFormat { get; set; }

    /// <summary>Start as root even though DOTNET_EnableDiagnostics is not 0 (security.md A14); for debugging only.</summary>
    public bool AllowDiagnostics { get; set; }

    public string? ConfigFile { get; set; }

    public const string DefaultPolicyFile = "/etc/dashboard/engine-policy.json";

    /// <summary>The host administrator's engine policy (src/Dashboard.Engine/README.md); no file = no policy.</summary>
    public string? PolicyFile { get; set; } = DefaultPolicyFile;

    /// <summary>Optional TCP listener (<c>HOST:PORT</c>) that speaks only TLS 1.2+ with a client certificate from <see cref="TlsCa"/>.</summary>
    public string? TlsListen { get; set; }

    /// <summary>PEM server certificate (chain) for <see cref="TlsListen"/>.</summary>
    public string? TlsCert { get; set; }

    /// <summary>PEM private key of <see cref="TlsCert"/>.</summary>
    public string? TlsKey { get; set; }

    /// <summary>PEM CA certificate(s): the only roots a client certificate may chain to.</summary>
    public string? TlsCa { get; set; }

    public string DatabasePath => Path.Combine(DataRoot, "engine.db");

    public string ContainersDir => Path.Combine(DataRoot, "containers");

    public static string Usage => """
        Usage: dashboard-engine [options]

          --config FILE         JSON config file (default /etc/dashboard/engine.json if present);
                                keys: data-root, socket, state-root, runtime, socket-group, cgroup-parent,
                                log-max-size, log-max-files, log-format, policy-file,
                                tls-listen, tls-cert, tls-key, tls-ca
          --data-root DIR       engine data: engine.db, containers/ (default /var/lib/dashboard)
          --socket PATH         API unix socket (default /run/dashboard/engine.sock)
          --state-root DIR      runtime state directory, the runtime's --root (default /run/dashboard/runtime)
          --runtime PATH        dashboard-runtime binary (default: $DASHBOARD_BIN, beside the engine, PATH)
          --socket-group NAME   group allowed on the socket besides root (default dashboard)
          --cgroup-parent PATH  parent cgroup of the containers (default /dashboard)
          --log-max-size BYTES  container log rotation size (default 10485760)
          --log-max-files N     container log files kept (default 3)
          --log-format FORMAT   json or text
          --allow-diagnostics   start as root although DOTNET_EnableDiagnostics is not 0
          --policy-file FILE    engine policy, root-owned (default /etc/dashboard/engine-policy.json if present)
          --tls-listen HOST:PORT  also serve the API on TCP, TLS 1.2+ only, client certificate required
          --tls-cert FILE       PEM server certificate for --tls-listen
          --tls-key FILE        PEM private key of --tls-cert
          --tls-ca FILE         PEM CA: client certificates must chain to it (the system store is not used)
                                Docker's names are accepted too: -H tcp://HOST:PORT, -H unix://PATH,
                                --tlsverify, --tlscacert, --tlscert, --tlskey
          -h, --help            this text

        Run it with DOTNET_EnableDiagnostics=0 in its environment: the .NET diagnostic port of a
        root process lets any local root-equivalent attach and run code (security.md A14).
        """;

    /// <summary>Parses flags over the config file. Throws <see cref="EngineException"/> (InvalidArgument) on a bad flag.</summary>
    public static EngineOptions Parse(IReadOnlyList<string> args, Func<string, string?>? readFile = null)
    {
        readFile ??= static path => File.Exists(path) ? File.ReadAllText(path) : null;
        var flags = new List<(string Key, string? Value)>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                flags.Add(("help", null));
                continue;
            }

            if (arg is "-H" or "--host" || arg.StartsWith("-H=", StringComparison.Ordinal) || arg.StartsWith("--host=", StringComparison.Ordinal))
            {
                var hostEq = arg.IndexOf('=', StringComparison.Ordinal);
                flags.Add(("host", hostEq > 0 ? arg[(hostEq + 1)..] : i + 1 < args.Count ? args[++i] : throw new EngineException(ErrorKind.InvalidArgument, "flag -H needs a value")));
                continue;
            }

            if (arg is "--tlsverify" or "--tls")
            {
                flags.Add(("tlsverify", "true"));
                continue;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"unexpected argument '{arg}'");
            }

            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var key = eq > 0 ? arg[2..eq] : arg[2..];
            if (key == "allow-diagnostics")
            {
                flags.Add((key, "true"));
                continue;
            }

            string value;
            if (eq > 0)
            {
                value = arg[(eq + 1)..];
            }
            else if (i + 1 < args.Count)
            {
                value = args[++i];
            }
            else
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"flag --{key} needs a value");
            }

            flags.Add((key, value));
        }

        var options = new EngineOptions();
        var configFile = flags.LastOrDefault(f => f.Key == "config").Value;
        var text = readFile(configFile ?? DefaultConfigFile);
        if (configFile is not null && text is null)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"config file {configFile}: no such file or directory");
        }

        if (text is not null)
        {
            options.ConfigFile = configFile ?? DefaultConfigFile;
            using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { AllowDuplicateProperties = false });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"config file {options.ConfigFile}: not a JSON object");
            }

            foreach (var property in doc.RootElement.EnumerateObject())
            {
                var value = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString()!,
                    JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => property.Value.GetRawText(),
                    _ => throw new EngineException(ErrorKind.InvalidArgument, $"config file {options.ConfigFile}: key '{property.Name}' must be a string, number or boolean"),
                };
                options.Set(property.Name, value, $"config key '{property.Name}'");
            }
        }

        foreach (var (key, value) in flags)
        {
            if (key is "config" or "help")
            {
                continue;
            }

            options.Set(key, value!, $"flag --{key}");
        }

        if (flags.Any(f => f.Key == "help"))
        {
            options.ShowHelp = true;
        }

        options.ValidateTls();

        return options;
    }

    public bool ShowHelp { get; private set; }

    private void Set(string key, string value, string what)
    {
        switch (key)
        {
            case "data-root": DataRoot = AbsoluteDir(value, what); break;
            case "socket": Socket = AbsoluteDir(value, what); break;
            case "state-root": StateRoot = AbsoluteDir(value, what); break;
            case "runtime": RuntimePath = AbsoluteDir(value, what); break;
            case "socket-group": SocketGroup = value; break;
            case "cgroup-parent":
                CgroupParent = value.StartsWith('/') && !value.Split('/').Contains("..") ? value : throw new EngineException(ErrorKind.InvalidArgument, $"{what}: must be an absolute cgroup path without '..'");
                break;
            case "log-max-size": LogMaxSize = ParsePositive(value, what); break;
            case "log-max-files": LogMaxFiles = (int)Math.Min(ParsePositive(value, what), 100); break;
            case "log-format":
                LogFormat = value is "json" or "text" ? value : throw new EngineException(ErrorKind.InvalidArgument, $"{what}: must be json or text");
                break;
            case "allow-diagnostics": AllowDiagnostics = value is "true" or "1"; break;
            case "policy-file": PolicyFile = AbsoluteDir(value, what); break;
            case "tls-listen": TlsListen = ParseListen(value, what); break;
            case "tls-cert" or "tlscert": TlsCert = AbsoluteDir(value, what); break;
            case "tls-key" or "tlskey": TlsKey = AbsoluteDir(value, what); break;
            case "tls-ca" or "tlscacert": TlsCa = AbsoluteDir(value, what); break;
            case "host": SetHost(value, what); break;

            // The listener always verifies client certificates; turning that off would be plaintext-equivalent.
            case "tlsverify" or "tls":
                if (value is not ("true" or "1"))
                {
                    throw new EngineException(ErrorKind.InvalidArgument, $"{what}: the TCP listener always requires client certificates");
                }

                break;
            default: throw new EngineException(ErrorKind.InvalidArgument, $"unknown {what}");
        }
    }

    /// <summary>Docker's <c>-H</c>: <c>tcp://HOST:PORT</c> is the TLS listener, <c>unix://PATH</c> the socket.</summary>
    private void SetHost(string value, string what)
    {
        if (value.StartsWith("unix://", StringComparison.Ordinal))
        {
            Socket = AbsoluteDir(value["unix://".Length..], what);
        }
        else if (value.StartsWith("tcp://", StringComparison.Ordinal))
        {
            TlsListen = ParseListen(value["tcp://".Length..].TrimEnd('/'), what);
        }
        else
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"{what}: '{value}' must be tcp://HOST:PORT or unix://PATH");
        }
    }

    /// <summary><c>HOST:PORT</c> with an IP address (IPv6 in brackets), <c>localhost</c>, or <c>0.0.0.0</c>; port 0 = any free port.</summary>
    private static string ParseListen(string value, string what) =>
        TryParseEndPoint(value, out _) ? value : throw new EngineException(ErrorKind.InvalidArgument, $"{what}: '{value}' is not HOST:PORT with an IP address");

    /// <summary>The endpoint of <see cref="TlsListen"/>; <c>localhost</c> means 127.0.0.1.</summary>
    public static bool TryParseEndPoint(string value, out System.Net.IPEndPoint endPoint)
    {
        var text = value.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase) ? "127.0.0.1" + value["localhost".Length..] : value;
        if (System.Net.IPEndPoint.TryParse(text, out var parsed) && parsed is not null && text.Contains(':', StringComparison.Ordinal) && (parsed.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6 || text.Contains("]:", StringComparison.Ordinal)))
        {
            endPoint = parsed;
            return true;
        }

        endPoint = null!;
        return false;
    }

    /// <summary>A TCP listener needs all three files; TLS files without a listener are a configuration mistake worth reporting.</summary>
    private void ValidateTls()
    {
        if (TlsListen is not null && (TlsCert is null || TlsKey is null || TlsCa is null))
        {
            throw new EngineException(ErrorKind.InvalidArgument, "--tls-listen needs --tls-cert, --tls-key and --tls-ca (plaintext TCP is not offered)");
        }

        if (TlsListen is null && (TlsCert ?? TlsKey ?? TlsCa) is not null)
        {
            throw new EngineException(ErrorKind.InvalidArgument, "--tls-cert, --tls-key and --tls-ca need --tls-listen HOST:PORT (or -H tcp://HOST:PORT)");
        }
    }

    private static string AbsoluteDir(string value, string what) =>
        value.Length == 0 ? throw new EngineException(ErrorKind.InvalidArgument, $"{what}: empty path") : Path.GetFullPath(value);

    private static long ParsePositive(string value, string what) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new EngineException(ErrorKind.InvalidArgument, $"{what}: '{value}' is not a positive integer");

    /// <summary>Finds the runtime binary: the option, $DASHBOARD_BIN, beside the engine, then PATH.</summary>
    public string ResolveRuntimePath()
    {
        if (RuntimePath is not null)
        {
            return RuntimePath;
        }

        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("DASHBOARD_BIN") is { Length: > 0 } bin)
        {
            candidates.Add(Path.Combine(bin, "dashboard-runtime"));
        }

        candidates.Add(Path.Combine(AppContext.BaseDirectory, "dashboard-runtime"));
        candidates.Add(Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../bin/dashboard-runtime")));
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            candidates.Add(Path.Combine(dir, "dashboard-runtime"));
        }

        return candidates.FirstOrDefault(File.Exists) ?? "dashboard-runtime";
    }
}
