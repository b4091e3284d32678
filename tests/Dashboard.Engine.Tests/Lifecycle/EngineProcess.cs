using System.Diagnostics;
using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;
using Docker.DotNet;

namespace Dashboard.Engine.Tests.Lifecycle;

/// <summary>
/// The published <c>dashboard-engine</c> (DASHBOARD_BIN) as a separate root process over a temp root, so
/// a test can SIGKILL it and start another one on the same directories.
/// </summary>
internal sealed class EngineProcess : IDisposable
{
    private readonly Process _process;

    private EngineProcess(Process process, string root)
    {
        _process = process;
        Root = root;
        Client = new DockerClientBuilder().WithEndpoint(new Uri("unix://" + Socket(root))).WithApiVersion(new Version(1, 43)).Build();
    }

    public string Root { get; }

    public DockerClient Client { get; }

    public int Pid => _process.Id;

    public static string CgroupParent(string root) => "/dashboard-test/engine-" + Path.GetFileName(root);

    private static string Socket(string root) => Path.Combine(root, "engine.sock");

    public string SocketPath => Socket(Root);

    public static string Binary()
    {
        RealEngine.RuntimeBinary();
        var engine = Path.Combine(Environment.GetEnvironmentVariable("DASHBOARD_BIN")!, "dashboard-engine");
        if (!File.Exists(engine))
        {
            Requires.Unmet("needs DASHBOARD_BIN with a published dashboard-engine");
        }

        return engine;
    }

    public static async Task<EngineProcess> StartAsync(string root)
    {
        var psi = new ProcessStartInfo(Binary())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])[
            "--data-root", Path.Combine(root, "data"), "--state-root", Path.Combine(root, "state"), "--socket", Socket(root),
            "--runtime", Path.Combine(Environment.GetEnvironmentVariable("DASHBOARD_BIN")!, "dashboard-runtime"),
            "--socket-group", "dashboard-test-no-such-group", "--cgroup-parent", CgroupParent(root), "--log-format", "json",
            "--policy-file", Path.Combine(root, "no-policy.json"),
        ])
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_EnableDiagnostics"] = "0";
        var process = Process.Start(psi)!;
        var log = Path.Combine(root, "engine.log");
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var engine = new EngineProcess(process, root);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                await engine.Client.System.PingAsync(TestContext.Current.CancellationToken);
                return engine;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or System.Net.Sockets.SocketException or DockerApiException)
            {
                if (process.HasExited || DateTime.UtcNow > deadline)
                {
                    engine.Kill();
                    Assert.Fail($"dashboard-engine did not come up: {(File.Exists(log) ? File.ReadAllText(log) : "")}");
                }

                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
        }
    }

    private static void Append(string path, string? line)
    {
        if (line is not null)
        {
            lock (typeof(EngineProcess))
            {
                File.AppendAllText(path, line + "\n");
            }
        }
    }

    /// <summary>SIGKILL, as a crash or the OOM killer would end it.</summary>
    public void Kill()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
