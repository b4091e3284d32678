using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Dashboard.Testing;
using Dashboard.Web.Engines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dashboard.Web.Tests.Engines;

/// <summary>Registry settings of a remote engine over TCP with mutual TLS, like the backup calls (RemoteBackupTlsTests).</summary>
public sealed class RemoteRegistriesTlsTests : IAsyncLifetime
{
    private readonly TestPki _pki = TestPki.Create("registries");
    private readonly List<(string Method, string RawTarget, string Body, string? Subject)> _requests = [];
    private WebApplication _engine = default!;
    private Uri _endpoint = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var serverCert = X509Certificate2.CreateFromPemFile(_pki.ServerCertFile, _pki.ServerKeyFile);
        var ca = _pki.Ca;
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = serverCert,
            ClientCertificateMode = ClientCertificateMode.RequireCertificate,
            ClientCertificateValidation = (cert, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(cert);
            },
        })));
        _engine = builder.Build();
        _engine.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            lock (_requests)
            {
                _requests.Add((context.Request.Method, context.Features.Get<IHttpRequestFeature>()!.RawTarget, body, context.Connection.ClientCertificate?.Subject));
            }

            if (context.Request.Method == "GET")
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("""[{"Registry":"ghcr.io","Username":"bob","HasSecret":true,"Insecure":false}]""", context.RequestAborted);
                return;
            }

            context.Response.StatusCode = StatusCodes.Status204NoContent;
        });
        await _engine.StartAsync(Ct);
        var address = _engine.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _endpoint = new Uri($"tcp://127.0.0.1:{new Uri(address).Port}");
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        _pki.Dispose();
    }

    private DockerEngineClient Client() =>
        new(new EngineEndpoint("remote", _endpoint), new EngineTlsMaterial(
            File.ReadAllText(Path.Combine(_pki.ClientDir, "ca.pem")),
            File.ReadAllText(Path.Combine(_pki.ClientDir, "cert.pem")),
            File.ReadAllText(Path.Combine(_pki.ClientDir, "key.pem"))));

    [Fact]
    public async Task RegistryCalls_RemoteEngineOverMtls_ListSetRemoveWithClientCertificate()
    {
        using var client = Client();

        var list = await client.ListRegistriesAsync(Ct);
        await client.SetRegistryAsync("localhost:5000", "alice", "pw", insecure: true, Ct);
        await client.RemoveRegistryAsync("localhost:5000", Ct);

        Assert.Equal([new RegistrySettings("ghcr.io", "bob", true, false)], list);
        Assert.Equal(
            [
                ("GET", "/dashboard/registries", "", "CN=client"),
                ("PUT", "/dashboard/registries/localhost%3A5000", """{"Username":"alice","Password":"pw","Insecure":true}""", "CN=client"),
                ("DELETE", "/dashboard/registries/localhost%3A5000", "", "CN=client"),
            ],
            _requests);
    }
}
