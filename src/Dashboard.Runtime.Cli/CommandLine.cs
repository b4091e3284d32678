namespace Dashboard.Runtime.Cli;

/// <summary>
/// runc's command-line grammar (urfave/cli): global flags, a verb, its flags and positionals.
/// Flags may be written <c>--flag value</c>, <c>--flag=value</c> or with one dash; booleans take no value.
/// </summary>
public sealed class CommandLine
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    public List<string> Positionals { get; } = [];

    public string? Value(string name) => _values.TryGetValue(name, out var v) && v.Count > 0 ? v[^1] : null;

    public IReadOnlyList<string> Values(string name) => _values.TryGetValue(name, out var v) ? v : [];

    public bool Flag(string name) => _values.TryGetValue(name, out var v) && v.Count > 0 && v[^1] is not ("false" or "0");

    public int Int(string name, int fallback)
    {
        var text = Value(name);
        if (text is null)
        {
            return fallback;
        }

        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new RuntimeException(ErrorKind.InvalidArgument, $"invalid value \"{text}\" for flag --{name}");
    }

    /// <summary>Parses <paramref name="args"/> from <paramref name="start"/>; stops at the first positional when <paramref name="stopAtPositional"/>.</summary>
    public static (CommandLine Parsed, int Next) Parse(IReadOnlyList<string> args, int start, FlagSet flags, bool stopAtPositional)
    {
        var result = new CommandLine();
        var i = start;
        var onlyPositionals = false;
        while (i < args.Count)
        {
            var arg = args[i];
            if (onlyPositionals || arg.Length < 2 || arg[0] != '-')
            {
                if (stopAtPositional)
                {
                    break;
                }

                result.Positionals.Add(arg);
                i++;
                if (flags.StopAfterPositionals > 0 && result.Positionals.Count >= flags.StopAfterPositionals)
                {
                    onlyPositionals = true;
                }

                continue;
            }

            if (arg == "--")
            {
                onlyPositionals = true;
                i++;
                continue;
            }

            var body = arg.TrimStart('-');
            string? inline = null;
            var eq = body.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                inline = body[(eq + 1)..];
                body = body[..eq];
            }

            var name = flags.Resolve(body) ?? throw new RuntimeException(ErrorKind.InvalidArgument, $"flag provided but not defined: -{body}");
            if (!result._values.TryGetValue(name, out var list))
            {
                result._values[name] = list = [];
            }

            if (flags.IsBoolean(name))
            {
                list.Add(inline ?? "true");
                i++;
                continue;
            }

            if (inline is null)
            {
                if (i + 1 >= args.Count)
                {
                    throw new RuntimeException(ErrorKind.InvalidArgument, $"flag needs an argument: -{body}");
                }

                inline = args[i + 1];
                i++;
            }

            list.Add(inline);
            i++;
        }

        return (result, i);
    }
}

/// <summary>The flags a verb accepts: names, aliases, and which are booleans.</summary>
public sealed class FlagSet
{
    private readonly Dictionary<string, string> _aliases = new(StringComparer.Ordinal);
    private readonly HashSet<string> _booleans = new(StringComparer.Ordinal);

    /// <summary>After this many positionals everything is positional (e.g. <c>exec ID cmd -la</c>).</summary>
    public int StopAfterPositionals { get; init; }

    public FlagSet Bool(string name, params string[] aliases)
    {
        _booleans.Add(name);
        return Add(name, aliases);
    }

    public FlagSet Value(string name, params string[] aliases) => Add(name, aliases);

    private FlagSet Add(string name, string[] aliases)
    {
        _aliases[name] = name;
        foreach (var alias in aliases)
        {
            _aliases[alias] = name;
        }

        return this;
    }

    public string? Resolve(string name) => _aliases.TryGetValue(name, out var canonical) ? canonical : null;

    public bool IsBoolean(string name) => _booleans.Contains(name);
}
