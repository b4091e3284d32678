using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Dashboard.Testing;
using Dashboard.Web.Engines;
using Dashboard.Web.Identity;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Engines;

/// <summary>
/// dashboard-web (in process, the real app) manages a real <c>dashboard-engine</c> process over TCP with mutual TLS:
/// added on the Engines service, listed through the API, reloaded from the database after a restart.
/// Needs root (the engine) and DASHBOARD_BIN with the published binaries.
/// </summary>
public sealed class RemoteEngineMtlsTests : IAsyncLifetime
{
    private readonly TestPki _pki = TestPki.Create("remote");
    private readonly string _root = Directory.CreateTempSubdirectory("dashboard-web-mtls-").FullName;
    private Process? _engine;
    private int _port;
    private WebAppFactory? _web;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    /// <summary>Called by the test itself, so an unmet requirement skips (or, under CI, fails) the test rather than the class.</summary>
    private async Task StartEngineAsync()
    {
        Requires.Root();
        var bin = Environment.GetEnvironmentVariable("DASHBOARD_BIN");
        if (string.IsNullOrEmpty(bin) || !File.Exists(Path.Combine(bin, "dashboard-engine")))
        {
            Requires.Unmet("needs DASHBOARD_BIN with a published dashboard-engine (bash docker-compose-free-install.sh --build-only --prefix DIR)");
            return;
        }

        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            _port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var psi = new ProcessStartInfo(Path.Combine(bin, "dashboard-engine"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            "--data-root", Path.Combine(_root, "engine-data"), "--socket", Path.Combine(_root, "engine.sock"), "--state-root", Path.Combine(_root, "engine-state"),
            "--runtime", Path.Combine(bin, "dashboard-runtime"), "--cgroup-parent", "/dashboard-test/webmtls", "--log-format", "text",
            "--policy-file", Path.Combine(_root, "no-policy.json"),
            "--tls-listen", $"127.0.0.1:{_port}", "--tls-cert", _pki.ServerCertFile, "--tls-key", _pki.ServerKeyFile, "--tls-ca", _pki.CaFile,
        })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_EnableDiagnostics"] = "0";
        _engine = Process.Start(psi)!;
        _engine.OutputDataReceived += (_, _) => { };
        _engine.ErrorDataReceived += (_, _) => { };
        _engine.BeginOutputReadLine();
        _engine.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            Assert.False(_engine.HasExited, $"dashboard-engine exited with {(_engine.HasExited ? _engine.ExitCode : 0)}");
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, _port, Ct);
                break;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, Ct);
            }
        }

        // The engine accepts TCP before it answers: the first mutual-TLS request pays for the handshake and JIT, which
        // on a loaded machine can take longer than the product's 10 s engine test. Wait (bounded) for a real answer.
        using (var cert = X509Certificate2.CreateFromPemFile(Path.Combine(_pki.ClientDir, "cert.pem"), Path.Combine(_pki.ClientDir, "key.pem")))
        using (var handler = new SocketsHttpHandler { SslOptions = { ClientCertificates = [cert], RemoteCertificateValidationCallback = (_, certificate, _, _) => IssuedByTestCa(certificate) } })
        using (var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) })
        {
            while (true)
            {
                Assert.False(_engine.HasExited, $"dashboard-engine exited with {(_engine.HasExited ? _engine.ExitCode : 0)}");
                try
                {
                    using var ping = await http.GetAsync(new Uri($"https://127.0.0.1:{_port}/_ping"), Ct);
                    if (ping.IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (Exception e) when ((e is HttpRequestException or TaskCanceledException) && DateTime.UtcNow < deadline && !Ct.IsCancellationRequested)
                {
                }

                Assert.True(DateTime.UtcNow < deadline, "dashboard-engine did not answer over mutual TLS in time");
                await Task.Delay(200, Ct);
            }
        }

        _web = new WebAppFactory();
    }

    public async ValueTask DisposeAsync()
    {
        if (_web is not null)
        {
            await _web.DisposeAsync();
        }

        if (_engine is { HasExited: false })
        {
            _engine.Kill();
            await _engine.WaitForExitAsync();
        }

        _engine?.Dispose();
        EngineBridges.Remove(Path.Combine(_root, "engine-state"));
        _pki.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private bool IssuedByTestCa(X509Certificate? certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_pki.Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return certificate is X509Certificate2 c && chain.Build(c);
    }

    private string ClientFile(string name) => File.ReadAllText(Path.Combine(_pki.ClientDir, name));

    [Fact]
    public async Task AddRemoteEngine_RealEngineOverMtls_TestListReload()
    {
        await StartEngineAsync();
        var web = _web!;
        await web.CreateUserAsync("mtls-admin", Roles.Admin);
        var admin = await web.PrincipalAsync("mtls-admin");
        await using (var scope = web.Services.CreateAsyncScope())
        {
            var service = scope.ServiceProvider.GetRequiredService<RemoteEngineService>();
            await service.AddAsync(admin, "remote", $"tcp://127.0.0.1:{_port}", ClientFile("ca.pem"), ClientFile("cert.pem"), ClientFile("key.pem"), Ct);

            var health = await service.TestAsync(admin, "remote", Ct);
            Assert.True(health.Ok, health.Error);
            Assert.False(string.IsNullOrEmpty(health.Version));

            // The engine's database backup comes over the same mutual TLS (the Backup page's remote case).
            await using (var backup = await scope.ServiceProvider.GetRequiredService<IEngineRegistry>().Get("remote").BackupAsync(Ct))
            {
                var header = new byte[16];
                await backup.Content.ReadExactlyAsync(header, Ct);
                Assert.Equal("SQLite format 3\0"u8.ToArray(), header);
                Assert.False(string.IsNullOrEmpty(backup.Schema));
            }

            // A client certificate from another CA is refused by the engine.
            using var otherCa = TestPki.CreateCa("other");
            using var stranger = TestPki.Issue(otherCa, "stranger", server: false);
            await service.AddAsync(admin, "stranger", $"tcp://127.0.0.1:{_port}", ClientFile("ca.pem"), stranger.ExportCertificatePem(), stranger.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem(), Ct);
            Assert.False((await service.TestAsync(admin, "stranger", Ct)).Ok);

            // An engine whose certificate is not from the CA given for it is not trusted (the system store plays no part).
            await service.AddAsync(admin, "wrongca", $"tcp://127.0.0.1:{_port}", otherCa.ExportCertificatePem(), ClientFile("cert.pem"), ClientFile("key.pem"), Ct);
            Assert.False((await service.TestAsync(admin, "wrongca", Ct)).Ok);
        }

        // The API lists the remote engine's containers (none yet) through the same registry.
        using var client = web.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://localhost") });
        await using (var scope = web.Services.CreateAsyncScope())
        {
            var token = await scope.ServiceProvider.GetRequiredService<ApiTokenService>().CreateAsync(admin, "mtls", null, Ct);
            client.DefaultRequestHeaders.Authorization = new("Bearer", token.Token);
        }

        using var list = await client.GetAsync("/api/containers?engine=remote", Ct);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal(JsonValueKind.Array, (await list.Content.ReadFromJsonAsync<JsonElement>(Ct)).ValueKind);

        // What a restarted dashboard does: load the stored engines (key decrypted with Data Protection) into a fresh registry.
        await using (var scope = web.Services.CreateAsyncScope())
        {
            using var fresh = new EngineRegistry([]);
            var problems = await RemoteEngineService.LoadIntoAsync(
                scope.ServiceProvider.GetRequiredService<WebDbContext>(), fresh, scope.ServiceProvider.GetRequiredService<IDataProtectionProvider>(), Ct);
            Assert.Empty(problems);
            Assert.Equal(["remote", "stranger", "wrongca"], fresh.Names);
            Assert.True((await RemoteEngineService.ProbeAsync(fresh.Get("remote"), Ct)).Ok);
        }
    }
}
