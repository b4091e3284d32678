using System.Net;
using System.Security.Cryptography.X509Certificates;
using Dashboard.Testing;
using Dashboard.Web.Engines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dashboard.Web.Tests.Engines;

/// <summary>
/// Backup and restore of a remote engine over TCP with mutual TLS: the web's engine client against a local HTTPS
/// listener that, like <c>dashboard-engine --tls-listen</c>, demands a client certificate from its CA and serves
/// <c>POST /dashboard/backup</c> and <c>POST /dashboard/restore</c> (the real engine pair is in RemoteEngineMtlsTests).
/// </summary>
public sealed class RemoteBackupTlsTests : IAsyncLifetime
{
    private static readonly byte[] s_database = [.. "SQLite format 3\0"u8, .. Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7))];

    private readonly TestPki _pki = TestPki.Create("backup");
    private WebApplication _engine = default!;
    private Uri _endpoint = default!;
    private byte[]? _restored;
    private string? _clientSubject;

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
        _engine.MapPost("/dashboard/backup", async (HttpContext context) =>
        {
            _clientSubject = context.Connection.ClientCertificate?.Subject;
            context.Response.ContentType = "application/vnd.sqlite3";
            context.Response.Headers["X-Dashboard-Schema"] = "0002_Images";
            await context.Response.Body.WriteAsync(s_database, context.RequestAborted);
        });
        _engine.MapPost("/dashboard/restore", async (HttpContext context) =>
        {
            _clientSubject = context.Connection.ClientCertificate?.Subject;
            using var copy = new MemoryStream();
            await context.Request.Body.CopyToAsync(copy, context.RequestAborted);
            _restored = copy.ToArray();
            // The engine's answer (RestoreAnswer) in Docker's PascalCase JSON.
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"Schema":"0002_Images","Restarting":true}""", context.RequestAborted);
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

    private DockerEngineClient Client(string? caPem = null) =>
        new(new EngineEndpoint("remote", _endpoint), new EngineTlsMaterial(
            caPem ?? File.ReadAllText(Path.Combine(_pki.ClientDir, "ca.pem")),
            File.ReadAllText(Path.Combine(_pki.ClientDir, "cert.pem")),
            File.ReadAllText(Path.Combine(_pki.ClientDir, "key.pem"))));

    [Fact]
    public async Task BackupAsync_RemoteEngineOverMtls_StreamsDatabaseWithSchema()
    {
        using var client = Client();

        await using var backup = await client.BackupAsync(Ct);
        using var copy = new MemoryStream();
        await backup.Content.CopyToAsync(copy, Ct);

        Assert.Equal("0002_Images", backup.Schema);
        Assert.Equal(s_database, copy.ToArray());
        Assert.Equal("CN=client", _clientSubject);
    }

    [Fact]
    public async Task RestoreAsync_RemoteEngineOverMtls_UploadsDatabaseAndReturnsSchema()
    {
        using var client = Client();

        var schema = await client.RestoreAsync(new MemoryStream(s_database), Ct);

        Assert.Equal("0002_Images", schema);
        Assert.Equal(s_database, _restored);
        Assert.Equal("CN=client", _clientSubject);
    }

    [Fact]
    public async Task BackupAndRestore_EngineCertificateNotFromGivenCa_RefusedBeforeAnyData()
    {
        using var otherCa = TestPki.CreateCa("other");
        using var client = Client(otherCa.ExportCertificatePem());

        var backup = await Assert.ThrowsAsync<EngineException>(() => client.BackupAsync(Ct));
        var restore = await Assert.ThrowsAsync<EngineException>(() => client.RestoreAsync(new MemoryStream(s_database), Ct));

        Assert.Equal(EngineErrorKind.Unavailable, backup.Kind);
        Assert.Equal(EngineErrorKind.Unavailable, restore.Kind);
        Assert.Null(_restored);
        Assert.Null(_clientSubject);
    }
}
