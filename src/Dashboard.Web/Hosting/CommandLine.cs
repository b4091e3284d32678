namespace Dashboard.Web.Hosting;

/// <summary>
/// Maps the documented flags onto configuration keys. <c>--engine</c> is repeatable, which the stock
/// command-line provider cannot express (the last value would win), so each occurrence gets an index.
/// </summary>
public static class CommandLine
{
    private static readonly Dictionary<string, string> s_flags = new(StringComparer.Ordinal)
    {
        ["--data-dir"] = "Dashboard:DataDir",
        ["--bootstrap-secret-file"] = "Dashboard:BootstrapSecretFile",
        ["--allowed-origin"] = "Dashboard:AllowedOrigins",
        ["--engine"] = "Dashboard:Engines",
        ["--config"] = "Dashboard:ConfigFile",
        ["--cert"] = "Kestrel:Certificates:Default:Path",
        ["--key"] = "Kestrel:Certificates:Default:KeyPath",
    };

    private static readonly Dictionary<string, string> s_switches = new(StringComparer.Ordinal)
    {
        ["--insecure-http"] = "Dashboard:AllowInsecureHttp",
    };

    public static string[] Normalize(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var output = new List<string>(args.Count);
        var counters = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var flag = eq > 0 ? arg[..eq] : arg;
            if (s_switches.TryGetValue(arg, out var switchKey))
            {
                output.Add($"--{switchKey}=true");
                continue;
            }

            if (!s_flags.TryGetValue(flag, out var key))
            {
                output.Add(arg);
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
                throw new ArgumentException($"{flag}: missing value");
            }

            if (flag is "--engine" or "--allowed-origin")
            {
                var n = counters.GetValueOrDefault(key);
                counters[key] = n + 1;
                key = $"{key}:{n}";
            }

            output.Add($"--{key}={value}");
        }

        return [.. output];
    }
}
