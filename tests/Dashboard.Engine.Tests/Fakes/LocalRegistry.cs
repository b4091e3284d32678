using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Dashboard.Testing;

namespace Dashboard.Engine.Tests.Fakes;

/// <summary>Debian's <c>docker-registry</c> (the CNCF distribution registry) on 127.0.0.1 with a free port and storage in a temp dir: anonymous, or htpasswd with one user.</summary>
public sealed class LocalRegistry : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private LocalRegistry(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Authority = $"127.0.0.1:{port}";
    }

    public string Authority { get; }

    /// <param name="htpasswd">A user and password the registry requires (bcrypt htpasswd), or null for anonymous access.</param>
    public static async Task<LocalRegistry> StartAsync((string User, string Password)? htpasswd = null)
    {
        var tool = Requires.FindTool("docker-registry") ?? "docker-registry";
        var dir = Directory.CreateTempSubdirectory("dashboard-engine-registry-").FullName;
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var auth = "";
        if (htpasswd is { } h)
        {
            var file = Path.Combine(dir, "htpasswd");
            File.WriteAllText(file, $"{h.User}:{Bcrypt(h.Password)}\n");
            auth = $"""
                auth:
                  htpasswd:
                    realm: dashboard-test
                    path: {file}
                """;
        }

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
            http:
              addr: 127.0.0.1:{port}
              secret: {Convert.ToHexString(RandomNumberGenerator.GetBytes(16))}
            {auth}
            """);
        var info = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add(config);
        var process = Process.Start(info)!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var registry = new LocalRegistry(process, dir, port);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; ; i++)
        {
            try
            {
                using var response = await http.GetAsync($"http://{registry.Authority}/v2/");
                return registry;
            }
            catch (HttpRequestException) when (i < 400 && !process.HasExited)
            {
                await Task.Delay(50);
            }
            catch
            {
                await registry.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Pushes an OCI layout's <c>latest</c> with skopeo (the peer client, not ours).</summary>
    public void PushLayout(string layout, string repositoryAndTag)
    {
        var info = new ProcessStartInfo(Requires.FindTool("skopeo") ?? "skopeo") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "--insecure-policy", "copy", "--dest-tls-verify=false", $"oci:{layout}:latest", $"docker://{Authority}/{repositoryAndTag}" })
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000) || process.ExitCode != 0)
        {
            throw new InvalidOperationException($"skopeo copy failed: {stderr.Result}");
        }
    }

    /// <summary>A bcrypt htpasswd hash (the only kind the registry accepts) from libxcrypt, which Debian's libc links.</summary>
    private static string Bcrypt(string password)
    {
        const string Alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        var salt = "$2b$05$" + new string(RandomNumberGenerator.GetItems<char>(Alphabet, 22));
        var result = Crypt(password, salt);
        var hash = result == IntPtr.Zero ? null : Marshal.PtrToStringAnsi(result);
        return hash is not null && hash.StartsWith("$2b$", StringComparison.Ordinal) ? hash : throw new InvalidOperationException("libcrypt has no bcrypt");
    }

    [DllImport("libcrypt.so.1", EntryPoint = "crypt")]
    private static extern IntPtr Crypt([MarshalAs(UnmanagedType.LPUTF8Str)] string key, [MarshalAs(UnmanagedType.LPUTF8Str)] string salt);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
