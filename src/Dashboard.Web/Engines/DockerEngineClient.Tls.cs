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
        _client = new DockerClientBuilder()
            .WithEndpoint(endpoint.Uri)
            .WithAuthProvider(new CertificateCredentials(client) { ServerCertificateValidationCallback = EngineTlsMaterial.ServerValidator(roots) })
            .Build();
    }
}
