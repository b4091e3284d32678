using System.Text.Json;

namespace Dashboard.Runtime;

/// <summary>
/// Token helpers for the runtime's hand-written JSON readers (state.json, the init message): each error names
/// the document and the field, as the serializer's messages did.
/// </summary>
internal static class JsonFields
{
    public static void Next(ref Utf8JsonReader r, string document)
    {
        if (!r.Read())
        {
            throw new JsonException($"{document}: unexpected end of data");
        }
    }

    /// <summary>Moves to the next property name; false at the end of the object.</summary>
    public static bool Property(ref Utf8JsonReader r, string document)
    {
        Next(ref r, document);
        return r.TokenType != JsonTokenType.EndObject;
    }

    public static void Expect(ref Utf8JsonReader r, JsonTokenType token, string document, string field)
    {
        if (r.TokenType != token)
        {
            throw new JsonException($"{document}: {field}: unexpected {r.TokenType}");
        }
    }

    public static string? NullableString(ref Utf8JsonReader r, string document, string field)
    {
        Next(ref r, document);
        return r.TokenType switch
        {
            JsonTokenType.Null => null,
            JsonTokenType.String => r.GetString(),
            _ => throw new JsonException($"{document}: {field}: expected a string, found {r.TokenType}"),
        };
    }

    public static bool Bool(ref Utf8JsonReader r, string document, string field)
    {
        Next(ref r, document);
        return r.TokenType switch
        {
            JsonTokenType.True => true,
            JsonTokenType.False => false,
            _ => throw new JsonException($"{document}: {field}: expected true or false, found {r.TokenType}"),
        };
    }

    public static int Int32(ref Utf8JsonReader r, string document, string field)
    {
        Next(ref r, document);
        return r.TokenType == JsonTokenType.Number && r.TryGetInt32(out var value)
            ? value
            : throw new JsonException($"{document}: {field}: expected a 32-bit integer");
    }
}
