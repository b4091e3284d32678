using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Security;

namespace Dashboard.Runtime.Cli.Commands;

public static class ExecCommand
{
    public static FlagSet Flags => new FlagSet { StopAfterPositionals = 1 }
        .Value("console-socket").Value("pidfd-socket").Value("cwd").Value("env", "e").Bool("tty", "t").Value("user", "u")
        .Value("additional-gids", "g").Value("process", "p").Bool("detach", "d").Value("pid-file").Value("process-label")
        .Value("apparmor").Bool("no-new-privs").Value("cap", "c").Value("preserve-fds").Value("cgroup").Bool("ignore-paused");

    public static int Run(Context context, CommandLine cmd)
    {
        var id = Context.RequireId(cmd, "exec");
        var container = Container.Load(context.Store, id);
        var process = BuildProcess(container, cmd);
        var subgroups = ParseSubgroups(cmd.Values("cgroup"));
        var preserve = cmd.Int("preserve-fds", 0);
        Sys.CloexecFrom(3 + preserve);
        var (_, pidfd) = container.Exec(new ExecOptions
        {
            Process = process,
            ConsoleSocket = cmd.Value("console-socket"),
            PidFile = cmd.Value("pid-file"),
            PreserveFds = preserve,
            Subgroups = subgroups,
        });
        try
        {
            return cmd.Flag("detach") ? 0 : Sys.WaitPidfd(pidfd);
        }
        finally
        {
            Sys.Close(pidfd);
        }
    }

    /// <summary>The process to run: --process JSON, or the container's process with the inline args and flags applied (as runc does).</summary>
    public static Oci.Runtime.Process BuildProcess(Container container, CommandLine cmd)
    {
        if (cmd.Value("process") is { } path)
        {
            var json = path == "-" ? Console.In.ReadToEnd() : File.ReadAllText(path);
            return RuntimeJson.ParseProcess(json);
        }

        var args = cmd.Positionals.Skip(1).ToList();
        if (args.Count == 0)
        {
            throw new RuntimeException(ErrorKind.InvalidArgument, "exec: a command to run is required");
        }

        var spec = container.Store.LoadConfig(container.Id);
        var baseProcess = spec.Process ?? new Oci.Runtime.Process();
        var process = RuntimeJson.ParseProcess(RuntimeJson.Serialize(baseProcess));
        process.Args = args;
        process.Terminal = cmd.Flag("tty");
        process.ConsoleSize = null;
        if (cmd.Value("cwd") is { } cwd)
        {
            process.Cwd = cwd;
        }

        if (cmd.Values("env").Count > 0)
        {
            process.Env = [.. process.Env ?? [], .. cmd.Values("env")];
        }

        if (cmd.Value("user") is { } user)
        {
            (process.User.Uid, process.User.Gid) = ParseUser(user);
        }

        foreach (var gids in cmd.Values("additional-gids"))
        {
            process.User.AdditionalGids ??= [];
            process.User.AdditionalGids.Add(ParseId(gids, "additional-gids"));
        }

        if (cmd.Flag("no-new-privs"))
        {
            process.NoNewPrivileges = true;
        }

        foreach (var cap in cmd.Values("cap"))
        {
            CapabilityNames.ToMask([cap], "--cap");
            process.Capabilities ??= new Capabilities();
            // Added to bounding, effective and permitted only: never inheritable or ambient (CVE-2022-27650).
            process.Capabilities.Bounding = [.. process.Capabilities.Bounding ?? [], cap];
            process.Capabilities.Effective = [.. process.Capabilities.Effective ?? [], cap];
            process.Capabilities.Permitted = [.. process.Capabilities.Permitted ?? [], cap];
        }

        return process;
    }

    /// <summary>
    /// runc's <c>--cgroup [controller[,controller…]:]path</c>, repeatable: the path is below the
    /// container's cgroup and must exist; without controllers it applies to every hierarchy.
    /// </summary>
    public static Dictionary<string, string>? ParseSubgroups(IReadOnlyList<string> values)
    {
        if (values.Count == 0)
        {
            return null;
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            var colon = value.IndexOf(':', StringComparison.Ordinal);
            var path = colon < 0 ? value : value[(colon + 1)..];
            var controllers = colon < 0 ? [""] : value[..colon].Split(',');
            Cgroups.CgroupSubgroup.Validate(path);
            foreach (var controller in controllers)
            {
                if ((colon >= 0 && controller.Length == 0) || !result.TryAdd(controller, path))
                {
                    throw new RuntimeException(ErrorKind.InvalidArgument, $"invalid --cgroup \"{value}\": {(controller.Length == 0 ? "empty controller name" : $"{controller} given twice")}");
                }
            }
        }

        return result;
    }

    /// <summary>Parses <c>uid[:gid]</c> strictly: decimal 32-bit ids only, never a name (CVE-2016-3697, CVE-2026-30892).</summary>
    public static (uint Uid, uint Gid) ParseUser(string text)
    {
        var parts = text.Split(':');
        if (parts.Length > 2)
        {
            throw new RuntimeException(ErrorKind.InvalidArgument, $"invalid --user \"{text}\": expected uid[:gid]");
        }

        var uid = ParseId(parts[0], "user");
        var gid = parts.Length == 2 ? ParseId(parts[1], "user") : 0;
        return (uid, gid);
    }

    private static uint ParseId(string text, string flag)
    {
        if (text.Length == 0 || text.Length > 10 || !text.All(char.IsAsciiDigit) || !uint.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) || id == uint.MaxValue)
        {
            throw new RuntimeException(ErrorKind.InvalidArgument, $"invalid --{flag} \"{text}\": expected a decimal id below 4294967295");
        }

        return id;
    }
}
