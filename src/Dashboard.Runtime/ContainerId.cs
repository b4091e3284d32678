namespace Dashboard.Runtime;

/// <summary>Container ids as runc accepts them: they name a directory under the state root.</summary>
public static class ContainerId
{
    public const int MaxLength = 255;

    /// <summary>runc's pattern <c>^[a-zA-Z0-9][a-zA-Z0-9_+.-]*$</c>, checked by hand (a regex engine is code a short-lived CLI pays page faults for; and .NET's <c>$</c> would also accept a trailing newline).</summary>
    private static bool MatchesPattern(string id)
    {
        if (id.Length == 0 || !char.IsAsciiLetterOrDigit(id[0]))
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '+' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Refuses ids that are empty, too long, or could name anything but one child directory (`..`, `/`).</summary>
    public static void Validate(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            throw new RuntimeException(ErrorKind.InvalidArgument, "container id cannot be empty");
        }

        if (id.Length > MaxLength || id is "." or ".." || !MatchesPattern(id))
        {
            throw new RuntimeException(ErrorKind.InvalidArgument, $"invalid container id format: {Shorten(id)}");
        }
    }

    private static string Shorten(string id) => id.Length > 64 ? id[..64] + "…" : id;
}
