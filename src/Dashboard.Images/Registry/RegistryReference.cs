using Dashboard.Images.Import;
using Dashboard.Oci;

namespace Dashboard.Images.Registry;

/// <summary>
/// An image reference split for the distribution API: registry host, repository, and a tag or a
/// digest. Parsing goes through <see cref="ImageReference"/> (distribution reference grammar), so
/// the repository, tag and digest are safe as URL path segments (security.md C4, C6).
/// </summary>
public sealed record RegistryReference
{
    /// <summary>Docker Hub's API endpoint for the <c>docker.io</c> name domain.</summary>
    public const string DockerHubEndpoint = "registry-1.docker.io";

    private RegistryReference(string registry, string repository, string? tag, Digest? digest)
    {
        Registry = registry;
        Repository = repository;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>The registry as named in references and settings (<c>docker.io</c>, <c>localhost:5000</c>).</summary>
    public string Registry { get; }

    public string Repository { get; }

    public string? Tag { get; }

    public Digest? Digest { get; }

    /// <summary>Host and port the API is served from.</summary>
    public string Endpoint => Registry == ImageReference.DefaultDomain ? DockerHubEndpoint : Registry;

    /// <summary>The tag, or the digest when pulling by digest: what goes after <c>/manifests/</c>.</summary>
    public string ManifestReference => Digest?.ToString() ?? Tag ?? "latest";

    /// <summary><c>registry/repository</c>, the name records use.</summary>
    public string Name => Registry + "/" + Repository;

    public static RegistryReference Parse(string reference)
    {
        if (!ImageReference.TryNormalize(reference, out var normalized))
        {
            throw new RegistryException(RegistryErrorKind.Protocol, $"invalid reference format: \"{(reference.Length > 80 ? reference[..80] + "…" : reference)}\"");
        }

        Digest? digest = null;
        var at = normalized.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = Oci.Digest.Parse(normalized[(at + 1)..]);
            normalized = normalized[..at];
        }

        string? tag = null;
        var colon = normalized.LastIndexOf(':');
        if (colon > normalized.LastIndexOf('/'))
        {
            tag = normalized[(colon + 1)..];
            normalized = normalized[..colon];
        }

        var slash = normalized.IndexOf('/', StringComparison.Ordinal);
        return new RegistryReference(normalized[..slash].ToLowerInvariant(), normalized[(slash + 1)..], tag, digest);
    }

    /// <summary>The same repository with another tag.</summary>
    public RegistryReference WithTag(string tag) => new(Registry, Repository, tag, null);

    /// <summary>The same repository pinned to a digest (the tag is dropped).</summary>
    public RegistryReference WithDigest(Digest digest) => new(Registry, Repository, null, digest);

    /// <summary>The reference as records store it: <c>registry/repo:tag</c> or <c>registry/repo@digest</c>.</summary>
    public override string ToString() => Digest is { } d ? $"{Name}@{d}" : $"{Name}:{Tag ?? "latest"}";
}
