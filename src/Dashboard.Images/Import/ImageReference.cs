using System.Text.RegularExpressions;

namespace Dashboard.Images.Import;

/// <summary>
/// Image references as the distribution reference grammar defines them
/// (<c>[domain/]path[:tag][@digest]</c>), normalized the way Docker does:
/// <c>busybox</c> → <c>docker.io/library/busybox:latest</c> (security.md C6).
/// </summary>
public static partial class ImageReference
{
    public const string DefaultDomain = "docker.io";

    public static string Normalize(string reference) =>
        TryNormalize(reference, out var normalized) ? normalized : throw new ImageException(ImageErrorKind.InvalidSpec, $"invalid reference format: \"{Truncate(reference)}\"");

    public static bool TryNormalize(string? reference, out string normalized)
    {
        normalized = string.Empty;
        if (string.IsNullOrEmpty(reference) || reference.Length > 512)
        {
            return false;
        }

        var rest = reference;
        string? digest = null;
        var at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
            if (!Oci.Digest.TryParse(digest, out _))
            {
                return false;
            }
        }

        string? tag = null;
        var lastSlash = rest.LastIndexOf('/');
        var colon = rest.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                return false;
            }
        }

        var firstSlash = rest.IndexOf('/', StringComparison.Ordinal);
        string domain;
        string path;
        var first = firstSlash < 0 ? rest : rest[..firstSlash];
        if (firstSlash >= 0 && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost" || first.Any(char.IsAsciiLetterUpper)))
        {
            domain = first;
            path = rest[(firstSlash + 1)..];
            if (!DomainPattern().IsMatch(domain))
            {
                return false;
            }
        }
        else
        {
            domain = DefaultDomain;
            path = firstSlash < 0 ? "library/" + rest : rest;
        }

        if (path.Split('/').Any(component => !ComponentPattern().IsMatch(component)))
        {
            return false;
        }

        var name = domain + "/" + path;
        if (name.Length > 255)
        {
            return false;
        }

        normalized = name + (tag is not null ? ":" + tag : digest is null ? ":latest" : string.Empty) + (digest is not null ? "@" + digest : string.Empty);
        return true;
    }

    /// <summary>The short form Docker shows: <c>docker.io/library/busybox:latest</c> → <c>busybox:latest</c>.</summary>
    public static string Familiar(string normalized)
    {
        const string Library = DefaultDomain + "/library/";
        return normalized.StartsWith(Library, StringComparison.Ordinal) ? normalized[Library.Length..]
            : normalized.StartsWith(DefaultDomain + "/", StringComparison.Ordinal) ? normalized[(DefaultDomain.Length + 1)..]
            : normalized;
    }

    private static string Truncate(string value) => value.Length > 80 ? value[..80] + "…" : value;

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")]
    private static partial Regex ComponentPattern();

    [GeneratedRegex(@"^[\w][\w.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$")]
    private static partial Regex DomainPattern();
}
