using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dashboard.Engine.Api;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Dashboard.Engine.Hosting;

/// <summary>
/// The optional TCP listener: the same API as the unix socket, reachable only over TLS 1.2+ with a
/// client certificate that chains to the configured CA. Whoever holds such a certificate has root on
/// this host (security.md D1, D9), so there is no plaintext TCP and no fallback to the system trust store.
/// </summary>
public static class EngineTls
{
    private static readonly Oid s_clientAuth = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    /// <summary>Adds the TLS listener when <see cref="EngineOptions.TlsListen"/> is set; the files are read now so a bad file stops the start.</summary>
    public static void Listen(KestrelServerOptions kestrel, EngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(options);
        if (options.TlsListen is null)
        {
            return;
        }

        if (!EngineOptions.TryParseEndPoint(options.TlsListen, out var endPoint))
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"--tls-listen {options.TlsListen}: not HOST:PORT");
        }

        var material = TlsMaterial.Load(options.TlsCert!, options.TlsKey!, options.TlsCa!);
        var log = kestrel.ApplicationServices.GetService<ILoggerFactory>()?.CreateLogger("Dashboard.Engine.Tls");
        kestrel.Listen(endPoint, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            listen.UseHttps(new TlsHandshakeCallbackOptions
            {
                HandshakeTimeout = TimeSpan.FromSeconds(10),
                OnConnection = _ => ValueTask.FromResult(material.CreateServerOptions(log)),
            });
            listen.Use(Hijack.Middleware);
        });
        log?.LogInformation("TLS listener on {EndPoint} (client certificates from {Ca})", endPoint, options.TlsCa);
    }

    /// <summary>True when <paramref name="certificate"/> chains to one of <paramref name="roots"/> (and nothing else) and may authenticate a client.</summary>
    public static bool IsTrustedClient(X509Certificate2 certificate, X509Certificate2Collection roots, IEnumerable<X509Certificate2>? intermediates, out string problem)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(roots);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;

        // A certificate without an EKU extension is valid for any purpose (RFC 5280 4.2.1.12); one with it must list clientAuth, as Docker's guide issues them.
        chain.ChainPolicy.ApplicationPolicy.Add(s_clientAuth);
        foreach (var extra in intermediates ?? [])
        {
            chain.ChainPolicy.ExtraStore.Add(extra);
        }

        if (chain.Build(certificate))
        {
            problem = "";
            return true;
        }

        problem = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal));
        if (problem.Length == 0)
        {
            problem = "untrusted chain";
        }

        return false;
    }

    private sealed class TlsMaterial
    {
        private readonly SslStreamCertificateContext _context;
        private readonly X509Certificate2Collection _roots;

        private TlsMaterial(SslStreamCertificateContext context, X509Certificate2Collection roots)
        {
            _context = context;
            _roots = roots;
        }

        public static TlsMaterial Load(string certFile, string keyFile, string caFile)
        {
            X509Certificate2 server;
            var chain = new X509Certificate2Collection();
            var roots = new X509Certificate2Collection();
            try
            {
                server = X509Certificate2.CreateFromPemFile(certFile, keyFile);
                chain.ImportFromPemFile(certFile);
                roots.ImportFromPemFile(caFile);
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"TLS files ({certFile}, {keyFile}, {caFile}): {e.Message}");
            }

            if (roots.Count == 0)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"--tls-ca {caFile}: no PEM certificate in the file");
            }

            // The trust list goes into the CertificateRequest (RFC 8446 4.2.4) so clients such as Go's pick the certificate this CA issued.
            var trust = SslCertificateTrust.CreateForX509Collection(roots, sendTrustInHandshake: true);
            var context = SslStreamCertificateContext.Create(server, new X509Certificate2Collection(chain.Skip(1).ToArray()), offline: true, trust);
            return new TlsMaterial(context, roots);
        }

        public SslServerAuthenticationOptions CreateServerOptions(ILogger? log) => new()
        {
            ServerCertificateContext = _context,
            ClientCertificateRequired = true,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            ApplicationProtocols = [SslApplicationProtocol.Http11],
            RemoteCertificateValidationCallback = (_, certificate, sentChain, _) => Validate(certificate, sentChain, log),
        };

        private bool Validate(X509Certificate? certificate, X509Chain? sentChain, ILogger? log)
        {
            if (certificate is null)
            {
                log?.LogWarning("refused TLS connection without a client certificate");
                return false;
            }

            var owned = certificate as X509Certificate2 is null;
            var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            try
            {
                var intermediates = sentChain?.ChainPolicy.ExtraStore.Cast<X509Certificate2>().ToList();
                if (IsTrustedClient(leaf, _roots, intermediates, out var problem))
                {
                    return true;
                }

                log?.LogWarning("refused TLS client certificate {Subject} (issuer {Issuer}): {Problem}", leaf.Subject, leaf.Issuer, problem);
                return false;
            }
            finally
            {
                if (owned)
                {
                    leaf.Dispose();
                }
            }
        }
    }
}
