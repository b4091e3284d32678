namespace Dashboard.Install.Tests;

/// <summary>
/// The same install as a systemd host gets it: the script finds systemd (PID 1 of the sandbox's namespaces), writes
/// and enables the units, and systemd starts them — <c>Type=notify</c> readiness, <c>User=dashboard</c>, the web
/// unit's hardening, <c>KillMode=process</c> keeping containers through an engine restart and an upgrade.
/// </summary>
public sealed partial class InstallScriptTests
{
    [Fact]
    public async Task InstallScript_UnderSystemd_StartsHardenedUnits_EngineRestartAndUpgradeKeepContainers()
    {
        var binaries = RequirePrerequisites("systemctl");

        var before = HostSnapshot();
        await using (var sandbox = await InstallSandbox.CreateAsync(binaries, Ct, underSystemd: true))
        {
            var result = await sandbox.RunScriptAsync(Ct, "--from-build", sandbox.Binaries);
            Assert.True(result.ExitCode == 0, $"install under systemd failed ({result.ExitCode}):\n{result.Output}\n{sandbox.Logs()}");
            Assert.Contains("engine and web UI are ready", result.Output, StringComparison.Ordinal);
            AssertUnitsRunHardened(sandbox);

            using var web = WebClient(sandbox);
            await SignInWithBootstrapSecretAsync(sandbox, web);
            using var engine = EngineClient(sandbox.Socket);
            var (id, pid) = await RunContainerAsync(sandbox, web, engine);
            await EngineRestartKeepsContainerAsync(sandbox, engine, id, pid);
            await UpgradeKeepsContainerAsync(sandbox, web, id, pid);
            await UninstallKeepsOnlyDataAsync(sandbox, pid);
            Assert.NotEqual(0, sandbox.Systemctl("cat", "dashboard-engine.service").ExitCode);
            Assert.NotEqual(0, sandbox.Systemctl("cat", "dashboard-web.service").ExitCode);
            await PurgeLeavesNothingAsync(sandbox);
        }

        Assert.Equal(before, HostSnapshot());
    }

    private static void AssertUnitsRunHardened(InstallSandbox sandbox)
    {
        var active = sandbox.Systemctl("is-active", "dashboard-engine.service", "dashboard-web.service");
        Assert.True(active.ExitCode == 0 && active.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries) is ["active", "active"], active.Output + sandbox.Logs());
        foreach (var unit in new[] { "dashboard-engine.service", "dashboard-web.service" })
        {
            // Active through READY=1 (Type=notify), not through a start timeout and a restart.
            Assert.Equal("notify", sandbox.Systemctl("show", "-p", "Type", "--value", unit).Output.Trim());
            Assert.Equal("0", sandbox.Systemctl("show", "-p", "NRestarts", "--value", unit).Output.Trim());
        }

        var systemdMounts = MountNamespace(sandbox.HostPid(1));
        var engine = sandbox.ServicePid("engine") ?? throw new Xunit.Sdk.XunitException("no engine MainPID");
        Assert.Equal(0, ProcessUid(engine));
        Assert.Contains("DOTNET_EnableDiagnostics=0", File.ReadAllText($"/proc/{engine}/environ").Split('\0'));
        // Read from the host, the cgroup path includes the sandbox's own cgroup namespace root.
        Assert.EndsWith("/system.slice/dashboard-engine.service", File.ReadAllLines($"/proc/{engine}/cgroup").Single(l => l.StartsWith("0::", StringComparison.Ordinal)), StringComparison.Ordinal);

        // No private mount namespace for the engine: container mounts must be the host's (see the unit's comment).
        Assert.Equal(systemdMounts, MountNamespace(engine));

        var web = sandbox.ServicePid("web") ?? throw new Xunit.Sdk.XunitException("no web MainPID");
        Assert.Equal(sandbox.SandboxUid("dashboard"), ProcessUid(web));
        var status = File.ReadAllLines($"/proc/{web}/status");
        Assert.Contains("NoNewPrivs:\t1", status);
        Assert.Contains("Seccomp:\t2", status);
        Assert.Contains("CapBnd:\t0000000000000000", status);
        Assert.NotEqual(systemdMounts, MountNamespace(web));
    }

    /// <summary><c>systemctl restart dashboard-engine</c>: KillMode=process stops only the engine; the container's shim and process stay and the new engine adopts them.</summary>
    private static async Task EngineRestartKeepsContainerAsync(InstallSandbox sandbox, HttpClient engine, string id, int pid)
    {
        var oldEngine = sandbox.ServicePid("engine");
        var hostPid = sandbox.HostPid(pid);
        var startTime = ProcessStartTime(hostPid);
        var restart = sandbox.Systemctl("restart", "dashboard-engine.service");
        Assert.True(restart.ExitCode == 0, restart.Output + sandbox.Logs());
        Assert.NotEqual(oldEngine, sandbox.ServicePid("engine"));
        Assert.Equal(startTime, ProcessStartTime(hostPid));
        var (running, pidAfter) = await StateAsync(engine, id);
        Assert.True(running, "the container runs after the engine restarted");
        Assert.Equal(pid, pidAfter);
    }

    private static string MountNamespace(int pid) =>
        new FileInfo($"/proc/{pid}/ns/mnt").LinkTarget ?? throw new Xunit.Sdk.XunitException($"no mount namespace for {pid}");
}
