using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Dashboard.Engine.Hosting;
using Dashboard.Engine.Runtime;
using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;
using Docker.DotNet;
using Docker.DotNet.X509;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Engine.Tests.Hosting;

/// <summary>The engine's TCP listener: TLS 1.2+ only, client certificate from the configured CA only (issue 4 item 1).</summary>
public sealed class TlsListenerTests : IAsyncLifetime
{
    private readonly TestPki _pki = TestPki.Create("engine");
    private string _root = "";
    private WebApplication? _app;
    private int _port;

    public async ValueTask InitializeAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), "dett-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(_root);
        var options = new EngineOptions
        {
            DataRoot = Path.Combine(_root, "data"),
            StateRoot = Path.Combine(_root, "state"),
            Socket = Path.Combine(_root, "engine.sock"),
            SocketGroup = "dashboard-test-no-such-group",
            PolicyFile = null,
            TlsListen = "127.0.0.1:0",
            TlsCert = _pki.ServerCertFile,
            TlsKey = _pki.ServerKeyFile,
            TlsCa = _pki.CaFile,
        };
        _app = EngineHost.Build(
            options,
            services =>
            {
                services.AddSingleton<IOciRuntime>(new FakeOciRuntime());
                services.AddSingleton<Dashboard.Engine.Networking.IContainerNetworking>(new Networking.FakeContainerNetworking());
            },
            logging => { });
        await EngineHost.StartAsync(_app, TestContext.Current.CancellationToken);
        var https = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Single(a => a.StartsWith("https://", StringComparison.Ordinal));
        _port = new Uri(https).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Directory.Delete(_root, recursive: true);
        _pki.Dispose();
    }

    private DockerClient Client(X509Certificate2 clientCertificate) =>
        new DockerClientBuilder()
            .WithEndpoint(new Uri($"tcp://127.0.0.1:{_port}"))
            .WithAuthProvider(new CertificateCredentials(clientCertificate) { ServerCertificateValidationCallback = TrustOnly(_pki.Ca) })
            .WithApiVersion(new Version(1, 43))
            .Build();

    private static RemoteCertificateValidationCallback TrustOnly(X509Certificate2 ca) => (_, certificate, _, errors) =>
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    };

    [Fact]
    public async Task Listen_ClientFromCa_PingAndVersion()
    {
        using var client = Client(_pki.Client);
        var ct = TestContext.Current.CancellationToken;
        await client.System.PingAsync(ct);
        var version = await client.System.GetVersionAsync(ct);
        Assert.Equal("linux", version.Os);
        Assert.False(string.IsNullOrEmpty(version.APIVersion));
        var containers = await client.Containers.ListContainersAsync(new Docker.DotNet.Models.ContainersListParameters { All = true }, ct);
        Assert.Empty(containers);
    }

    [Fact]
    public async Task Listen_NoClientCertificate_HandshakeRefused()
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(null, SslProtocols.None));
        Assert.True(e is AuthenticationException or IOException, e.ToString());
    }

    [Fact]
    public async Task Listen_CertificateFromAnotherCa_HandshakeRefused()
    {
        using var otherCa = TestPki.CreateCa("intruder CA");
        using var intruder = TestPki.Issue(otherCa, "client", server: false);
        var e = await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(intruder, SslProtocols.None));
        Assert.True(e is AuthenticationException or IOException, e.ToString());

        // The Docker client reports the refusal too, without any API call reaching the engine.
        using var client = Client(intruder);
        await Assert.ThrowsAnyAsync<Exception>(() => client.System.PingAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Listen_ServerCertificateAsClient_Refused()
    {
        // A certificate from the right CA whose EKU says serverAuth only must not authenticate a client.
        using var serverOnly = TestPki.Issue(_pki.Ca, "not-a-client", server: true);
        await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(serverOnly, SslProtocols.None));
    }

    [Fact]
    public async Task Listen_Tls11_Refused()
    {
        // TLS 1.1 may not even be compiled into the system OpenSSL; either way no session is established.
#pragma warning disable SYSLIB0039, CA5397 // Deliberately offering an obsolete protocol to see it refused.
        await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(_pki.Client, SslProtocols.Tls11));
#pragma warning restore SYSLIB0039, CA5397
    }

    [Fact]
    public async Task Listen_ClientFromCa_RawHandshakeSucceedsWithTls12OrLater()
    {
        var protocol = await HandshakeAsync(_pki.Client, SslProtocols.None);
        Assert.True(protocol >= SslProtocols.Tls12, protocol.ToString());
    }

    [Fact]
    public async Task Listen_PlaintextHttp_NoHttpResponse()
    {
        var ct = TestContext.Current.CancellationToken;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _port, ct);
        var stream = tcp.GetStream();
        await stream.WriteAsync("GET /_ping HTTP/1.1\r\nHost: localhost\r\n\r\n"u8.ToArray(), ct);
        var buffer = new byte[4096];
        var received = new MemoryStream();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, n);
            }
        }
        catch (IOException)
        {
            // A reset is as good a refusal as a close.
        }

        var text = Encoding.Latin1.GetString(received.ToArray());
        Assert.DoesNotContain("HTTP/1.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("OK", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DockerCli_TlsVerify_Version()
    {
        Requires.Tool("docker");
        var psi = new ProcessStartInfo(Requires.FindTool("docker")!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            "--tlsverify", "--tlscacert", Path.Combine(_pki.ClientDir, "ca.pem"), "--tlscert", Path.Combine(_pki.ClientDir, "cert.pem"),
            "--tlskey", Path.Combine(_pki.ClientDir, "key.pem"), "-H", $"tcp://127.0.0.1:{_port}", "version", "--format", "{{.Server.Os}} {{.Server.APIVersion}}",
        })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOCKER_CONFIG"] = Path.Combine(_root, "docker-config");
        foreach (var v in new[] { "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH" })
        {
            psi.Environment.Remove(v);
        }

        using var process = Process.Start(psi)!;
        var ct = TestContext.Current.CancellationToken;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, await stderr);
        Assert.StartsWith("linux ", (await stdout).Trim(), StringComparison.Ordinal);

        // Without a client certificate the CLI gets nothing.
        var bare = new ProcessStartInfo(psi.FileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--tlscacert", Path.Combine(_pki.ClientDir, "ca.pem"), "--tls", "-H", $"tcp://127.0.0.1:{_port}", "version", "--format", "{{.Server.Os}}" })
        {
            bare.ArgumentList.Add(a);
        }

        bare.Environment["DOCKER_CONFIG"] = Path.Combine(_root, "docker-config");
        bare.Environment.Remove("DOCKER_HOST");
        bare.Environment.Remove("DOCKER_CERT_PATH");
        using var refused = Process.Start(bare)!;
        var refusedOut = await refused.StandardOutput.ReadToEndAsync(ct);
        await refused.StandardError.ReadToEndAsync(ct);
        await refused.WaitForExitAsync(timeout.Token);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.DoesNotContain("linux", refusedOut, StringComparison.Ordinal);
    }

    /// <summary>A bare TLS handshake followed by one read, so a server-side refusal after the client's Finished (TLS 1.3) surfaces too.</summary>
    private async Task<SslProtocols> HandshakeAsync(X509Certificate2? clientCertificate, SslProtocols protocols)
    {
        var ct = TestContext.Current.CancellationToken;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _port, ct);
        await using var ssl = new SslStream(tcp.GetStream(), false);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = protocols,
            ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            RemoteCertificateValidationCallback = TrustOnly(_pki.Ca),
        }, ct);
        await ssl.WriteAsync("GET /_ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"u8.ToArray(), ct);
        var buffer = new byte[1024];
        var n = await ssl.ReadAsync(buffer, ct);
        var text = Encoding.ASCII.GetString(buffer, 0, n);
        if (!text.StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
        {
            throw new IOException($"no API response: '{text}'");
        }

        return ssl.SslProtocol;
    }
}
