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

    public string DatabasePath => Path.Combine(DataRoot, "engine.db");

    public string ContainersDir => Path.Combine(DataRoot, "containers");

    public static string Usage => """
        Usage: dashboard-engine [options]

          --config FILE         JSON config file (default /etc/dashboard/engine.json if present);
                                keys: data-root, socket, state-root, runtime, socket-group, cgroup-parent,
                                log-max-size, log-max-files, log-format, policy-file
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
            default: throw new EngineException(ErrorKind.InvalidArgument, $"unknown {what}");
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
