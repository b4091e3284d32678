using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dashboard.Testing;
using Dashboard.Testing.Images;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Playwright;

namespace Dashboard.Web.E2E.Tests;

/// <summary>
/// A real <c>dashboard-engine</c> (root, diagnostics off, temp data dirs, cgroups under <c>/dashboard-test</c>) and a real
/// <c>dashboard-web</c> on 127.0.0.1 over HTTPS with a generated certificate, plus one headless Debian Chromium driven by
/// Playwright. Binaries come from <c>DASHBOARD_BIN</c> (tests/run-all.sh publishes them). One stack serves every test.
/// </summary>
public sealed class DashboardStack : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string AdminName = "admin";
    public const string AdminPassword = "e2e-admin-password-1";
    /// <summary>The repository in the local registry; <see cref="ImageName"/> is its full reference.</summary>
    public const string Repository = "busybox";

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(60);

    private readonly SemaphoreSlim _adminGate = new(1, 1);
    private readonly SemaphoreSlim _imageGate = new(1, 1);
    private bool _imagePresent;
    private readonly List<Process> _processes = [];
    private bool _adminReady;
    private string? _unmet;

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "dashboard-e2e-" + Guid.NewGuid().ToString("N")[..8]);

    public string CgroupParent { get; } = "/dashboard-test/web-e2e-" + Guid.NewGuid().ToString("N")[..8];

    public string BaseUrl { get; private set; } = "";

    /// <summary>127.0.0.1:PORT of the local docker-registry that serves busybox (nothing is preloaded into the engine).</summary>
    public string RegistryAuthority { get; private set; } = "";

    /// <summary>busybox as the tests pull it: from the local registry.</summary>
    public string ImageName => $"{RegistryAuthority}/{Repository}:latest";

    /// <summary>The same image under a tag only the UI pulls (the admin flow), so that pull really fetches it.</summary>
    public string UiImageName => $"{RegistryAuthority}/{Repository}:ui";

    public string EngineSocket => Path.Combine(Root, "engine.sock");

    public string EngineDataRoot => Path.Combine(Root, "engine-data");

    public string SecretFile => Path.Combine(Root, "bootstrap-secret");

    public DockerClient Engine { get; private set; } = default!;

    public IPlaywright Playwright { get; private set; } = default!;

    public IBrowser Browser { get; private set; } = default!;

    public static string ScreenshotDir { get; } = Path.Combine(ArtifactsDir(), "screenshots");

    /// <summary>Marks the calling test skipped (or failed under CI) when the machine lacks what the stack needs.</summary>
    public void RequireAvailable()
    {
        if (_unmet is { } reason)
        {
            Requires.Unmet(reason);
        }
    }

    public async ValueTask InitializeAsync()
    {
        var bin = Environment.GetEnvironmentVariable("DASHBOARD_BIN");
        string Bin(string name) => string.IsNullOrEmpty(bin) ? "" : Path.Combine(bin, name);
        _unmet = !Requires.IsRoot ? "needs root (the engine runs containers)"
            : string.IsNullOrEmpty(bin) ? "needs DASHBOARD_BIN with published dashboard-engine, dashboard-web and dashboard-runtime (tests/run-all.sh sets it)"
            : new[] { "dashboard-engine", "dashboard-web", "dashboard-runtime" }.FirstOrDefault(n => !File.Exists(Bin(n))) is { } missing ? $"needs {Bin(missing)}"
            : !File.Exists(ChromiumPath) ? $"needs Debian's chromium at {ChromiumPath}"
            : !File.Exists("/bin/busybox") ? "needs busybox-static (/bin/busybox)"
            : Requires.FindTool("skopeo") is null ? "needs skopeo (pushes the busybox OCI layout to the local registry)"
            : Requires.FindTool("docker-registry") is null ? "needs docker-registry (the local registry busybox is pulled from)"
            : null;
        if (_unmet is not null)
        {
            return;
        }

        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(ScreenshotDir);
        await StartRegistryAsync();
        await PushBusyboxAsync();

        // Plain HTTP for this one registry, set the way an Admin would before starting the engine.
        await new Dashboard.Images.Registry.RegistrySettingsStore(Path.Combine(EngineDataRoot, "registries")).SetInsecureAsync(RegistryAuthority, true);
        await StartEngineAsync(Bin("dashboard-engine"), Bin("dashboard-runtime"));
        var engineReady = clock.Elapsed;
        await StartWebAsync(Bin("dashboard-web"));
        Console.Error.WriteLine($"e2e: engine ready after {engineReady.TotalSeconds:0.0} s, web after {clock.Elapsed.TotalSeconds:0.0} s");

        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();

        // --no-sandbox: Chromium refuses to run its sandbox as root, and the tests run as root for the engine.
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        Playwright?.Dispose();
        if (Engine is not null)
        {
            try
            {
                foreach (var c in await Engine.Containers.ListContainersAsync(new ContainersListParameters { All = true }))
                {
                    await Engine.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true });
                }
            }
            catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException)
            {
                Console.Error.WriteLine($"e2e cleanup: {e.Message}");
            }

            Engine.Dispose();
        }

        foreach (var process in Enumerable.Reverse(_processes))
        {
            await StopAsync(process);
        }

        CopyLogsToArtifacts();
        RemoveCgroups();
        RemoveBridges();
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }

        _adminGate.Dispose();
        _imageGate.Dispose();
    }

    /// <summary>Bootstraps the admin through the setup page once (screenshots of setup and sign-in), then signs in.</summary>
    public async Task<IPage> SignInAsAdminAsync(CancellationToken cancellationToken)
    {
        await _adminGate.WaitAsync(cancellationToken);
        try
        {
            if (!_adminReady)
            {
                await BootstrapAdminAsync();
                _adminReady = true;
            }
        }
        finally
        {
            _adminGate.Release();
        }

        return await SignInAsync(AdminName, AdminPassword);
    }

    /// <summary>A fresh browser context (own cookies) signed in as the given user, on the containers page.</summary>
    public async Task<IPage> SignInAsync(string userName, string password)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUrl,
            IgnoreHTTPSErrors = true,
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/account/login");
        await page.Locator("input[name=UserName]").FillAsync(userName);
        await page.Locator("input[name=Password]").FillAsync(password);
        await page.Locator("form[action='/account/signin'] button[type=submit]").ClickAsync();
        await page.WaitForURLAsync(u => !u.Contains("/account/", StringComparison.Ordinal));
        await page.GetByTestId("current-user").WaitForAsync();
        await WaitInteractiveAsync(page);
        return page;
    }

    /// <summary>Navigates and waits until the page's circuit is live, so clicks reach their handlers.</summary>
    public static async Task GotoAsync(IPage page, string path)
    {
        var response = await page.GotoAsync(path);
        Assert.True(response?.Ok, $"GET {path}: {response?.Status}");
        await WaitInteractiveAsync(page);
    }

    public static Task WaitInteractiveAsync(IPage page) =>
        page.GetByTestId("interactive").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });

    public static async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, name + ".png"), FullPage = true });

    /// <summary>Pulls busybox through the engine API (not the UI) for tests that only need a container; once per run.</summary>
    public async Task EnsureImageAsync(CancellationToken cancellationToken)
    {
        await _imageGate.WaitAsync(cancellationToken);
        try
        {
            if (!_imagePresent)
            {
                await Engine.Images.CreateImageAsync(
                    new ImagesCreateParameters { FromImage = $"{RegistryAuthority}/{Repository}", Tag = "latest" }, null, new Progress<JSONMessage>(), cancellationToken);
                _imagePresent = true;
            }
        }
        finally
        {
            _imageGate.Release();
        }
    }

    /// <summary>A running busybox container whose command is <paramref name="script"/> (sh -c).</summary>
    public async Task<string> RunBusyboxAsync(string name, string script, CancellationToken cancellationToken)
    {
        await EnsureImageAsync(cancellationToken);
        var created = await Engine.Containers.CreateContainerAsync(
            new CreateContainerParameters
            {
                Image = ImageName,
                Name = name,
                Cmd = ["sh", "-c", script],

                // No bridge: the engine creates the bridge (with its gateway address) when the first container
                // joins it and removes it after the last, and Chromium on the same host answers every address
                // change by aborting its open connections (net::ERR_NETWORK_CHANGED), circuits included.
                HostConfig = new HostConfig { NetworkMode = "none" },
            }, cancellationToken);
        await Engine.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), cancellationToken);
        return created.ID;
    }

    private async Task BootstrapAdminAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseUrl, IgnoreHTTPSErrors = true });
        try
        {
            var page = await context.NewPageAsync();
            await page.GotoAsync("/account/login");
            await page.GetByTestId("setup-link").ClickAsync();
            await page.GetByTestId("setup-form").WaitForAsync();
            await ScreenshotAsync(page, "01-setup");
            await page.Locator("input[name=Secret]").FillAsync(await File.ReadAllTextAsync(SecretFile));
            await page.Locator("input[name=UserName]").FillAsync(AdminName);
            await page.Locator("input[name=Password]").FillAsync(AdminPassword);
            await page.Locator("input[name=ConfirmPassword]").FillAsync(AdminPassword);
            await page.Locator("form[action='/account/bootstrap'] button[type=submit]").ClickAsync();
            await page.WaitForURLAsync(u => u.Contains("/account/login", StringComparison.Ordinal));
            await ScreenshotAsync(page, "02-login");
            Assert.False(File.Exists(SecretFile), "the bootstrap secret must be deleted once used");
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    /// <summary>Debian's docker-registry, anonymous, on 127.0.0.1 with storage under <see cref="Root"/>.</summary>
    private async Task StartRegistryAsync()
    {
        var port = FreePort();
        RegistryAuthority = $"127.0.0.1:{port}";
        var config = Path.Combine(Root, "registry.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {Path.Combine(Root, "registry-data")}
            http:
              addr: {RegistryAuthority}
              secret: {Convert.ToHexString(RandomNumberGenerator.GetBytes(16))}
            """);
        var psi = new ProcessStartInfo(Requires.FindTool("docker-registry")!) { ArgumentList = { "serve", config } };
        Launch(psi, "registry");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await WaitUntilAsync("registry", async () => (await http.GetAsync($"http://{RegistryAuthority}/v2/")).StatusCode == HttpStatusCode.OK);
    }

    /// <summary>Pushes the shared busybox OCI layout to the local registry as busybox:latest (skopeo, plain HTTP).</summary>
    private async Task PushBusyboxAsync()
    {
        var layout = Path.Combine(Root, "busybox-oci");
        BusyboxImage.CreateLayout(layout);
        foreach (var tag in new[] { "latest", "ui" })
        {
            using var skopeo = Process.Start(new ProcessStartInfo("skopeo")
            {
                ArgumentList = { "copy", "--quiet", "--dest-tls-verify=false", $"oci:{layout}:latest", $"docker://{RegistryAuthority}/{Repository}:{tag}" },
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            var error = await skopeo.StandardError.ReadToEndAsync();
            await skopeo.WaitForExitAsync();
            if (skopeo.ExitCode != 0)
            {
                throw new InvalidOperationException($"skopeo copy to the local registry: exit {skopeo.ExitCode}: {error}");
            }
        }
    }

    private async Task StartEngineAsync(string engine, string runtime)
    {
        var psi = new ProcessStartInfo(engine)
        {
            ArgumentList =
            {
                "--data-root", EngineDataRoot, "--socket", EngineSocket, "--state-root", Path.Combine(Root, "engine-state"),
                "--runtime", runtime, "--cgroup-parent", CgroupParent, "--log-format", "text",
            },
        };

        // The engine refuses to run as root with the .NET diagnostic port open (security.md A14).
        psi.Environment["DOTNET_EnableDiagnostics"] = "0";
        Launch(psi, "engine");
        Engine = new DockerClientBuilder().WithEndpoint(new Uri("unix://" + EngineSocket)).Build();
        await WaitUntilAsync("engine", async () =>
        {
            if (!File.Exists(EngineSocket))
            {
                return false;
            }

            await Engine.System.GetVersionAsync();
            return true;
        });
    }

    private async Task StartWebAsync(string web)
    {
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        await File.WriteAllTextAsync(SecretFile, secret + "\n");
        File.SetUnixFileMode(SecretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var (cert, key) = WriteCertificate();
        var port = FreePort();
        BaseUrl = $"https://127.0.0.1:{port}";
        var psi = new ProcessStartInfo(web)
        {
            ArgumentList =
            {
                "--urls", BaseUrl, "--cert", cert, "--key", key, "--data-dir", Path.Combine(Root, "web-data"),
                "--engine", "unix://" + EngineSocket, "--bootstrap-secret-file", SecretFile,
            },
            WorkingDirectory = Root,
        };
        psi.Environment["DOTNET_EnableDiagnostics"] = "0";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";

        // The sign-in rate limit protects real installs; every test signs in, so lift it for this run.
        psi.Environment["Dashboard__LoginAttemptsPerMinute"] = "1000";
        Launch(psi, "web");
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, c, _, _) => c?.Thumbprint == _certThumbprint };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
        await WaitUntilAsync("web", async () => (await http.GetAsync(BaseUrl + "/healthz")).StatusCode == HttpStatusCode.OK);
    }

    private string? _certThumbprint;

    private (string Cert, string Key) WriteCertificate()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        _certThumbprint = cert.Thumbprint;
        var certPath = Path.Combine(Root, "web.crt");
        var keyPath = Path.Combine(Root, "web.key");
        File.WriteAllText(certPath, cert.ExportCertificatePem());
        File.WriteAllText(keyPath, rsa.ExportPkcs8PrivateKeyPem());
        File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return (certPath, keyPath);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Launch(ProcessStartInfo psi, string name)
    {
        psi.UseShellExecute = false;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        var log = new StreamWriter(Path.Combine(Root, name + ".log")) { AutoFlush = true };
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => WriteLine(log, e.Data);
        process.ErrorDataReceived += (_, e) => WriteLine(log, e.Data);
        process.Exited += (_, _) => WriteLine(log, $"[{name} exited]");
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
    }

    private static void WriteLine(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.WriteLine(line);
        }
    }

    private async Task WaitUntilAsync(string name, Func<Task<bool>> ready)
    {
        var deadline = Stopwatch.StartNew();
        Exception? last = null;
        while (deadline.Elapsed < s_startTimeout)
        {
            if (_processes.LastOrDefault() is { HasExited: true } exited)
            {
                throw new InvalidOperationException($"{name} exited with {exited.ExitCode}: {Tail(name)}");
            }

            try
            {
                if (await ready())
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException or SocketException or DockerApiException or TaskCanceledException)
            {
                last = e;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{name} not ready after {s_startTimeout.TotalSeconds} s ({last?.Message}): {Tail(name)}");
    }

    public string Tail(string name)
    {
        var path = Path.Combine(Root, name + ".log");
        if (!File.Exists(path))
        {
            return "";
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var lines = reader.ReadToEnd().Split('\n');
        return string.Join('\n', lines.TakeLast(30));
    }

    private static async Task StopAsync(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                // SIGTERM first so the web host and the engine shut down cleanly.
                _ = Kill(process.Id, 15);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await process.WaitForExitAsync(cts.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        finally
        {
            process.Dispose();
        }
    }

    private void CopyLogsToArtifacts()
    {
        var dir = Path.Combine(ArtifactsDir(), "e2e-logs");
        Directory.CreateDirectory(dir);
        foreach (var name in new[] { "engine", "web", "registry" })
        {
            var path = Path.Combine(Root, name + ".log");
            if (File.Exists(path))
            {
                File.Copy(path, Path.Combine(dir, name + ".log"), overwrite: true);
            }
        }
    }

    /// <summary>The engine keeps its default bridge up (as docker0) and lists the bridges it made in STATE/bridges.</summary>
    private void RemoveBridges()
    {
        var dir = Path.Combine(Root, "engine-state", "bridges");
        foreach (var file in Directory.Exists(dir) ? Directory.GetFiles(dir, "dbr-*") : [])
        {
            using var ip = Process.Start("ip", ["link", "delete", Path.GetFileName(file)]);
            ip.WaitForExit(10_000);
        }
    }

    private void RemoveCgroups()
    {
        if (!Directory.Exists("/sys/fs/cgroup"))
        {
            return;
        }

        foreach (var controller in Directory.GetDirectories("/sys/fs/cgroup").Append("/sys/fs/cgroup"))
        {
            var dir = controller + CgroupParent;
            if (!Directory.Exists(dir))
            {
                continue;
            }

            // cgroupfs directories are removed with rmdir, children first; the files inside cannot be deleted.
            foreach (var child in Directory.GetDirectories(dir, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(dir))
            {
                try
                {
                    Directory.Delete(child);
                }
                catch (IOException e)
                {
                    Console.Error.WriteLine($"e2e cleanup: rmdir {child}: {e.Message}");
                }
            }
        }
    }

    /// <summary><c>$DASHBOARD_TEST_OUT</c> (tests/run-all.sh) or <c>artifacts/test</c> at the repository root.</summary>
    private static string ArtifactsDir()
    {
        if (Environment.GetEnvironmentVariable("DASHBOARD_TEST_OUT") is { Length: > 0 } fromEnv)
        {
            return fromEnv;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Dashboard.sln")))
            {
                return Path.Combine(dir.FullName, "artifacts", "test");
            }
        }

        return Path.Combine(Path.GetTempPath(), "dashboard-e2e-artifacts");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
