using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dashboard.Oci.Image;

/// <summary>A document that is not a valid image-spec document of the expected kind.</summary>
public sealed class ImageDocumentException : FormatException
{
    public ImageDocumentException(string message)
        : base(message)
    {
    }

    public ImageDocumentException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>An index or a manifest, as a manifest endpoint or an index.json entry may hold either.</summary>
public sealed record ImageDocument(string MediaType, ImageIndex? Index, ImageManifest? Manifest);

/// <summary>
/// Reads and writes image-spec documents (AOT-safe, source generated). Limits and checks follow
/// security.md B9 and C5: documents over 4 MiB are refused, duplicate keys are refused, schema 1 is
/// refused, and a document carrying both <c>manifests</c> and <c>layers</c>/<c>config</c> is refused
/// as ambiguous (CVE-2021-41190).
/// </summary>
public static class ImageJson
{
    /// <summary>containers/image iolimits MaxManifestBodySize and MaxConfigBodySize.</summary>
    public const int MaxDocumentSize = 4 << 20;

    public static ImageDocument ParseDocument(ReadOnlySpan<byte> utf8, string? expectedMediaType = null)
    {
        CheckSize(utf8, "manifest");
        DocumentProbe probe;
        try
        {
            probe = JsonSerializer.Deserialize(utf8, ImageJsonContext.Default.DocumentProbe)
                ?? throw new ImageDocumentException("manifest is null");
        }
        catch (JsonException e)
        {
            throw new ImageDocumentException($"invalid manifest: {e.Message}", e);
        }

        if (MediaTypes.IsSchema1(probe.MediaType) || MediaTypes.IsSchema1(expectedMediaType) || probe.FsLayers is not null || probe.SchemaVersion == 1)
        {
            throw new ImageDocumentException("docker image manifest schema 1 is not supported");
        }

        if (probe.SchemaVersion != 2)
        {
            throw new ImageDocumentException($"unsupported manifest schemaVersion {probe.SchemaVersion}");
        }

        var hasManifests = probe.Manifests is not null;
        var hasImageFields = probe.Layers is not null || probe.Config is not null;
        if (hasManifests && hasImageFields)
        {
            throw new ImageDocumentException("ambiguous document: it has both manifests and layers/config (CVE-2021-41190)");
        }

        if (!hasManifests && !hasImageFields)
        {
            throw new ImageDocumentException("document is neither an index nor a manifest");
        }

        if (probe.MediaType is not null && expectedMediaType is not null && probe.MediaType != expectedMediaType)
        {
            throw new ImageDocumentException($"mediaType {probe.MediaType} does not match {expectedMediaType}");
        }

        var mediaType = probe.MediaType ?? expectedMediaType ?? (hasManifests ? MediaTypes.OciIndex : MediaTypes.OciManifest);
        if (hasManifests)
        {
            if (!MediaTypes.IsIndex(mediaType))
            {
                throw new ImageDocumentException($"document with manifests has media type {mediaType}");
            }

            return new ImageDocument(mediaType, ParseIndex(utf8), null);
        }

        if (!MediaTypes.IsManifest(mediaType))
        {
            throw new ImageDocumentException($"unsupported manifest media type {mediaType}");
        }

        return new ImageDocument(mediaType, null, ParseManifest(utf8));
    }

    public static ImageIndex ParseIndex(ReadOnlySpan<byte> utf8)
    {
        var index = Parse(utf8, ImageJsonContext.Default.ImageIndex, "index");
        if (index.SchemaVersion != 2)
        {
            throw new ImageDocumentException($"unsupported index schemaVersion {index.SchemaVersion}");
        }

        foreach (var descriptor in index.Manifests)
        {
            CheckDescriptor(descriptor, "index entry");
        }

        return index;
    }

    public static ImageManifest ParseManifest(ReadOnlySpan<byte> utf8)
    {
        var manifest = Parse(utf8, ImageJsonContext.Default.ImageManifest, "manifest");
        if (manifest.SchemaVersion != 2)
        {
            throw new ImageDocumentException($"unsupported manifest schemaVersion {manifest.SchemaVersion}");
        }

        CheckDescriptor(manifest.Config, "config");
        foreach (var layer in manifest.Layers)
        {
            CheckDescriptor(layer, "layer");
        }

        return manifest;
    }

    public static ImageConfig ParseConfig(ReadOnlySpan<byte> utf8)
    {
        var config = Parse(utf8, ImageJsonContext.Default.ImageConfig, "image config");
        if (config.RootFs.Type != "layers")
        {
            throw new ImageDocumentException($"unsupported rootfs type {config.RootFs.Type}");
        }

        return config;
    }

    public static ImageLayoutHeader ParseLayoutHeader(ReadOnlySpan<byte> utf8) =>
        Parse(utf8, ImageJsonContext.Default.ImageLayoutHeader, "oci-layout");

    public static List<DockerArchiveEntry> ParseDockerArchiveManifest(ReadOnlySpan<byte> utf8) =>
        Parse(utf8, ImageJsonContext.Default.ListDockerArchiveEntry, "manifest.json");

    /// <summary>The <c>repositories</c> file of a docker save archive: name → tag → image id.</summary>
    public static Dictionary<string, Dictionary<string, string>> ParseDockerRepositories(ReadOnlySpan<byte> utf8) =>
        Parse(utf8, ImageJsonContext.Default.DictionaryStringDictionaryStringString, "repositories");

    public static byte[] Serialize(ImageIndex value) => JsonSerializer.SerializeToUtf8Bytes(value, ImageJsonContext.Default.ImageIndex);

    public static byte[] Serialize(ImageManifest value) => JsonSerializer.SerializeToUtf8Bytes(value, ImageJsonContext.Default.ImageManifest);

    public static byte[] Serialize(ImageConfig value) => JsonSerializer.SerializeToUtf8Bytes(value, ImageJsonContext.Default.ImageConfig);

    public static byte[] Serialize(ImageLayoutHeader value) => JsonSerializer.SerializeToUtf8Bytes(value, ImageJsonContext.Default.ImageLayoutHeader);

    public static byte[] Serialize(List<DockerArchiveEntry> value) => JsonSerializer.SerializeToUtf8Bytes(value, ImageJsonContext.Default.ListDockerArchiveEntry);

    public static byte[] Serialize(Dictionary<string, Dictionary<string, string>> value) =>
        JsonSerializer.SerializeToUtf8Bytes(value, ImageJsonContext.Default.DictionaryStringDictionaryStringString);

    private static T Parse<T>(ReadOnlySpan<byte> utf8, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info, string what)
    {
        CheckSize(utf8, what);
        try
        {
            return JsonSerializer.Deserialize(utf8, info) ?? throw new ImageDocumentException($"{what} is null");
        }
        catch (JsonException e)
        {
            throw new ImageDocumentException($"invalid {what}: {e.Message}", e);
        }
    }

    private static void CheckSize(ReadOnlySpan<byte> utf8, string what)
    {
        if (utf8.Length > MaxDocumentSize)
        {
            throw new ImageDocumentException($"{what} is larger than {MaxDocumentSize} bytes");
        }
    }

    private static void CheckDescriptor(Descriptor? descriptor, string what)
    {
        if (descriptor is null)
        {
            throw new ImageDocumentException($"{what} descriptor is null");
        }

        if (descriptor.Digest.IsEmpty)
        {
            throw new ImageDocumentException($"{what} descriptor has no digest");
        }

        if (descriptor.Size < 0)
        {
            throw new ImageDocumentException($"{what} descriptor {descriptor.Digest} has negative size {descriptor.Size}");
        }

        if (string.IsNullOrEmpty(descriptor.MediaType))
        {
            throw new ImageDocumentException($"{what} descriptor {descriptor.Digest} has no mediaType");
        }
    }
}

/// <summary>Which top-level fields a document has, to classify it before trusting its type.</summary>
internal sealed class DocumentProbe
{
    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; set; }
    [JsonPropertyName("mediaType")] public string? MediaType { get; set; }
    [JsonPropertyName("manifests")] public JsonElement? Manifests { get; set; }
    [JsonPropertyName("layers")] public JsonElement? Layers { get; set; }
    [JsonPropertyName("config")] public JsonElement? Config { get; set; }
    [JsonPropertyName("fsLayers")] public JsonElement? FsLayers { get; set; }
}

[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowDuplicateProperties = false,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ImageIndex))]
[JsonSerializable(typeof(ImageManifest))]
[JsonSerializable(typeof(ImageConfig))]
[JsonSerializable(typeof(ImageLayoutHeader))]
[JsonSerializable(typeof(List<DockerArchiveEntry>))]
[JsonSerializable(typeof(Dictionary<string, Dictionary<string, string>>))]
[JsonSerializable(typeof(DocumentProbe))]
internal sealed partial class ImageJsonContext : JsonSerializerContext;
