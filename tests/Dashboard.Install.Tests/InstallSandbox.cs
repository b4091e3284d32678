using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Dashboard.Testing;

namespace Dashboard.Install.Tests;

/// <summary>
/// A scratch host for the install script: every location it writes (prefix, data, config, units, run, log) lies
/// under one temp directory, and it runs inside a private mount namespace whose <c>/etc</c> is an overlay with a
/// temp upper layer, so creating the <c>dashboard</c> user changes nothing on the real host either. The
/// namespace is held open by a <c>sleep</c> process; each script run joins it with <c>nsenter</c>.
/// </summary>
public sealed partial class InstallSandbox : IAsyncDisposable
{
    private static readonly TimeSpan s_stepTimeout = TimeSpan.FromSeconds(150);

    private readonly Process _holder;

    /// <summary>systemd's pid as the host sees it, when the sandbox runs under its own systemd (else null).</summary>
    private readonly int? _systemd;

    private InstallSandbox(string root, Process holder, string binaries, int port, int? systemd)
    {
        Root = root;
        _holder = holder;
        _systemd = systemd;
        Binaries = binaries;
        Port = port;
        CgroupParent = "/dashboard-test/install-" + Path.GetFileName(root)[^8..];
    }

    /// <summary>Whether the services run as systemd units (the sandbox's own systemd is PID 1 of its namespaces).</summary>
    public bool UnderSystemd => _systemd is not null;

    /// <summary>
    /// Where the script sees <see cref="Root"/>. Under systemd the root is bind-mounted at <c>/srv</c> inside the
    /// namespace: the web unit's <c>PrivateTmp=yes</c> hides everything below <c>/tmp</c> from the service.
    /// </summary>
    public string ScriptRoot => UnderSystemd ? SystemdScriptRoot : Root;

    public const string SystemdScriptRoot = "/srv";

    /// <summary>The path of <paramref name="hostPath"/> (below <see cref="Root"/>) as the script and the services see it.</summary>
    public string Inside(string hostPath) => ScriptRoot + hostPath[Root.Length..];

    public string Root { get; }
    public string Binaries { get; }
    public int Port { get; }
    public string CgroupParent { get; }
    public string Prefix => Path.Combine(Root, "prefix");
    public string DataDir => Path.Combine(Root, "data");
    public string ConfigDir => Path.Combine(Root, "etc-dashboard");
    public string UnitDir => Path.Combine(Root, "units");
    public string RunDir => Path.Combine(Root, "run");
    public string LogDir => Path.Combine(Root, "log");

    /// <summary>The sandbox's own entry in <see cref="Root"/>: the overlay's tmpfs mount point (empty seen from the host).</summary>
    public const string OverlayDir = "etc-overlay";
    public string Socket => Path.Combine(RunDir, "engine.sock");
    public Uri WebUri => new($"https://127.0.0.1:{Port}/");

    /// <summary>The distribution packages the script installs when missing (its <c>do_install</c> list).</summary>
    public static readonly string[] Packages =
        ["clang", "lld", "zlib1g-dev", "containernetworking-plugins", "iptables", "iproute2", "openssl", "curl", "util-linux", "passwd"];

    /// <summary>
    /// The test must not install packages on the machine: with all of them present the script only queries dpkg;
    /// with some missing, every run gets <c>--skip-packages</c> instead.
    /// </summary>
    public IReadOnlyList<string> MissingPackages { get; } = FindMissingPackages();

    private static List<string> FindMissingPackages()
    {
        var missing = new List<string>();
        foreach (var package in Packages)
        {
            using var p = Process.Start(new ProcessStartInfo("dpkg-query", ["-W", "-f=${Status}", package]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var status = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (!status.Contains("install ok installed", StringComparison.Ordinal))
            {
                missing.Add(package);
            }
        }

        return missing;
    }

    /// <summary>The repository's install script (found above the test binary).</summary>
    public static string Script
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "docker-compose-free-install.sh");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new FileNotFoundException("docker-compose-free-install.sh not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The prefix published by <c>--build-only</c> that DASHBOARD_BIN (PREFIX/bin) points into, or null.</summary>
    public static string? PublishedBinaries()
    {
        var bin = Environment.GetEnvironmentVariable("DASHBOARD_BIN");
        if (string.IsNullOrEmpty(bin))
        {
            return null;
        }

        var lib = Path.GetFullPath(Path.Combine(bin, "..", "lib", "dashboard"));
        return File.Exists(Path.Combine(lib, "runtime", "dashboard-runtime")) &&
               File.Exists(Path.Combine(lib, "engine", "dashboard-engine")) &&
               File.Exists(Path.Combine(lib, "web", "dashboard-web"))
            ? bin
            : null;
    }

    public static async Task<InstallSandbox> CreateAsync(string binaries, CancellationToken cancellationToken, bool underSystemd = false)
    {
        if (underSystemd)
        {
            return await CreateUnderSystemdAsync(binaries, cancellationToken);
        }

        var root = Directory.CreateTempSubdirectory("dashboard-install-test-").FullName;

        // The web UI runs as the dashboard user and must reach its binaries and data below this directory.
        File.SetUnixFileMode(root, (UnixFileMode)0x1ED);
        // The overlay's layers live on a tmpfs mounted inside the namespace: upper and work directories must not be
        // on an overlayfs themselves (as /tmp is in many CI containers), and the tmpfs vanishes with the namespace.
        var overlay = Path.Combine(root, OverlayDir);
        Directory.CreateDirectory(overlay);
        var ready = Path.Combine(root, ".namespace-ready");
        var holder = Process.Start(new ProcessStartInfo("unshare")
        {
            ArgumentList =
            {
                "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                $"mount -t tmpfs -o mode=0700 tmpfs {overlay} && mkdir {overlay}/upper {overlay}/work && " +
                $"mount -t overlay overlay -o lowerdir=/etc,upperdir={overlay}/upper,workdir={overlay}/work /etc && touch {ready} && exec sleep 900",
            },
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("unshare did not start");
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !File.Exists(ready) && DateTime.UtcNow < deadline;)
        {
            if (holder.HasExited)
            {
                var error = await holder.StandardError.ReadToEndAsync(cancellationToken);
                Directory.Delete(root, recursive: true);
                throw new InvalidOperationException($"mount namespace with an /etc overlay: {error.Trim()}");
            }

            await Task.Delay(100, cancellationToken);
        }

        Assert.True(File.Exists(ready), "the mount namespace holder did not get ready in 30 s");
        File.Delete(ready);
        return new InstallSandbox(root, holder, binaries, FreePort(), systemd: null);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public sealed record Result(int ExitCode, string Output);

    /// <summary>Runs the install script inside the namespace with every location in the sandbox plus <paramref name="args"/>.</summary>
    public async Task<Result> RunScriptAsync(CancellationToken cancellationToken, params string[] args)
    {
        string[] script =
        [
            "bash", Script,
            "--prefix", Inside(Prefix), "--data-dir", Inside(DataDir), "--config-dir", Inside(ConfigDir), "--unit-dir", Inside(UnitDir),
            "--run-dir", Inside(RunDir), "--log-dir", Inside(LogDir), "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1", "--cgroup-parent", CgroupParent,
        ];
        var psi = Enter([.. script, .. MissingPackages.Count > 0 ? ["--skip-packages"] : Array.Empty<string>(), .. args]);

        // A clean environment as a user's sudo would give; DASHBOARD_BIN is passed as --from-build, not inherited.
        psi.Environment.Remove("DASHBOARD_BIN");
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("nsenter did not start");
        process.StandardInput.Close();
        var output = new StringBuilder();
        void Append(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }

        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_stepTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"install script {string.Join(' ', args)} did not finish in {s_stepTimeout.TotalSeconds} s:\n{output}\n{Logs()}");
        }

        process.WaitForExit();
        lock (output)
        {
            return new Result(process.ExitCode, output.ToString());
        }
    }

    /// <summary>nsenter into the sandbox's namespaces (mount; under systemd also its pid and cgroup ones) to run <paramref name="command"/>.</summary>
    private ProcessStartInfo Enter(IEnumerable<string> command)
    {
        var psi = new ProcessStartInfo("nsenter")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-t");
        psi.ArgumentList.Add((_systemd ?? _holder.Id).ToString(System.Globalization.CultureInfo.InvariantCulture));
        psi.ArgumentList.Add("-m");
        if (UnderSystemd)
        {
            psi.ArgumentList.Add("-p");
            psi.ArgumentList.Add("-C");
            psi.Environment["SYSTEMD_UNIT_PATH"] = SystemdUnitPath;
        }

        psi.ArgumentList.Add("--");
        foreach (var a in command)
        {
            psi.ArgumentList.Add(a);
        }

        return psi;
    }

    /// <summary>The services' log files (under systemd: the units' status), for failure messages.</summary>
    public string Logs()
    {
        if (UnderSystemd)
        {
            var status = Systemctl("status", "--no-pager", "dashboard-engine.service", "dashboard-web.service");
            return "--- systemctl status\n" + status.Output;
        }

        var text = new StringBuilder();

        foreach (var name in new[] { "engine", "web" })
        {
            var path = Path.Combine(LogDir, name + ".log");
            if (File.Exists(path))
            {
                var lines = File.ReadAllLines(path);
                text.AppendLine($"--- {path} (last 40 lines)");
                foreach (var line in lines.TakeLast(40))
                {
                    text.AppendLine(line);
                }
            }
        }

        return text.ToString();
    }

    /// <summary>The service's main process as the host sees it (pid file, or the unit's MainPID under systemd).</summary>
    public int? ServicePid(string name)
    {
        if (UnderSystemd)
        {
            var main = Systemctl("show", "-p", "MainPID", "--value", $"dashboard-{name}.service").Output.Trim();
            return int.TryParse(main, out var nsPid) && nsPid > 0 ? HostPid(nsPid) : null;
        }

        var path = Path.Combine(RunDir, name + ".pid");
        return File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out var pid) ? pid : null;
    }

    /// <summary>uid of the user in the sandbox's /etc/passwd, read through the holder's root in its mount namespace.</summary>
    public int? SandboxUid(string user)
    {
        var passwd = $"/proc/{_holder.Id}/root/etc/passwd";
        if (!File.Exists(passwd))
        {
            return null;
        }

        var line = File.ReadAllLines(passwd).FirstOrDefault(l => l.StartsWith(user + ":", StringComparison.Ordinal));
        return line is null ? null : int.Parse(line.Split(':')[2], System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        if (UnderSystemd)
        {
            await DisposeSystemdAsync();
            return;
        }

        // Whatever a failed run left: only processes whose pid files are ours and that still run our binaries.
        foreach (var name in new[] { "web", "engine" })
        {
            if (ServicePid(name) is { } pid && IsOurs(pid))
            {
                try
                {
                    using var p = Process.GetProcessById(pid);
                    p.Kill();
                    await p.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or TimeoutException)
                {
                }
            }
        }

        KillShims();
        if (!_holder.HasExited)
        {
            _holder.Kill();
            await _holder.WaitForExitAsync(CancellationToken.None);
        }

        _holder.Dispose();
        RemoveCgroups();
        await DeleteRootAsync();
    }

    private async Task DeleteRootAsync()
    {
        // A run that failed before --uninstall leaves the engine's bridges (the default one outlives the engine).
        EngineBridges.Remove(Path.Combine(RunDir, "runtime"));
        // The script makes the installed runtime immutable; a run that failed before --uninstall leaves it so.
        foreach (var lib in new[] { "lib/dashboard", "lib/dashboard.new", "lib/dashboard.old" })
        {
            var runtime = Path.Combine(Prefix, lib, "runtime/dashboard-runtime");
            if (File.Exists(runtime))
            {
                using var chattr = Process.Start("chattr", ["-i", runtime]);
                await chattr.WaitForExitAsync(CancellationToken.None);
            }
        }

        Directory.Delete(Root, recursive: true);
    }

    private bool IsOurs(int pid)
    {
        try
        {
            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
            return cmdline.Contains(Prefix, StringComparison.Ordinal) || cmdline.Contains(Root, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Shims of containers a failed run left (their command lines name the sandbox's run directory).</summary>
    private void KillShims()
    {
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && pid != Environment.ProcessId && IsOurs(pid))
            {
                try
                {
                    using var p = Process.GetProcessById(pid);
                    p.Kill(entireProcessTree: true);
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                }
            }
        }
    }

    private void RemoveCgroups()
    {
        if (!Directory.Exists("/sys/fs/cgroup"))
        {
            return;
        }

        foreach (var controller in Directory.GetDirectories("/sys/fs/cgroup"))
        {
            var dir = controller + CgroupParent;
            if (!Directory.Exists(dir))
            {
                continue;
            }

            foreach (var child in Directory.GetDirectories(dir).Append(dir))
            {
                try
                {
                    Directory.Delete(child);
                }
                catch (IOException)
                {
                }
            }
        }
    }
}
