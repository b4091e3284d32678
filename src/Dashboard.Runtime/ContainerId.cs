using System.Text.RegularExpressions;

namespace Dashboard.Runtime;

/// <summary>Container ids as runc accepts them: they name a directory under the state root.</summary>
public static partial class ContainerId
{
    public const int MaxLength = 255;

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_+.-]*$")]
    private static partial Regex Pattern();

    /// <summary>Refuses ids that are empty, too long, or could name anything but one child directory (`..`, `/`).</summary>
    public static void Validate(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            throw new RuntimeException(ErrorKind.InvalidArgument, "container id cannot be empty");
        }

        if (id.Length > MaxLength || id is "." or ".." || !Pattern().IsMatch(id))
        {
            throw new RuntimeException(ErrorKind.InvalidArgument, $"invalid container id format: {Shorten(id)}");
        }
    }

    private static string Shorten(string id) => id.Length > 64 ? id[..64] + "…" : id;
}
