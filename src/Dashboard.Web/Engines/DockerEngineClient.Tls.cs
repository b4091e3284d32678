using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Docker.DotNet;
using Docker.DotNet.X509;

namespace Dashboard.Web.Engines;

public sealed partial class DockerEngineClient
{
    private readonly X509Certificate2? _clientCertificate;

    /// <summary>The address this client dials, for display (no secrets in it).</summary>
    public string EndpointText => _endpointUri?.ToString() ?? _tlsEndpoint?.ToString().TrimEnd('/') ?? "";

    private readonly Uri? _tlsEndpoint;

    private readonly X509Certificate2Collection? _tlsRoots;

    /// <summary>A client for <c>tcp://HOST:PORT</c> over mutual TLS (<see cref="EngineTlsMaterial"/>).</summary>
    public DockerEngineClient(EngineEndpoint endpoint, EngineTlsMaterial tls)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(tls);
        if (endpoint.Uri.Scheme != "tcp")
        {
            throw new FormatException($"engine {endpoint.Name}: TLS needs a tcp://HOST:PORT address");
        }

        var (client, roots) = tls.Load();
        _name = endpoint.Name;
        _clientCertificate = client;
        _tlsEndpoint = endpoint.Uri;
        _tlsRoots = roots;
        _client = new DockerClientBuilder()
            .WithEndpoint(endpoint.Uri)
            .WithAuthProvider(new CertificateCredentials(client) { ServerCertificateValidationCallback = EngineTlsMaterial.ServerValidator(roots) })
            .Build();
    }

    /// <summary>
    /// A client for the engine's own endpoints (backup, restore) over the same mutual TLS as the Docker API: our client
    /// certificate, and the engine's certificate trusted only when it chains to the CA given for this engine.
    /// </summary>
    private static HttpClient TlsDashboardHttpClient(Uri endpoint, X509Certificate2 clientCertificate, X509Certificate2Collection roots)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = new X509CertificateCollection { clientCertificate },
                RemoteCertificateValidationCallback = EngineTlsMaterial.ServerValidator(roots),
            },
        };
        return new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = new UriBuilder(endpoint) { Scheme = "https" }.Uri,
            Timeout = TimeSpan.FromMinutes(10),
        };
    }

    /// <summary>Null when this connection has no way to the engine's own endpoints (a client built around a given Docker client).</summary>
    private HttpClient? DashboardHttpClient() =>
        _tlsEndpoint is not null && _clientCertificate is not null && _tlsRoots is not null
            ? TlsDashboardHttpClient(_tlsEndpoint, _clientCertificate, _tlsRoots)
            : _endpointUri is { Scheme: "unix" or "http" or "tcp" }
                ? BackupHttpClient(_endpointUri)
                : null;
}
