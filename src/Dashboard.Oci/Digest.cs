using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dashboard.Oci;

/// <summary>
/// A content digest (image-spec descriptor.md "Digests"): <c>algorithm:encoded</c>. Only the
/// registered algorithms sha256 (64 lowercase hex) and sha512 (128 lowercase hex) are accepted, so
/// a parsed digest is safe to use as a file name or URL segment (containers/image CVE-2024-3727,
/// security.md C4). Parsing validates the whole string before any part of it is used.
/// </summary>
[JsonConverter(typeof(DigestJsonConverter))]
public readonly record struct Digest
{
    public const string Sha256 = "sha256";
    public const string Sha512 = "sha512";

    /// <summary>Longest string worth looking at (sha512 plus its prefix).</summary>
    private const int MaxLength = 7 + 128;

    private Digest(string algorithm, string encoded)
    {
        Algorithm = algorithm;
        Encoded = encoded;
    }

    public string Algorithm { get; }

    /// <summary>The hex part; safe as a path component once parsed.</summary>
    public string Encoded { get; }

    public static Digest Parse(string value) =>
        TryParse(value, out var digest, out var reason) ? digest : throw new FormatException($"invalid digest {Quote(value)}: {reason}");

    public static bool TryParse(string? value, out Digest digest) => TryParse(value, out digest, out _);

    public static bool TryParse(string? value, out Digest digest, out string reason)
    {
        digest = default;
        if (string.IsNullOrEmpty(value))
        {
            reason = "empty";
            return false;
        }

        if (value.Length > MaxLength)
        {
            reason = "too long";
            return false;
        }

        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            reason = "missing algorithm";
            return false;
        }

        var algorithm = value[..colon];
        var encoded = value[(colon + 1)..];
        int length;
        switch (algorithm)
        {
            case Sha256:
                length = 64;
                break;
            case Sha512:
                length = 128;
                break;
            default:
                reason = "unsupported algorithm";
                return false;
        }

        if (encoded.Length != length)
        {
            reason = $"{algorithm} needs {length} hex characters";
            return false;
        }

        foreach (var c in encoded)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                reason = "encoded part is not lowercase hex";
                return false;
            }
        }

        digest = new Digest(algorithm, encoded);
        reason = string.Empty;
        return true;
    }

    public static Digest FromHash(string algorithm, ReadOnlySpan<byte> hash) =>
        new(algorithm, Convert.ToHexStringLower(hash));

    public static Digest Compute(ReadOnlySpan<byte> data, string algorithm = Sha256) => algorithm switch
    {
        Sha256 => FromHash(Sha256, SHA256.HashData(data)),
        Sha512 => FromHash(Sha512, SHA512.HashData(data)),
        _ => throw new ArgumentException($"unsupported digest algorithm {algorithm}", nameof(algorithm)),
    };

    /// <summary>An incremental hash for this digest's algorithm.</summary>
    public IncrementalHash CreateHash() => CreateHash(Algorithm);

    public static IncrementalHash CreateHash(string algorithm) => algorithm switch
    {
        Sha256 => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
        Sha512 => IncrementalHash.CreateHash(HashAlgorithmName.SHA512),
        _ => throw new ArgumentException($"unsupported digest algorithm {algorithm}", nameof(algorithm)),
    };

    public bool IsEmpty => Algorithm is null;

    public override string ToString() => IsEmpty ? string.Empty : $"{Algorithm}:{Encoded}";

    /// <summary>A digest as it may appear in messages: control characters escaped, length bounded.</summary>
    internal static string Quote(string? value)
    {
        if (value is null)
        {
            return "null";
        }

        var shown = value.Length > 80 ? value[..80] + "…" : value;
        var builder = new System.Text.StringBuilder(shown.Length + 2);
        builder.Append('"');
        foreach (var c in shown)
        {
            if (char.IsControl(c))
            {
                builder.Append("\\u").Append(((int)c).ToString("x4"));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.Append('"').ToString();
    }
}

/// <summary>Reads and writes <see cref="Digest"/> as its string form; invalid strings fail deserialization.</summary>
public sealed class DigestJsonConverter : JsonConverter<Digest>
{
    public override Digest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("digest must be a string");
        }

        var value = reader.GetString();
        return Digest.TryParse(value, out var digest, out var reason)
            ? digest
            : throw new JsonException($"invalid digest {Digest.Quote(value)}: {reason}");
    }

    public override void Write(Utf8JsonWriter writer, Digest value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
