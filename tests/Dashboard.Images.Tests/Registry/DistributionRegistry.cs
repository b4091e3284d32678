using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Dashboard.Testing;

namespace Dashboard.Images.Tests.Registry;

public enum RegistryAuthMode
{
    Anonymous,
    Htpasswd,
    Token,
}

/// <summary>
/// Debian's <c>docker-registry</c> (the CNCF distribution registry) on 127.0.0.1 with a random free
/// port, filesystem storage in a temp dir and a generated config: anonymous, htpasswd (bcrypt
/// through libxcrypt's <c>crypt</c>) or token auth (a <see cref="FakeHttpServer"/> issuing ES256 JWTs
/// with the signing certificate in the header, which the registry checks against its root bundle).
/// </summary>
public sealed class DistributionRegistry : IAsyncDisposable
{
    public const string Tool = "docker-registry";
    public const string User = "alice";
    public const string Password = "wonderland-7";
    public const string Service = "dashboard-test-registry";
    private const string Issuer = "dashboard-test-issuer";

    private readonly Process _process;
    private readonly string _dir;
    private readonly StringBuilder _log = new();

    private DistributionRegistry(Process process, string dir, int port, RegistryAuthMode mode, FakeHttpServer? tokenServer)
    {
        _process = process;
        _dir = dir;
        Port = port;
        Mode = mode;
        TokenServer = tokenServer;
    }

    public int Port { get; }

    public RegistryAuthMode Mode { get; }

    public string Authority => $"127.0.0.1:{Port}";

    /// <summary>The token server of a <see cref="RegistryAuthMode.Token"/> registry; its request log shows what the client sent.</summary>
    public FakeHttpServer? TokenServer { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<DistributionRegistry> StartAsync(RegistryAuthMode mode)
    {
        var dir = Directory.CreateTempSubdirectory("dashboard-registry-").FullName;
        FakeHttpServer? tokenServer = null;
        var auth = string.Empty;
        if (mode == RegistryAuthMode.Htpasswd)
        {
            var htpasswd = Path.Combine(dir, "htpasswd");
            File.WriteAllText(htpasswd, $"{User}:{Bcrypt(Password)}\n");
            auth = $"""
                auth:
                  htpasswd:
                    realm: dashboard-test
                    path: {htpasswd}
                """;
        }
        else if (mode == RegistryAuthMode.Token)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=dashboard-test-token-issuer", key, HashAlgorithmName.SHA256);
            var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));
            var bundle = Path.Combine(dir, "token.pem");
            File.WriteAllText(bundle, cert.ExportCertificatePem());
            var signer = ECDsa.Create(key.ExportParameters(includePrivateParameters: true));
            tokenServer = new FakeHttpServer((req, res) => IssueTokenAsync(req, res, signer, cert.RawData));
            auth = $"""
                auth:
                  token:
                    realm: http://127.0.0.1:{tokenServer.Port}/token
                    service: {Service}
                    issuer: {Issuer}
                    rootcertbundle: {bundle}
                """;
        }

        var port = FreePort();
        var config = Path.Combine(dir, "config.yml");
        File.WriteAllText(config, $"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {Path.Combine(dir, "data")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
              secret: {Convert.ToHexString(RandomNumberGenerator.GetBytes(16))}
            {auth}
            """);
        var info = new ProcessStartInfo(Requires.FindTool(Tool) ?? Tool) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add(config);
        var process = Process.Start(info)!;
        var registry = new DistributionRegistry(process, dir, port, mode, tokenServer);
        process.ErrorDataReceived += (_, e) => registry.Append(e.Data);
        process.OutputDataReceived += (_, e) => registry.Append(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{port}/v2/");
                return registry;
            }
            catch (HttpRequestException) when (deadline.Elapsed < TimeSpan.FromSeconds(20) && !process.HasExited)
            {
                await Task.Delay(50);
            }
            catch (Exception e)
            {
                var log = registry.Log;
                await registry.DisposeAsync();
                throw new InvalidOperationException($"docker-registry did not start: {e.Message}\n{log}", e);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        if (TokenServer is not null)
        {
            await TokenServer.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A bcrypt htpasswd hash (the only kind the registry accepts) from libxcrypt, which Debian's libc links.</summary>
    public static string Bcrypt(string password)
    {
        const string Alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        var salt = "$2b$05$" + new string(RandomNumberGenerator.GetItems<char>(Alphabet, 22));
        var result = Crypt(password, salt);
        var hash = result == IntPtr.Zero ? null : Marshal.PtrToStringAnsi(result);
        return hash is not null && hash.StartsWith("$2b$", StringComparison.Ordinal) ? hash : throw new InvalidOperationException("libcrypt has no bcrypt");
    }

    /// <summary>Grants the requested scopes to <see cref="User"/> (Basic auth) and nothing to anyone else.</summary>
    private static async Task IssueTokenAsync(FakeRequest request, FakeResponse response, ECDsa key, byte[] certificate)
    {
        var authorized = request.Header("Authorization") == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));
        if (request.Header("Authorization") is not null && !authorized)
        {
            await response.SendAsync(401, """{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}""", ("Content-Type", "application/json"));
            return;
        }

        var access = new List<object>();
        foreach (var pair in request.Query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (name, value) = (pair[..pair.IndexOf('=', StringComparison.Ordinal)], Uri.UnescapeDataString(pair[(pair.IndexOf('=', StringComparison.Ordinal) + 1)..]));
            var parts = value.Split(':');
            if (name == "scope" && authorized && parts.Length == 3)
            {
                access.Add(new { type = parts[0], name = parts[1], actions = parts[2].Split(',') });
            }
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = JsonSerializer.SerializeToUtf8Bytes(new { typ = "JWT", alg = "ES256", x5c = new[] { Convert.ToBase64String(certificate) } });
        var claims = JsonSerializer.SerializeToUtf8Bytes(new
        {
            iss = Issuer,
            sub = authorized ? User : string.Empty,
            aud = Service,
            exp = now + 300,
            nbf = now - 10,
            iat = now,
            jti = Guid.NewGuid().ToString("N"),
            access,
        });
        var signingInput = Base64Url(header) + "." + Base64Url(claims);
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256);
        var token = signingInput + "." + Base64Url(signature);
        await response.SendAsync(200, JsonSerializer.Serialize(new { token, expires_in = 300 }), ("Content-Type", "application/json"));
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    [DllImport("libcrypt.so.1", EntryPoint = "crypt")]
    private static extern IntPtr Crypt([MarshalAs(UnmanagedType.LPUTF8Str)] string key, [MarshalAs(UnmanagedType.LPUTF8Str)] string salt);
}

/// <summary>One registry of each auth mode, shared by the tests of a class (started once, in parallel).</summary>
public sealed class RegistryFixture : IAsyncLifetime
{
    private Task<DistributionRegistry>[]? _starts;

    public bool Available => Requires.FindTool(DistributionRegistry.Tool) is not null;

    public async Task<DistributionRegistry> GetAsync(RegistryAuthMode mode)
    {
        Requires.Tool(DistributionRegistry.Tool);
        return await _starts![(int)mode];
    }

    public ValueTask InitializeAsync()
    {
        _starts = Available
            ? [DistributionRegistry.StartAsync(RegistryAuthMode.Anonymous), DistributionRegistry.StartAsync(RegistryAuthMode.Htpasswd), DistributionRegistry.StartAsync(RegistryAuthMode.Token)]
            : null;
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var start in _starts ?? [])
        {
            try
            {
                await (await start).DisposeAsync();
            }
            catch (InvalidOperationException)
            {
                // It never started; the tests that needed it already failed with the reason.
            }
        }
    }
}
