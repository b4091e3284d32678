namespace Dashboard.Web.Engines;

/// <summary>An engine the dashboard manages: <c>unix:///run/dashboard/engine.sock</c> or <c>NAME=URI</c>.</summary>
public sealed record EngineEndpoint(string Name, Uri Uri)
{
    private static readonly string[] s_schemes = ["unix", "tcp", "http"];

    public static EngineEndpoint Parse(string value, int index)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = value.Trim();
        string? name = null;
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (eq > 0 && (scheme < 0 || eq < scheme))
        {
            name = text[..eq].Trim();
            text = text[(eq + 1)..].Trim();
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || !s_schemes.Contains(uri.Scheme, StringComparer.OrdinalIgnoreCase))
        {
            throw new FormatException($"engine {value}: expected unix:///path/to/engine.sock or tcp://host:port");
        }

        if (uri.Scheme == "unix" && uri.AbsolutePath.Length <= 1)
        {
            throw new FormatException($"engine {value}: unix endpoint needs a socket path");
        }

        name ??= index == 0 ? "local" : uri.Scheme == "unix" ? $"engine{index + 1}" : uri.Host;
        if (name.Length == 0 || name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new FormatException($"engine {value}: name must be 1-64 letters, digits, '-', '_' or '.'");
        }

        return new EngineEndpoint(name, uri);
    }
}
