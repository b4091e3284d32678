using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Dashboard.Engine.Api;

/// <summary>
/// One set of JSON rules for every request and response of the Docker API. Requests are parsed
/// once into the object that is validated and executed, duplicate keys (including case variants,
/// since Docker's Go decoder matches names case-insensitively) are refused, numbers must be numbers
/// (security.md D4).
/// </summary>
public static class DockerJson
{
    /// <summary>Largest JSON request body accepted (Docker create bodies are a few KiB).</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = null,
        PropertyNameCaseInsensitive = true,
        AllowDuplicateProperties = false,
        ReadCommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        NumberHandling = JsonNumberHandling.Strict,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        MaxDepth = 64,
        TypeInfoResolver = EngineJsonContext.Default,
    };

    /// <summary>Options for persisted documents: same parser rules, nulls left out.</summary>
    public static readonly JsonSerializerOptions Storage = new(Options)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>
    /// System.Text.Json's default rules (case-sensitive names, a repeated key's last value wins) over the engine's
    /// contracts: for documents that never followed the Docker API rules (shim control lines, the archive stat header,
    /// the runtime's ps output), so their text and parsing stay as they were.
    /// </summary>
    public static readonly JsonSerializerOptions Plain = new()
    {
        TypeInfoResolver = EngineJsonContext.Default,
    };

    /// <summary>Reads and parses a JSON body; an empty body yields null. Throws InvalidArgument on anything malformed or too big.</summary>
    public static async Task<T?> ReadBodyAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        var body = await ReadBodyBytesAsync(request, cancellationToken);
        if (body.Length == 0)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(body.Span, Info<T>(Options));
        }
        catch (JsonException e)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid JSON: {e.Message}", e);
        }
    }

    /// <summary>Reads a request body of at most <see cref="MaxBodyBytes"/>; InvalidArgument when it is longer.</summary>
    public static async Task<ReadOnlyMemory<byte>> ReadBodyBytesAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"request body too large: more than {MaxBodyBytes} bytes");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"request body too large: more than {MaxBodyBytes} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    /// <summary>
    /// <typeparamref name="T"/>'s contract in <paramref name="options"/>: every (de)serialization goes through one, so the
    /// options' resolver decides how a type is read and written, and no call needs reflection over <typeparamref name="T"/>.
    /// </summary>
    public static JsonTypeInfo<T> Info<T>(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
    }

    public static IResult Json<T>(T value, int statusCode = StatusCodes.Status200OK) =>
        Results.Json(value, Info<T>(Options), "application/json", statusCode);
}

/// <summary>Docker's strslice: a JSON string or an array of strings (Cmd, Entrypoint, Healthcheck.Test, Shell).</summary>
public sealed class StrSliceConverter : JsonConverter<List<string>>
{
    public override List<string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return [reader.GetString()!];
            case JsonTokenType.StartArray:
                var list = new List<string>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw new JsonException("expected a string in the array");
                    }

                    list.Add(reader.GetString()!);
                }

                return list;
            default:
                throw new JsonException("expected a string or an array of strings");
        }
    }

    public override void Write(Utf8JsonWriter writer, List<string> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var item in value)
        {
            writer.WriteStringValue(item);
        }

        writer.WriteEndArray();
    }
}
