using System.Text.RegularExpressions;

namespace Dashboard.Web.Model;

/// <summary>Environment values that look like secrets are never sent to the browser (the Aspire dashboard masks them too).</summary>
public static partial class SecretMasking
{
    public const string Mask = "••••••••";

    public static bool IsSecretName(string name) => SecretName().IsMatch(name ?? "");

    /// <summary><c>NAME=value</c> with the value masked when the name or the value looks secret.</summary>
    public static (string Name, string Value, bool Masked) Split(string entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var eq = entry.IndexOf('=', StringComparison.Ordinal);
        var name = eq < 0 ? entry : entry[..eq];
        var value = eq < 0 ? "" : entry[(eq + 1)..];
        if (IsSecretName(name))
        {
            return (name, Mask, true);
        }

        var masked = CredentialInUrl().Replace(value, m => $"{m.Groups["scheme"].Value}{m.Groups["user"].Value}:{Mask}@");
        return (name, masked, !ReferenceEquals(masked, value) && masked != value);
    }

    [GeneratedRegex(@"(PASS|PWD|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE|AUTH|CERT|SALT|DSN|CONNECTION|COOKIE|SESSION|SIGNATURE)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();

    [GeneratedRegex(@"(?<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?<user>[^:/@\s]*):[^@/\s]+@", RegexOptions.CultureInvariant)]
    private static partial Regex CredentialInUrl();
}
