namespace Dashboard.Shim;

/// <summary>
/// What <c>dashboard-runtime shim</c> hands over on exec: <c>dashboard-shim shim --flag value … ID</c>. The verb
/// and the id stay on the command line so the engine's pid-reuse check (cmdline holds "shim" and the id) holds.
/// </summary>
internal sealed class ShimArgs
{
    public string Id { get; private set; } = "";
    public int Pidfd { get; private set; } = -1;
    public int Stdout { get; private set; } = -1;
    public int Stderr { get; private set; } = -1;
    public int Pty { get; private set; } = -1;
    public int Stdin { get; private set; } = -1;
    public int Listen { get; private set; } = -1;
    public string LogPath { get; private set; } = "";
    public long LogMaxSize { get; private set; } = 10 << 20;
    public int LogMaxFiles { get; private set; } = 3;
    public string ExitFile { get; private set; } = "";
    public string ControlSocket { get; private set; } = "";
    public string? OomFile { get; private set; }
    public long OomBefore { get; private set; }
    public long StartedAtTicks { get; private set; }

    public static ShimArgs Parse(string[] args)
    {
        var result = new ShimArgs();
        var i = args.Length > 0 && args[0] == "shim" ? 1 : 0;
        for (; i < args.Length; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal))
            {
                result.Id = name;
                continue;
            }

            if (i + 1 >= args.Length)
            {
                throw new FormatException(name + " needs a value");
            }

            var value = args[++i];
            switch (name)
            {
                case "--pidfd": result.Pidfd = (int)Number(name, value); break;
                case "--stdout": result.Stdout = (int)Number(name, value); break;
                case "--stderr": result.Stderr = (int)Number(name, value); break;
                case "--pty": result.Pty = (int)Number(name, value); break;
                case "--stdin": result.Stdin = (int)Number(name, value); break;
                case "--listen": result.Listen = (int)Number(name, value); break;
                case "--log-path": result.LogPath = value; break;
                case "--log-max-size": result.LogMaxSize = Number(name, value); break;
                case "--log-max-files": result.LogMaxFiles = (int)Number(name, value); break;
                case "--exit-file": result.ExitFile = value; break;
                case "--control-socket": result.ControlSocket = value; break;
                case "--oom-file": result.OomFile = value; break;
                case "--oom-before": result.OomBefore = Number(name, value); break;
                case "--started-at": result.StartedAtTicks = Number(name, value); break;
                default: throw new FormatException("unknown flag " + name);
            }
        }

        if (result.Pidfd < 0 || result.Listen < 0 || result.LogPath.Length == 0 || result.ExitFile.Length == 0 || result.ControlSocket.Length == 0)
        {
            throw new FormatException("--pidfd, --listen, --log-path, --exit-file and --control-socket are required");
        }

        return result;
    }

    /// <summary>A decimal integer, optionally negative (a hand parser: no culture data in this binary).</summary>
    private static long Number(string name, string value)
    {
        var negative = value.Length > 1 && value[0] == '-';
        if (value.Length == 0 || value.Length > 19)
        {
            throw new FormatException(name + ": not a number");
        }

        long n = 0;
        for (var i = negative ? 1 : 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is < '0' or > '9')
            {
                throw new FormatException(name + ": not a number");
            }

            n = (n * 10) + (c - '0');
        }

        return negative ? -n : n;
    }
}
