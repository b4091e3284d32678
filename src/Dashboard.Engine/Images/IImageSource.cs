using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dashboard.Engine.Images;

/// <summary>The parts of an OCI image config (image-spec config.md, <c>config</c> object) a container inherits.</summary>
public sealed class ImageRunConfig
{
    public string? User { get; set; }
    public List<string>? Env { get; set; }
    public List<string>? Entrypoint { get; set; }
    public List<string>? Cmd { get; set; }
    public string? WorkingDir { get; set; }
    public Dictionary<string, string>? Labels { get; set; }
    public string? StopSignal { get; set; }
    public Dictionary<string, JsonElement>? ExposedPorts { get; set; }
    public Dictionary<string, JsonElement>? Volumes { get; set; }
}

/// <summary>An image ready to run: its id, the reference it was found by, its root filesystem and run config.</summary>
public sealed record ResolvedImage(string Id, string Reference, string RootfsPath, ImageRunConfig Config);

/// <summary>Where the engine gets images from (to be backed by Dashboard.Images' store and snapshots).</summary>
public interface IImageSource
{
    /// <summary>Resolves a reference (<c>busybox</c>, <c>busybox:1.36</c>, an image id); NotFound when absent.</summary>
    Task<ResolvedImage> ResolveAsync(string reference, CancellationToken cancellationToken);

    Task<IReadOnlyList<ResolvedImage>> ListAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Images kept as plain directories: <c>DIR/&lt;escaped reference&gt;/rootfs/</c> plus an optional
/// <c>config.json</c> in image-spec config form. A stop-gap until Dashboard.Images lands: containers
/// run directly on the directory (no overlay snapshot), so they share its files.
/// </summary>
public sealed class DirectoryImageSource(string root) : IImageSource
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNameCaseInsensitive = true,
        AllowDuplicateProperties = false,
        NumberHandling = JsonNumberHandling.Strict,
    };

    public string Root => root;

    /// <summary>Docker's short-reference rules: no tag means <c>:latest</c>; <c>docker.io/library/</c> is implied.</summary>
    public static string Normalize(string reference)
    {
        var r = reference.Trim();
        foreach (var prefix in new[] { "docker.io/library/", "docker.io/", "index.docker.io/library/" })
        {
            if (r.StartsWith(prefix, StringComparison.Ordinal))
            {
                r = r[prefix.Length..];
                break;
            }
        }

        if (r.Contains('@', StringComparison.Ordinal))
        {
            return r;
        }

        var lastSlash = r.LastIndexOf('/');
        return r.IndexOf(':', lastSlash + 1) < 0 ? r + ":latest" : r;
    }

    public static string DirectoryName(string normalizedReference) => Uri.EscapeDataString(normalizedReference);

    public async Task<ResolvedImage> ResolveAsync(string reference, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(reference) || reference.Length > 512)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid reference format: {reference}");
        }

        var all = await ListAsync(cancellationToken);
        var normalized = Normalize(reference);
        var found = all.FirstOrDefault(i => i.Reference == normalized)
            ?? all.FirstOrDefault(i => i.Id == reference)
            ?? (reference.Length >= 4 && reference.All(char.IsAsciiHexDigitLower)
                ? SingleOrNone(all.Where(i => i.Id.StartsWith("sha256:" + reference, StringComparison.Ordinal)).ToList())
                : null);
        return found ?? throw EngineException.NoSuchImage(reference);
    }

    public async Task<IReadOnlyList<ResolvedImage>> ListAsync(CancellationToken cancellationToken)
    {
        var result = new List<ResolvedImage>();
        if (!Directory.Exists(root))
        {
            return result;
        }

        foreach (var dir in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            var rootfs = Path.Combine(dir, "rootfs");
            if (!Directory.Exists(rootfs))
            {
                continue;
            }

            var reference = Uri.UnescapeDataString(Path.GetFileName(dir));
            var configPath = Path.Combine(dir, "config.json");
            var configBytes = File.Exists(configPath) ? await File.ReadAllBytesAsync(configPath, cancellationToken) : [];
            var config = new ImageRunConfig();
            if (configBytes.Length > 0)
            {
                try
                {
                    using var doc = JsonDocument.Parse(configBytes, new JsonDocumentOptions { AllowDuplicateProperties = false });
                    if (doc.RootElement.TryGetProperty("config", out var c))
                    {
                        config = c.Deserialize<ImageRunConfig>(s_json) ?? new();
                    }
                }
                catch (JsonException e)
                {
                    throw new EngineException(ErrorKind.Internal, $"image {reference}: config.json: {e.Message}", e);
                }
            }

            var digest = SHA256.HashData(configBytes.Length > 0 ? configBytes : Encoding.UTF8.GetBytes(reference));
            result.Add(new ResolvedImage("sha256:" + Convert.ToHexStringLower(digest), reference, rootfs, config));
        }

        return result;
    }

    private static ResolvedImage? SingleOrNone(List<ResolvedImage> matches) => matches.Count == 1 ? matches[0] : null;
}
