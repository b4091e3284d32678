using System.Diagnostics;
using System.Globalization;
using Dashboard.Testing;

namespace Dashboard.Install.Tests;

/// <summary>
/// The sandbox with systemd as PID 1 of its own pid, mount and cgroup namespaces, so the script installs and
/// starts real units (<c>Type=notify</c>, <c>User=</c>, the hardening options) as on a systemd host.
/// <para>
/// Only this sandbox changes: in its private mount namespace the copies of the host's cgroup mounts are replaced
/// by the host's cgroup2 tree below <c>/dashboard-test/…</c>, bind-mounted at <c>/sys/fs/cgroup</c> (pure unified
/// mode, as a container gets it: systemd then mounts no v1 hierarchy and creates nothing in the host's cgroup
/// tmpfs, as it would in hybrid mode; the host's mounts stay as they are), a tmpfs <c>/run</c>, the <c>/etc</c>
/// overlay, and loads units only
/// from the script's unit directory plus a few empty targets (<c>SYSTEMD_UNIT_PATH</c>): none of the host's.
/// </para>
/// </summary>
public sealed partial class InstallSandbox
{
    /// <summary>Empty stand-ins for the targets and slice the units depend on (DefaultDependencies, WantedBy).</summary>
    private const string BootUnitDir = "/run/dashboard-test-units";

    private static readonly string[] s_bootTargets = ["sysinit", "basic", "multi-user", "shutdown", "sockets", "paths", "timers", "network-online", "local-fs", "dashboard-test"];

    private string SystemdUnitPath => Inside(UnitDir) + ":" + BootUnitDir;

    private string SystemdCgroup => "/sys/fs/cgroup/unified" + CgroupParent + "-systemd";

    private static async Task<InstallSandbox> CreateUnderSystemdAsync(string binaries, CancellationToken cancellationToken)
    {
        if (!File.Exists("/lib/systemd/systemd") || !Directory.Exists(SystemdScriptRoot) || !Directory.Exists("/sys/fs/cgroup/unified"))
        {
            Requires.Unmet($"needs /lib/systemd/systemd (package systemd), an empty {SystemdScriptRoot} to mount over and a cgroup2 mount at /sys/fs/cgroup/unified");
        }

        var root = Directory.CreateTempSubdirectory("dashboard-install-test-").FullName;
        File.SetUnixFileMode(root, (UnixFileMode)0x1ED);
        var overlay = Path.Combine(root, OverlayDir);
        Directory.CreateDirectory(overlay);
        var cgroup = "/sys/fs/cgroup/unified/dashboard-test/install-" + Path.GetFileName(root)[^8..] + "-systemd";
        Directory.CreateDirectory(cgroup);

        var targets = string.Join("; ", s_bootTargets.Select(t => $"printf '[Unit]\\nDescription=%s\\n' {t} > {BootUnitDir}/{t}.target"));
        var inner =
            $"set -e; mount --bind {cgroup} {SystemdScriptRoot}; umount -R /sys/fs/cgroup; mount --move {SystemdScriptRoot} /sys/fs/cgroup; " +
            $"mount -t tmpfs -o mode=0700 tmpfs {overlay}; mkdir {overlay}/upper {overlay}/work; " +
            $"mount -t overlay overlay -o lowerdir=/etc,upperdir={overlay}/upper,workdir={overlay}/work /etc; " +
            $"mount --bind {root} {SystemdScriptRoot}; mount -t tmpfs -o mode=0755 tmpfs /run; mkdir {BootUnitDir}; {targets}; " +
            $"printf '[Unit]\\nDescription=system slice\\n' > {BootUnitDir}/system.slice; " +
            $"exec env -i container=dashboard-test SYSTEMD_UNIT_PATH={SystemdScriptRoot}/units:{BootUnitDir} " +
            "/lib/systemd/systemd --system --unit=dashboard-test.target --log-target=console --log-level=warning";

        // The holder joins the test's cgroup first, so that systemd's own cgroup namespace starts there.
        var holder = Process.Start(new ProcessStartInfo("/bin/sh")
        {
            ArgumentList =
            {
                "-c", $"echo $$ > {cgroup}/cgroup.procs && exec unshare --cgroup --mount --propagation private --pid --fork --mount-proc /bin/sh -c \"$0\"", inner,
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("unshare did not start");
        var output = new System.Text.StringBuilder();
        holder.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        holder.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        holder.BeginOutputReadLine();
        holder.BeginErrorReadLine();

        int? systemd = null;
        string state = "";
        for (var i = 0; i < 150 && !holder.HasExited; i++)
        {
            await Task.Delay(200, cancellationToken);
            systemd ??= ChildOf(holder.Id);
            if (systemd is { } pid && File.Exists($"/proc/{pid}/comm") && File.ReadAllText($"/proc/{pid}/comm").Trim() == "systemd")
            {
                var sandbox = new InstallSandbox(root, holder, binaries, FreePort(), pid);
                state = sandbox.Systemctl("is-system-running").Output.Trim();
                if (state is "running" or "degraded")
                {
                    return sandbox;
                }
            }
        }

        if (!holder.HasExited)
        {
            holder.Kill();
        }

        await holder.WaitForExitAsync(CancellationToken.None);
        RemoveCgroupTree(cgroup);
        Directory.Delete(root, recursive: true);
        lock (output)
        {
            throw new InvalidOperationException($"systemd in the sandbox did not come up in 30 s (state '{state}'):\n{output}");
        }
    }

    private static int? ChildOf(int pid)
    {
        var path = $"/proc/{pid}/task/{pid}/children";
        var children = File.Exists(path) ? File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
        return children.Length == 1 ? int.Parse(children[0], CultureInfo.InvariantCulture) : null;
    }

    /// <summary><c>systemctl</c> inside the sandbox, against its systemd.</summary>
    public Result Systemctl(params string[] args)
    {
        var psi = Enter(["systemctl", .. args]);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("nsenter did not start");
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("systemctl " + string.Join(' ', args) + " did not finish in 60 s");
        }

        return new Result(process.ExitCode, stdout + stderr.Result);
    }

    /// <summary>
    /// The host's pid of the process that is <paramref name="nsPid"/> in the sandbox's pid namespace (the engine
    /// reports container pids, and systemd main pids, as that namespace numbers them); identity outside systemd mode.
    /// </summary>
    public int HostPid(int nsPid)
    {
        if (_systemd is not { } systemd)
        {
            return nsPid;
        }

        var ns = new FileInfo($"/proc/{systemd}/ns/pid").LinkTarget;
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var line = File.ReadLines(Path.Combine(dir, "status")).FirstOrDefault(l => l.StartsWith("NSpid:", StringComparison.Ordinal));
                var ids = line?.Split('\t', StringSplitOptions.RemoveEmptyEntries);
                if (ids is { Length: >= 3 } && ids[2] == nsPid.ToString(CultureInfo.InvariantCulture) &&
                    InNamespaceBelow(pid, ns))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }

        throw new Xunit.Sdk.XunitException($"no process is pid {nsPid} in the sandbox's pid namespace");
    }

    /// <summary>Whether <paramref name="pid"/> lives in the sandbox's pid namespace (or one nested in it: a container's).</summary>
    private bool InNamespaceBelow(int pid, string? ns)
    {
        // NSpid's second entry is the pid in the namespace one level below the host's; the sandbox's is that level.
        for (var p = pid; p > 1;)
        {
            if (new FileInfo($"/proc/{p}/ns/pid").LinkTarget == ns)
            {
                return true;
            }

            var stat = File.ReadAllText($"/proc/{p}/stat");
            p = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }

        return false;
    }

    private async Task DisposeSystemdAsync()
    {
        // Stopping the units first lets systemd remove the web unit's PrivateTmp directories below the host's /tmp;
        // killing PID 1 then ends every process in its namespace, containers included, and with them its mounts.
        try
        {
            Systemctl("stop", "dashboard-web.service", "dashboard-engine.service");
        }
        catch (TimeoutException)
        {
        }

        if (!_holder.HasExited)
        {
            Process.GetProcessById(_systemd!.Value).Kill();
            if (!_holder.WaitForExit(20_000))
            {
                _holder.Kill(entireProcessTree: true);
            }

            await _holder.WaitForExitAsync(CancellationToken.None);
        }

        _holder.Dispose();
        RemoveCgroupTree(SystemdCgroup);
        await DeleteRootAsync();
    }

    /// <summary>Removes a cgroup directory and everything below it, deepest first (cgroupfs has no recursive rmdir).</summary>
    private static void RemoveCgroupTree(string dir)
    {
        if (!Directory.Exists(dir))
        {
            return;
        }

        foreach (var child in Directory.GetDirectories(dir))
        {
            RemoveCgroupTree(child);
        }

        for (var i = 0; i < 50; i++)
        {
            try
            {
                Directory.Delete(dir);
                return;
            }
            catch (IOException) when (i < 49)
            {
                // Busy until the last process of a killed namespace is reaped.
                Thread.Sleep(100);
            }
        }
    }
}
