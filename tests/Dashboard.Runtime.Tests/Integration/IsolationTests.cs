using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Tests.Integration;

/// <summary>What the process inside sees, checked by an in-container probe (busybox shell).</summary>
[Trait("Requires", "root")]
public class IsolationTests : IDisposable
{
    private readonly RuntimeHarness _rt;

    public IsolationTests()
        : this(new RuntimeHarness())
    {
    }

    protected IsolationTests(RuntimeHarness harness) => _rt = harness;

    public void Dispose()
    {
        _rt.Dispose();
        GC.SuppressFinalize(this);
    }

    private string Probe(string script, Action<Spec>? configure = null)
    {
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["sh", "-c", script];
            configure?.Invoke(s);
        });
        var result = _rt.RunContainer(bundle);
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stderr}{result.Stdout}");
        return result.Stdout;
    }

    [Fact]
    public void Namespaces_AreNew()
    {
        var output = Probe("for n in pid net ipc uts mnt cgroup; do readlink /proc/self/ns/$n; done");
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var type = line[..line.IndexOf(':', StringComparison.Ordinal)];
            var host = new FileInfo($"/proc/self/ns/{type}").LinkTarget;
            Assert.NotNull(host);
            Assert.NotEqual(host, line);
        }

        Assert.Equal(6, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void UserNamespace_MapsContainerRootToTheConfiguredHostRange()
    {
        var output = Probe("cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; ls -ln /bin/busybox | tr -s ' ' | cut -d' ' -f3", s =>
        {
            s.Linux!.Namespaces!.Add(new Namespace { Type = "user" });
            s.Linux.UidMappings = [new IdMapping { ContainerId = 0, HostId = 100000, Size = 65536 }];
            s.Linux.GidMappings = [new IdMapping { ContainerId = 0, HostId = 100000, Size = 65536 }];
        });
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).ToArray();
        Assert.Equal(["0 100000 65536", "0 100000 65536", "0", "0", "65534"], lines);
    }

    [Fact]
    public void TimeNamespace_OffsetsShiftTheContainersBootClock()
    {
        const long tenYears = 10L * 365 * 86400;
        var output = Probe("cut -d. -f1 /proc/uptime", s =>
        {
            s.Linux!.Namespaces!.Add(new Namespace { Type = "time" });
            s.Linux.TimeOffsets = new() { ["boottime"] = new TimeOffset { Secs = tenYears } };
        });
        var hostUptime = long.Parse(File.ReadAllText("/proc/uptime").Split('.')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(long.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture), tenYears + hostUptime - 5, tenYears + hostUptime + 60);
    }

    [Fact]
    public void Proc_ShowsOnlyTheContainer()
    {
        var output = Probe("echo $$; ls /proc | grep -c '^[0-9]'");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("1", lines[0]);
        Assert.True(int.Parse(lines[1]) <= 3, output);
    }

    [Fact]
    public void MaskedPaths_ReadEmpty_ReadonlyPathsRefuseWrites()
    {
        // Only the masked paths this kernel has (a minimal VM kernel may lack /proc/kcore or /sys/firmware).
        var files = new[] { "/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/interrupts" }.Where(File.Exists).ToArray();
        var dirs = new[] { "/sys/firmware", "/proc/acpi", "/proc/scsi" }.Where(Directory.Exists).ToArray();
        Assert.NotEmpty(files);
        var script = string.Concat(files.Select(f => $"cat {f} | wc -c; ")) + string.Concat(dirs.Select(d => $"ls {d} | wc -l; "))
            + "echo 1 > /proc/sysrq-trigger 2>/dev/null && echo writable || echo readonly";
        var output = Probe(script);
        Assert.Equal([.. files.Select(_ => "0"), .. dirs.Select(_ => "0"), "readonly"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim()));
    }

    [Fact]
    public void CapabilitiesAndNoNewPrivs_MatchTheConfig()
    {
        var output = Probe("grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status", s =>
        {
            s.Process!.Capabilities = new Capabilities
            {
                Bounding = ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"],
                Effective = ["CAP_KILL", "CAP_CHOWN"],
                Permitted = ["CAP_KILL", "CAP_CHOWN"],
            };
            s.Process.NoNewPrivileges = true;
        });
        var fields = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(':')).ToDictionary(p => p[0], p => p[1].Trim());
        // root's permitted set after exec is the bounding set (capabilities(7)); effective follows.
        Assert.Equal("0000000000000421", fields["CapBnd"]);
        Assert.Equal("0000000000000000", fields["CapInh"]);
        Assert.Equal("0000000000000000", fields["CapAmb"]);
        Assert.Equal("1", fields["NoNewPrivs"]);
    }

    [Fact]
    public void NonRootUser_GetsExactlyTheConfiguredCapabilitiesThroughAmbient()
    {
        var output = Probe("id -u; grep -E '^(CapEff|CapAmb)' /proc/self/status", s =>
        {
            s.Process!.User = new User { Uid = 1000, Gid = 1000, AdditionalGids = [2000] };
            s.Process.Capabilities = new Capabilities
            {
                Bounding = ["CAP_NET_BIND_SERVICE"],
                Effective = ["CAP_NET_BIND_SERVICE"],
                Permitted = ["CAP_NET_BIND_SERVICE"],
                Inheritable = ["CAP_NET_BIND_SERVICE"],
                Ambient = ["CAP_NET_BIND_SERVICE"],
            };
        });
        Assert.Contains("1000", output, StringComparison.Ordinal);
        Assert.Contains("CapEff:\t0000000000000400", output, StringComparison.Ordinal);
        Assert.Contains("CapAmb:\t0000000000000400", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Rlimits_Apply()
    {
        var output = Probe("ulimit -n; ulimit -Hn", s => s.Process!.Rlimits = [new Rlimit { Type = "RLIMIT_NOFILE", Soft = 77, Hard = 88 }]);
        Assert.Equal(["77", "88"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void HostnameEnvCwdAndUser_AreApplied()
    {
        var output = Probe("hostname; echo $FOO; pwd; id -u; id -g", s =>
        {
            s.Hostname = "probe-host";
            s.Process!.Env = [.. s.Process.Env!, "FOO=bar"];
            s.Process.Cwd = "/tmp";
            s.Process.User = new User { Uid = 123, Gid = 456 };
        });
        Assert.Equal(["probe-host", "bar", "/tmp", "123", "456"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void ReadonlyRoot_RefusesWrites()
    {
        var output = Probe("touch /x 2>/dev/null && echo writable || echo readonly; touch /tmp/y 2>/dev/null && echo tmp-writable", s =>
        {
            s.Root!.Readonly = true;
            s.Mounts!.Add(new Mount { Destination = "/tmp", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "nodev"] });
        });
        Assert.Equal(["readonly", "tmp-writable"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void CgroupMount_IsReadOnly()
    {
        var output = Probe("echo 1 > /sys/fs/cgroup/pids/cgroup.procs 2>/dev/null && echo writable || echo readonly; ls /sys/fs/cgroup | grep -c memory");
        Assert.Equal(["readonly", "1"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void BindMount_IsVisibleAndReadOnlyWhenAsked()
    {
        var shared = _rt.NewDir("shared");
        File.WriteAllText(Path.Combine(shared, "data"), "from-host\n");
        var output = Probe("cat /mnt/data; echo x > /mnt/data 2>/dev/null && echo writable || echo readonly", s =>
            s.Mounts!.Add(new Mount { Destination = "/mnt", Type = "bind", Source = shared, Options = ["rbind", "ro"] }));
        Assert.Equal(["from-host", "readonly"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Sysctl_NamespacedOne_IsSetInTheContainerOnly()
    {
        var host = File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim();
        var output = Probe("cat /proc/sys/net/ipv4/ip_forward", s => s.Linux!.Sysctl = new Dictionary<string, string> { ["net.ipv4.ip_forward"] = host == "1" ? "0" : "1" });
        Assert.Equal(host == "1" ? "0" : "1", output.Trim());
        Assert.Equal(host, File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim());
    }
}

/// <summary>The same tests with a writable runtime binary: init re-executes a sealed memfd copy.</summary>
[Trait("Requires", "root")]
public sealed class IsolationReexecTests : IsolationTests
{
    public IsolationReexecTests()
        : base(new RuntimeHarness(RuntimeHarness.FindPublishedRuntime()))
    {
    }
}
