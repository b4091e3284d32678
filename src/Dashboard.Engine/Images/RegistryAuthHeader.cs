using System.Text;
using System.Text.Json;
using Dashboard.Images.Registry;

namespace Dashboard.Engine.Images;

/// <summary>
/// Docker's <c>X-Registry-Auth</c> header: base64url (padding optional) of a JSON AuthConfig
/// (<c>username</c>, <c>password</c>, <c>auth</c> = base64 "user:password", <c>serveraddress</c>, …).
/// The credentials serve the one request that carried them: they are never stored, and they never
/// appear in an error message or a log line.
/// </summary>
public static class RegistryAuthHeader
{
    /// <summary>Largest header accepted; Docker's AuthConfig is a few hundred bytes.</summary>
    private const int MaxLength = 16 * 1024;

    /// <summary>The credentials in <paramref name="header"/>, or null when it carries none (absent, <c>{}</c>, empty username).</summary>
    public static RegistryCredentials? Parse(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return null;
        }

        if (header.Length > MaxLength)
        {
            throw Invalid("too long");
        }

        byte[] json;
        try
        {
            var base64 = header.Trim().Replace('-', '+').Replace('_', '/');
            base64 += new string('=', (4 - (base64.Length % 4)) % 4);
            json = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            throw Invalid("not base64");
        }

        return FromJson(json).Credentials;
    }

    /// <summary>
    /// The credentials and server address of an AuthConfig JSON document (the decoded header, or the body of
    /// <c>POST /auth</c>); credentials are null when it carries none.
    /// </summary>
    public static (RegistryCredentials? Credentials, string? ServerAddress) FromJson(ReadOnlySpan<byte> json)
    {
        if (json.Length > MaxLength)
        {
            throw Invalid("too long");
        }

        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { AllowDuplicateProperties = false });
            root = doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            // The JSON parser's message may quote the secret it choked on.
            throw Invalid("not a JSON object");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("not a JSON object");
        }

        var username = Text(root, "username");
        var password = Text(root, "password");
        if (Text(root, "auth") is { Length: > 0 } auth)
        {
            string pair;
            try
            {
                pair = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
            }
            catch (FormatException)
            {
                throw Invalid("auth is not base64");
            }

            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw Invalid("auth is not user:password");
            }

            username = pair[..colon];
            password = pair[(colon + 1)..];
        }

        if (Text(root, "identitytoken") is { Length: > 0 } || Text(root, "registrytoken") is { Length: > 0 })
        {
            throw new EngineException(ErrorKind.InvalidArgument, "registry auth config: identity and registry tokens are not supported by this engine, log in with a username and password");
        }

        var server = Text(root, "serveraddress");
        if (string.IsNullOrEmpty(username))
        {
            return (null, server);
        }

        if (username.Contains(':', StringComparison.Ordinal) || username.Any(char.IsControl) || (password ?? "").Any(c => c is '\r' or '\n' or '\0'))
        {
            throw Invalid("bad username or password characters");
        }

        return (new RegistryCredentials(username, password ?? ""), server);
    }

    private static string? Text(JsonElement root, string name)
    {
        foreach (var p in root.EnumerateObject())
        {
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString(),
                    JsonValueKind.Null => null,
                    _ => throw Invalid($"{name} is not a string"),
                };
            }
        }

        return null;
    }

    private static EngineException Invalid(string why) => new(ErrorKind.InvalidArgument, "invalid registry auth config: " + why);
}
