using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dashboard.Testing;

namespace Dashboard.Install.Tests;

/// <summary>
/// docker-compose-free-install.sh as a new user runs it, isolated (see <see cref="InstallSandbox"/>): install in
/// background mode (systemd is not PID 1 here), sign in over HTTPS with the bootstrap secret, run a container through the UI's API,
/// upgrade while it runs, uninstall (data stays), purge (nothing stays) — and nothing outside the sandbox changes.
/// </summary>
public sealed partial class InstallScriptTests
{
    private const string Password = "install test password 42";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Host paths a real install would touch; the sandboxed one must leave each as it was.</summary>
    private static readonly string[] s_hostPaths =
    [
        "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/dashboard", "/var/lib/dashboard", "/run/dashboard",
        "/var/log/dashboard", "/etc/systemd/system/dashboard-engine.service", "/etc/systemd/system/dashboard-web.service",
        "/usr/local/bin/dashboard-engine", "/usr/local/bin/dashboard-web", "/usr/local/bin/dashboard-runtime", "/usr/local/lib/dashboard",
        "/srv", "/sys/fs/cgroup", "/etc/systemd/system/multi-user.target.wants",
    ];

    [Fact]
    public async Task InstallScript_FreshSandboxedHost_ServesSignsInRunsUpgradesUninstallsPurges()
    {
        var binaries = RequirePrerequisites();

        var before = HostSnapshot();
        await using (var sandbox = await InstallSandbox.CreateAsync(binaries, Ct))
        {
            if (sandbox.MissingPackages.Count > 0)
            {
                TestContext.Current.SendDiagnosticMessage($"packages missing here, so the script runs with --skip-packages: {string.Join(' ', sandbox.MissingPackages)}");
            }

            await InstallAsync(sandbox);
            using var web = WebClient(sandbox);
            await SignInWithBootstrapSecretAsync(sandbox, web);
            using var engine = EngineClient(sandbox.Socket);
            var (id, pid) = await RunContainerAsync(sandbox, web, engine);
            await AssertListedInUiAsync(web, "survivor");
            await UpgradeKeepsContainerAsync(sandbox, web, id, pid);
            await UninstallKeepsOnlyDataAsync(sandbox, pid);
            await PurgeLeavesNothingAsync(sandbox);
        }

        Assert.Equal(before, HostSnapshot());
    }

    /// <summary>What an install test needs (root, the tools the sandbox and script use, busybox, published binaries); returns DASHBOARD_BIN.</summary>
    private static string RequirePrerequisites(params string[] moreTools)
    {
        Requires.Root();
        foreach (var tool in new[] { "unshare", "nsenter", "openssl", "curl", "setpriv", "useradd" }.Concat(moreTools))
        {
            Requires.Tool(tool);
        }

        if (!File.Exists("/bin/busybox"))
        {
            Requires.Unmet("needs busybox-static (/bin/busybox) for the container");
        }

        const string noBinaries = "needs DASHBOARD_BIN pointing at a prefix published with --build-only (tests/run-all.sh sets it)";
        var binaries = InstallSandbox.PublishedBinaries();
        if (binaries is null)
        {
            Requires.Unmet(noBinaries);
            throw new Xunit.Sdk.XunitException(noBinaries);
        }

        return binaries;
    }

    private static async Task InstallAsync(InstallSandbox sandbox)
    {
        var result = await sandbox.RunScriptAsync(Ct, "--from-build", sandbox.Binaries);
        Assert.True(result.ExitCode == 0, $"install failed ({result.ExitCode}):\n{result.Output}\n{sandbox.Logs()}");

        var secretFile = Path.Combine(sandbox.DataDir, "web", "bootstrap-secret");
        var secret = File.ReadAllText(secretFile).Trim();
        Assert.Matches("^[0-9a-f]{48}$", secret);
        Assert.Contains("    " + secret + "\n", result.Output, StringComparison.Ordinal);
        Assert.Contains($"https://127.0.0.1:{sandbox.Port}/account/setup", result.Output, StringComparison.Ordinal);
        Assert.Contains("engine and web UI are ready", result.Output, StringComparison.Ordinal);

        var uid = sandbox.SandboxUid("dashboard");
        Assert.True(uid is > 0 and < 1000, $"dashboard system user in the sandbox's /etc/passwd: uid {uid}");
        AssertMode(Path.Combine(sandbox.DataDir, "engine"), "700", 0);
        AssertMode(Path.Combine(sandbox.DataDir, "web"), "700", uid!.Value);
        AssertMode(secretFile, "600", uid.Value);
        AssertMode(sandbox.RunDir, "750", 0);
        AssertMode(Path.Combine(sandbox.ConfigDir, "tls", "key.pem"), "640", 0);
        AssertMode(Path.Combine(sandbox.ConfigDir, "engine.json"), "600", 0);
        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite,
            File.GetUnixFileMode(sandbox.Socket));

        var engineUnit = File.ReadAllText(Path.Combine(sandbox.UnitDir, "dashboard-engine.service"));
        foreach (var line in new[] { "Environment=DOTNET_EnableDiagnostics=0", "Delegate=yes", "KillMode=process", $"ExecStart={sandbox.Prefix}/bin/dashboard-engine --config {sandbox.ConfigDir}/engine.json" })
        {
            Assert.Contains(line + "\n", engineUnit, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("ProtectSystem", engineUnit, StringComparison.Ordinal);
        var webUnit = File.ReadAllText(Path.Combine(sandbox.UnitDir, "dashboard-web.service"));
        foreach (var line in new[] { "User=dashboard", "SupplementaryGroups=dashboard", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", $"ReadWritePaths={sandbox.DataDir}/web" })
        {
            Assert.Contains(line + "\n", webUnit, StringComparison.Ordinal);
        }

        // Background mode: the engine as root with the diagnostic port off, the web UI as the dashboard user.
        var enginePid = sandbox.ServicePid("engine") ?? throw new Xunit.Sdk.XunitException("no engine pid file");
        var webPid = sandbox.ServicePid("web") ?? throw new Xunit.Sdk.XunitException("no web pid file");
        Assert.Equal(0, ProcessUid(enginePid));
        Assert.Contains("DOTNET_EnableDiagnostics=0", File.ReadAllText($"/proc/{enginePid}/environ").Split('\0'));
        Assert.Equal(uid.Value, ProcessUid(webPid));

        // The installed runtime is immutable (CVE-2019-5736; lets init run without a re-exec).
        var lsattr = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("lsattr", [Path.Combine(sandbox.Prefix, "lib/dashboard/runtime/dashboard-runtime")]) { RedirectStandardOutput = true })!;
        var attributes = (await lsattr.StandardOutput.ReadToEndAsync(Ct)).Split(' ')[0];
        await lsattr.WaitForExitAsync(Ct);
        Assert.Contains('i', attributes);

        // Running it again changes nothing: same secret, same certificate, the same service processes.
        var cert = File.ReadAllText(Path.Combine(sandbox.ConfigDir, "tls", "cert.pem"));
        var again = await sandbox.RunScriptAsync(Ct, "--from-build", sandbox.Binaries);
        Assert.True(again.ExitCode == 0, $"second install failed ({again.ExitCode}):\n{again.Output}\n{sandbox.Logs()}");
        Assert.Contains($"{sandbox.Prefix} is up to date", again.Output, StringComparison.Ordinal);
        Assert.Equal(enginePid, sandbox.ServicePid("engine"));
        Assert.Equal(webPid, sandbox.ServicePid("web"));
        Assert.Equal(secret, File.ReadAllText(secretFile).Trim());
        Assert.Equal(cert, File.ReadAllText(Path.Combine(sandbox.ConfigDir, "tls", "cert.pem")));
    }

    private static async Task SignInWithBootstrapSecretAsync(InstallSandbox sandbox, HttpClient web)
    {
        Assert.Equal("ok", await web.GetStringAsync(new Uri("/healthz", UriKind.Relative), Ct));
        using (var ready = await web.GetAsync(new Uri("/readyz", UriKind.Relative), Ct))
        {
            var body = await ready.Content.ReadAsStringAsync(Ct);
            Assert.True(ready.StatusCode == HttpStatusCode.OK, body);
            Assert.Contains("\"engine\":\"ok\"", body, StringComparison.Ordinal);
        }

        var metrics = await web.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct);
        Assert.Contains("dashboard_web_info{version=", metrics, StringComparison.Ordinal);

        using (var anonymous = await web.GetAsync(new Uri("/", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
            Assert.Equal("/account/login", Target(web, anonymous).AbsolutePath);
        }

        var secretFile = Path.Combine(sandbox.DataDir, "web", "bootstrap-secret");
        var secret = File.ReadAllText(secretFile).Trim();
        var setupToken = await TokenAsync(web, "/account/setup");
        using (var wrong = await PostFormAsync(web, "/account/bootstrap", setupToken, ("Secret", new string('0', 48)), ("UserName", "admin"), ("Password", Password), ("ConfirmPassword", Password)))
        {
            Assert.Equal("/account/setup?error=secret", Target(web, wrong).PathAndQuery);
        }

        using (var created = await PostFormAsync(web, "/account/bootstrap", setupToken, ("Secret", secret), ("UserName", "admin"), ("Password", Password), ("ConfirmPassword", Password)))
        {
            Assert.Equal("/account/login?created=1", Target(web, created).PathAndQuery);
        }

        Assert.False(File.Exists(secretFile), "the bootstrap secret is deleted once used");
        await SignInAsync(web);
    }

    private static async Task SignInAsync(HttpClient web)
    {
        var token = await TokenAsync(web, "/account/login");
        using (var signedIn = await PostFormAsync(web, "/account/signin", token, ("UserName", "admin"), ("Password", Password)))
        {
            Assert.Equal("/", Target(web, signedIn).PathAndQuery);
        }

        using var home = await web.GetAsync(new Uri("/", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
    }

    /// <summary>
    /// Through the web UI's API, as a script would: the signed-in admin makes an API token
    /// (<c>POST /api/tokens</c> with the cookie and the antiforgery header), then the token alone creates and
    /// starts the container (<c>POST /api/containers</c>) and reads its logs. The image, a <c>docker save</c>
    /// archive of a busybox-static root filesystem, is loaded beforehand through the engine socket
    /// (<c>POST /images/load</c>): the host has no registry to pull from.
    /// </summary>
    private static async Task<(string Id, int Pid)> RunContainerAsync(InstallSandbox sandbox, HttpClient web, HttpClient engine)
    {
        using (var load = await engine.PostAsync(new Uri("/v1.43/images/load", UriKind.Relative), new ByteArrayContent(BusyboxArchive("bb:latest")), Ct))
        {
            var body = await load.Content.ReadAsStringAsync(Ct);
            Assert.True(load.StatusCode == HttpStatusCode.OK && !body.Contains("\"error", StringComparison.Ordinal), $"images/load: {(int)load.StatusCode} {body}");
        }

        var antiforgery = JsonDocument.Parse(await web.GetStringAsync(new Uri("/api/antiforgery", UriKind.Relative), Ct)).RootElement;
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/tokens", UriKind.Relative))
        {
            Content = new StringContent("""{"name":"install-test"}""", Encoding.UTF8, "application/json"),
        };
        tokenRequest.Headers.Add(antiforgery.GetProperty("header").GetString()!, antiforgery.GetProperty("token").GetString());
        using var tokenResponse = await web.SendAsync(tokenRequest, Ct);
        var tokenBody = await tokenResponse.Content.ReadAsStringAsync(Ct);
        Assert.True(tokenResponse.StatusCode == HttpStatusCode.Created, $"POST /api/tokens: {(int)tokenResponse.StatusCode} {tokenBody}");
        var token = JsonDocument.Parse(tokenBody).RootElement.GetProperty("token").GetString()!;

        // A fresh client without the cookie: only the bearer token authenticates the script.
        using var script = WebClient(sandbox);
        script.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var create = await script.PostAsync(
            new Uri("/api/containers", UriKind.Relative),
            new StringContent("""{"image":"bb","name":"survivor","cmd":["sh","-c","trap 'exit 0' TERM; while true; do echo tick; sleep 1; done"],"start":true}""", Encoding.UTF8, "application/json"),
            Ct);
        var created = await create.Content.ReadAsStringAsync(Ct);
        Assert.True(create.StatusCode == HttpStatusCode.Created, $"POST /api/containers: {(int)create.StatusCode} {created}" + sandbox.Logs());
        var createdJson = JsonDocument.Parse(created).RootElement;
        Assert.True(createdJson.GetProperty("started").GetBoolean(), created);
        var id = createdJson.GetProperty("id").GetString()!;
        var (running, pid) = await StateAsync(engine, id);
        Assert.True(running && pid > 0, $"container running with a pid: {running} {pid}");
        Assert.True(Directory.Exists($"/proc/{sandbox.HostPid(pid)}"));

        var logs = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !logs.Contains("tick", StringComparison.Ordinal) && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(200, Ct);
            logs = await script.GetStringAsync(new Uri($"/api/containers/{id}/logs?tail=5", UriKind.Relative), Ct);
        }

        Assert.Contains("tick", logs, StringComparison.Ordinal);
        return (id, pid);
    }

    /// <summary>A <c>docker save</c> archive (manifest.json, config, one uncompressed layer) of busybox-static.</summary>
    private static byte[] BusyboxArchive(string tag)
    {
        var layer = new MemoryStream();
        using (var tar = new System.Formats.Tar.TarWriter(layer, System.Formats.Tar.TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var dir in new[] { "bin/", "etc/", "proc/", "sys/", "dev/", "tmp/" })
            {
                tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.Directory, dir) { Mode = (UnixFileMode)0x1ED });
            }

            tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "bin/busybox")
            {
                Mode = (UnixFileMode)0x1ED,
                DataStream = new MemoryStream(File.ReadAllBytes("/bin/busybox")),
            });
            foreach (var applet in new[] { "sh", "echo", "sleep" })
            {
                tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.SymbolicLink, "bin/" + applet) { LinkName = "busybox", Mode = (UnixFileMode)0x1FF });
            }

            tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "etc/passwd")
            {
                Mode = (UnixFileMode)0x1A4,
                DataStream = new MemoryStream(Encoding.ASCII.GetBytes("root:x:0:0:root:/:/bin/sh\n")),
            });
        }

        var layerBytes = layer.ToArray();
        var diffId = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(layerBytes));
        var arch = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "arm64" : "amd64";
        var config = Encoding.UTF8.GetBytes($$$"""{"architecture":"{{{arch}}}","os":"linux","config":{"Cmd":["sh"],"Env":["PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":["{{{diffId}}}"]}}""");
        var configName = Convert.ToHexStringLower(SHA256.HashData(config)) + ".json";
        var manifest = Encoding.UTF8.GetBytes($$"""[{"Config":"{{configName}}","RepoTags":["{{tag}}"],"Layers":["layer/layer.tar"]}]""");
        var archive = new MemoryStream();
        using (var tar = new System.Formats.Tar.TarWriter(archive, System.Formats.Tar.TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, data) in new[] { (configName, config), ("layer/layer.tar", layerBytes), ("manifest.json", manifest) })
            {
                tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, name) { Mode = (UnixFileMode)0x1A4, DataStream = new MemoryStream(data) });
            }
        }

        return archive.ToArray();
    }

    private static async Task UpgradeKeepsContainerAsync(InstallSandbox sandbox, HttpClient web, string id, int pid)
    {
        var oldEngine = sandbox.ServicePid("engine");
        var hostPid = sandbox.HostPid(pid);
        var startTime = ProcessStartTime(hostPid);
        var result = await sandbox.RunScriptAsync(Ct, "--upgrade", "--from-build", sandbox.Binaries);
        Assert.True(result.ExitCode == 0, $"upgrade failed ({result.ExitCode}):\n{result.Output}\n{sandbox.Logs()}");
        Assert.Contains("upgrade done", result.Output, StringComparison.Ordinal);
        Assert.NotEqual(oldEngine, sandbox.ServicePid("engine"));

        // The same process, not a restarted one: same pid and the same start time.
        Assert.Equal(startTime, ProcessStartTime(hostPid));
        using var engine = EngineClient(sandbox.Socket);
        var (running, pidAfter) = await StateAsync(engine, id);
        Assert.True(running, "the container runs after the upgrade");
        Assert.Equal(pid, pidAfter);

        // The admin account survived; the old cookie's keys are in the data dir too, but sign in afresh.
        await SignInAsync(web);
        await AssertListedInUiAsync(web, "survivor");
        if (!sandbox.UnderSystemd)
        {
            // The installed binaries on the host's paths (under systemd they and their config live at /srv inside the namespace).
            await BackupWhileRunningAsync(sandbox);
        }
    }

    /// <summary>The signed-in containers page (prerendered) lists the container: the web UI, as the dashboard user, reaches the engine socket.</summary>
    private static async Task AssertListedInUiAsync(HttpClient web, string name)
    {
        using var response = await web.GetAsync(new Uri("/containers", UriKind.Relative), Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"/containers: {(int)response.StatusCode}");
        Assert.Contains(name, html, StringComparison.Ordinal);
    }

    /// <summary>The installed binaries' backup commands against the running services (restore: the engine and web unit tests).</summary>
    private static async Task BackupWhileRunningAsync(InstallSandbox sandbox)
    {
        var dir = Directory.CreateTempSubdirectory("dashboard-install-backup-").FullName;
        try
        {
            foreach (var service in new[] { "engine", "web" })
            {
                var config = Path.Combine(sandbox.ConfigDir, service + ".json");
                var file = Path.Combine(dir, service + ".bak");
                var backup = await RunAsync(Path.Combine(sandbox.Prefix, "bin", "dashboard-" + service), "backup", "--to", file, "--config", config);
                Assert.True(backup.ExitCode == 0, $"dashboard-{service} backup: {backup.Output}");
                Assert.Equal("600", StatLine(file).Split(' ')[0]);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<InstallSandbox.Result> RunAsync(string program, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_EnableDiagnostics"] = "0";
        using var process = System.Diagnostics.Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
        return new InstallSandbox.Result(process.ExitCode, await stdout + await stderr);
    }

    private static async Task UninstallKeepsOnlyDataAsync(InstallSandbox sandbox, int containerPid)
    {
        var enginePid = sandbox.ServicePid("engine")!.Value;
        var webPid = sandbox.ServicePid("web")!.Value;
        containerPid = sandbox.HostPid(containerPid);
        var bridgesDir = Path.Combine(sandbox.RunDir, "runtime", "bridges");
        var bridges = Directory.Exists(bridgesDir) ? Directory.GetFiles(bridgesDir).Select(Path.GetFileName).ToList() : [];
        Assert.NotEmpty(bridges);
        var result = await sandbox.RunScriptAsync(Ct, "--uninstall");
        Assert.True(result.ExitCode == 0, $"uninstall failed ({result.ExitCode}):\n{result.Output}");

        // The engine's default bridge stays up while it is installed (as docker0) and goes with it.
        foreach (var bridge in bridges)
        {
            Assert.False(Directory.Exists("/sys/class/net/" + bridge), $"bridge {bridge} left on the host");
        }

        foreach (var pid in new[] { enginePid, webPid, containerPid })
        {
            await WaitGoneAsync(pid);
        }

        Assert.Equal(
            ["data", InstallSandbox.OverlayDir],
            Directory.GetFileSystemEntries(sandbox.Root).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray());
        Assert.True(File.Exists(Path.Combine(sandbox.DataDir, "engine", "engine.db")));
        Assert.True(File.Exists(Path.Combine(sandbox.DataDir, "web", "web.db")));
        Assert.NotNull(sandbox.SandboxUid("dashboard"));
    }

    private static async Task PurgeLeavesNothingAsync(InstallSandbox sandbox)
    {
        var result = await sandbox.RunScriptAsync(Ct, "--uninstall", "--purge");
        Assert.True(result.ExitCode == 0, $"purge failed ({result.ExitCode}):\n{result.Output}");
        Assert.Equal([InstallSandbox.OverlayDir], Directory.GetFileSystemEntries(sandbox.Root).Select(Path.GetFileName).ToArray());
        Assert.Null(sandbox.SandboxUid("dashboard"));
    }

    /// <summary>Where a redirect points, resolved against the site (Location may be relative or absolute).</summary>
    private static Uri Target(HttpClient web, HttpResponseMessage response) =>
        new(web.BaseAddress!, response.Headers.Location ?? throw new Xunit.Sdk.XunitException($"no Location header ({(int)response.StatusCode})"));

    private static HttpClient WebClient(InstallSandbox sandbox)
    {
        var expected = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(sandbox.ConfigDir, "tls", "cert.pem")));
        var handler = new HttpClientHandler
        {
            AllowAutoRedirect = false,
            UseCookies = true,
            CookieContainer = new CookieContainer(),

            // The install's self-signed certificate, pinned: exactly the one it wrote, nothing else.
            ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert is not null && cert.RawData.AsSpan().SequenceEqual(expected.RawData),
        };
        return new HttpClient(handler, disposeHandler: true) { BaseAddress = sandbox.WebUri, Timeout = TimeSpan.FromSeconds(30) };
    }

    private static HttpClient EngineClient(string socket) =>
        new(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
                return new NetworkStream(s, ownsSocket: true);
            },
        })
        { BaseAddress = new Uri("http://engine"), Timeout = TimeSpan.FromSeconds(60) };

    private static async Task<(bool Running, int Pid)> StateAsync(HttpClient engine, string id)
    {
        var json = await engine.GetStringAsync(new Uri($"/v1.43/containers/{id}/json", UriKind.Relative), Ct);
        var state = JsonDocument.Parse(json).RootElement.GetProperty("State");
        return (state.GetProperty("Running").GetBoolean(), state.GetProperty("Pid").GetInt32());
    }

    private static async Task<string> TokenAsync(HttpClient web, string path)
    {
        var html = await web.GetStringAsync(new Uri(path, UriKind.Relative), Ct);
        var match = TokenField().Match(html);
        Assert.True(match.Success, $"no antiforgery token on {path}");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient web, string path, string token, params (string Key, string Value)[] fields)
    {
        var values = fields.Select(f => KeyValuePair.Create(f.Key, f.Value)).Append(KeyValuePair.Create("__RequestVerificationToken", token));
        using var content = new FormUrlEncodedContent(values);
        return await web.PostAsync(new Uri(path, UriKind.Relative), content, Ct);
    }

    private static void AssertMode(string path, string octalMode, int uid)
    {
        var stat = StatLine(path);
        Assert.True(stat == $"{octalMode} {uid}", $"{path}: mode/owner {stat}, expected {octalMode} {uid}");
    }

    private static string StatLine(string path)
    {
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%a %u", path]) { RedirectStandardOutput = true })!;
        var text = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return text;
    }

    private static int ProcessUid(int pid) =>
        int.Parse(File.ReadAllLines($"/proc/{pid}/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[2], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Field 22 of /proc/PID/stat: with the pid it identifies one process across pid reuse.</summary>
    private static string ProcessStartTime(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19];
    }

    private static async Task WaitGoneAsync(int pid)
    {
        for (var i = 0; i < 150 && File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100, Ct);
        }

        Assert.False(File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal), $"process {pid} still runs");
    }

    /// <summary>Existence and content hash of each host path a real install would change.</summary>
    private static string HostSnapshot()
    {
        var text = new StringBuilder();
        foreach (var path in s_hostPaths)
        {
            text.Append(path).Append(' ');
            if (File.Exists(path))
            {
                text.Append(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))));
            }
            else
            {
                text.Append(Directory.Exists(path) ? "dir " + string.Join(',', Directory.GetFileSystemEntries(path).Order(StringComparer.Ordinal)) : "absent");
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
