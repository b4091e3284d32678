using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dashboard.Web.Engines;

/// <summary>
/// What the dashboard needs to reach an engine over TCP with mutual TLS: the CA that issued the engine's
/// server certificate (the only trust anchor: the system store is not consulted) and the client
/// certificate with its private key, all PEM as Docker's TLS guide produces them.
/// </summary>
public sealed record EngineTlsMaterial(string CaPem, string CertPem, string KeyPem)
{
    /// <summary>Largest PEM file accepted for any of the three parts.</summary>
    public const int MaxPemLength = 64 * 1024;

    /// <summary>Parses all three parts; throws <see cref="FormatException"/> with a message fit for the UI.</summary>
    public (X509Certificate2 Client, X509Certificate2Collection Roots) Load()
    {
        foreach (var (what, pem) in new[] { ("CA", CaPem), ("certificate", CertPem), ("key", KeyPem) })
        {
            if (string.IsNullOrWhiteSpace(pem) || pem.Length > MaxPemLength)
            {
                throw new FormatException($"{what}: expected a PEM file of at most {MaxPemLength / 1024} KiB");
            }
        }

        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPem(CaPem);
        }
        catch (CryptographicException e)
        {
            throw new FormatException($"CA: not a PEM certificate ({e.Message})", e);
        }

        if (roots.Count == 0)
        {
            throw new FormatException("CA: no PEM certificate found");
        }

        X509Certificate2 client;
        try
        {
            client = X509Certificate2.CreateFromPem(CertPem, KeyPem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new FormatException($"client certificate and key: {e.Message}", e);
        }

        if (!client.HasPrivateKey)
        {
            client.Dispose();
            throw new FormatException("client certificate and key: the key does not belong to the certificate");
        }

        return (client, roots);
    }

    /// <summary>Accepts the engine's certificate only when it chains to <paramref name="roots"/> and names the host dialled.</summary>
    public static RemoteCertificateValidationCallback ServerValidator(X509Certificate2Collection roots) => (_, certificate, sent, errors) =>
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        if (sent is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(sent.ChainPolicy.ExtraStore);
        }

        return chain.Build(leaf);
    };
}
