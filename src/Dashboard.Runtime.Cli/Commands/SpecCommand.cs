using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Cli.Commands;

/// <summary><c>spec</c>: writes a starting config.json with runc's defaults (security.md A0).</summary>
public static class SpecCommand
{
    public static int Run(Context context, CommandLine cmd)
    {
        var bundle = cmd.Value("bundle") ?? Directory.GetCurrentDirectory();
        var path = Path.Combine(bundle, "config.json");
        if (File.Exists(path))
        {
            throw new RuntimeException(ErrorKind.AlreadyExists, "File config.json exists. Remove it first.".ToLowerInvariant());
        }

        File.WriteAllText(path, RuntimeJson.Serialize(DefaultSpec.Create(cmd.Flag("rootless"))));
        return 0;
    }
}
