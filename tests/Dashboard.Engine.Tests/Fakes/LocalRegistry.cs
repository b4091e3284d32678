using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Dashboard.Testing;

namespace Dashboard.Engine.Tests.Fakes;

/// <summary>Debian's <c>docker-registry</c> (the CNCF distribution registry), anonymous, on 127.0.0.1 with a free port and storage in a temp dir.</summary>
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

    public static async Task<LocalRegistry> StartAsync()
    {
        var tool = Requires.FindTool("docker-registry") ?? "docker-registry";
        var dir = Directory.CreateTempSubdirectory("dashboard-engine-registry-").FullName;
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
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
