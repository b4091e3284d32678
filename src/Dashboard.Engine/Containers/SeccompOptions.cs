using OciSeccomp = Dashboard.Oci.Runtime.Seccomp;

namespace Dashboard.Engine.Containers;

/// <summary>
/// The <c>seccomp</c> security option (<c>--security-opt seccomp=…</c>, also the legacy <c>seccomp:…</c>):
/// absent or <c>builtin</c> = the default profile, <c>unconfined</c> = none, anything else = a profile
/// document (the docker CLI reads the file and sends its content). Privileged containers run unconfined,
/// as in Docker; a custom profile given together with privileged is still applied.
/// </summary>
public static class SeccompOptions
{
    /// <summary>Whether a security option is the seccomp one (key before the first ':' or '=').</summary>
    public static bool IsSeccompOption(string option) => TrySplit(option, out var key, out _) && key == "seccomp";

    /// <summary>The profile to put into the spec, or null for none.</summary>
    public static OciSeccomp? ForContainer(IEnumerable<string>? securityOpt, bool privileged, IReadOnlyCollection<string> boundingCapabilities, SeccompHost? host = null)
    {
        string? value = null;
        foreach (var option in securityOpt ?? [])
        {
            if (TrySplit(option, out var key, out var v) && key == "seccomp")
            {
                if (value is not null)
                {
                    throw new EngineException(ErrorKind.InvalidArgument, "the seccomp security option is given more than once");
                }

                value = v;
            }
        }

        host ??= SeccompHost.Current;
        switch (value)
        {
            case "unconfined":
                return null;
            case null or "builtin":
                return privileged ? null : DefaultSeccompProfile.Create().Resolve(boundingCapabilities, host);
            case "":
                throw new EngineException(ErrorKind.InvalidArgument, "invalid --security-opt: seccomp needs a value: unconfined or a profile");
            default:
                return SeccompProfile.Parse(value).Resolve(boundingCapabilities, host);
        }
    }

    private static bool TrySplit(string option, out string key, out string value)
    {
        var o = option.Trim();
        var sep = o.IndexOfAny([':', '=']);
        key = sep < 0 ? o : o[..sep];
        value = sep < 0 ? "" : o[(sep + 1)..];
        return sep >= 0;
    }
}
