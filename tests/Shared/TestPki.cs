using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dashboard.Testing;

/// <summary>A throw-away CA with server and client certificates, written as PEM files the way Docker's TLS guide lays them out.</summary>
public sealed class TestPki : IDisposable
{
    private TestPki(string dir, X509Certificate2 ca)
    {
        Dir = dir;
        Ca = ca;
    }

    public string Dir { get; }

    public X509Certificate2 Ca { get; }

    public string CaFile => Path.Combine(Dir, "ca.pem");

    public string ServerCertFile => Path.Combine(Dir, "server-cert.pem");

    public string ServerKeyFile => Path.Combine(Dir, "server-key.pem");

    /// <summary>Client certificate and key as Docker expects them in a cert dir (cert.pem, key.pem, ca.pem).</summary>
    public string ClientDir => Path.Combine(Dir, "client");

    public X509Certificate2 Client { get; private set; } = null!;

    public static TestPki Create(string name = "test")
    {
        var dir = Path.Combine(Path.GetTempPath(), "dtls-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        Directory.CreateDirectory(Path.Combine(dir, "client"));
        var ca = CreateCa($"{name} CA");
        var pki = new TestPki(dir, ca);
        File.WriteAllText(pki.CaFile, ca.ExportCertificatePem());
        var server = Issue(ca, "localhost", server: true);
        File.WriteAllText(pki.ServerCertFile, server.ExportCertificatePem());
        File.WriteAllText(pki.ServerKeyFile, server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        pki.Client = Issue(ca, "client", server: false);
        File.WriteAllText(Path.Combine(pki.ClientDir, "cert.pem"), pki.Client.ExportCertificatePem());
        File.WriteAllText(Path.Combine(pki.ClientDir, "key.pem"), pki.Client.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.Copy(pki.CaFile, Path.Combine(pki.ClientDir, "ca.pem"));
        return pki;
    }

    public static X509Certificate2 CreateCa(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddDays(30));
    }

    public static X509Certificate2 Issue(X509Certificate2 ca, string subject, bool server)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("localhost");
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
        }

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);
        return issued.CopyWithPrivateKey(key);
    }

    public void Dispose()
    {
        Ca.Dispose();
        Client?.Dispose();
        Directory.Delete(Dir, recursive: true);
    }
}
