using Dashboard.Engine.Containers;
using Dashboard.Engine.Tests.Fakes;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Containers;

/// <summary>The default seccomp profile and the <c>seccomp</c> security option (issue 4, security.md A0/D3).</summary>
public sealed class SeccompTests
{
    private static readonly SeccompHost s_amd64 = new("amd64", "SCMP_ARCH_X86_64", new System.Version(6, 1));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static HashSet<string> Allowed(Oci.Runtime.Seccomp profile) =>
        profile.Syscalls!.Where(s => s.Action == "SCMP_ACT_ALLOW" && s.Args is null).SelectMany(s => s.Names).ToHashSet();

    [Fact]
    public void Default_DockerCapabilities_ErrnoEpermAllowListWithoutNamespaceCalls()
    {
        var profile = SeccompOptions.ForContainer(null, privileged: false, SpecBuilder.DefaultCapabilities.ToList(), s_amd64)!;

        Assert.Equal("SCMP_ACT_ERRNO", profile.DefaultAction);
        Assert.Equal(1u, profile.DefaultErrnoRet);
        Assert.Equal(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], profile.Architectures);
        var allowed = Allowed(profile);
        Assert.Contains("read", allowed);
        Assert.Contains("execve", allowed);
        Assert.Contains("arch_prctl", allowed);
        Assert.Contains("chroot", allowed);
        Assert.Contains("ptrace", allowed);
        foreach (var denied in new[] { "mount", "umount2", "unshare", "setns", "keyctl", "add_key", "request_key", "bpf", "kexec_load",
            "pivot_root", "swapon", "userfaultfd", "io_uring_setup", "open_by_handle_at", "reboot", "init_module", "clone", "clone3", "set_tls" })
        {
            Assert.DoesNotContain(denied, allowed);
        }

        var clone = Assert.Single(profile.Syscalls!, s => s.Names.Contains("clone"));
        var arg = Assert.Single(clone.Args!);
        Assert.Equal(("SCMP_CMP_MASKED_EQ", 0u, 0x7E020000ul, 0ul), (arg.Op, arg.Index, arg.Value, arg.ValueTwo));
        var clone3 = Assert.Single(profile.Syscalls!, s => s.Names.Contains("clone3"));
        Assert.Equal(("SCMP_ACT_ERRNO", 38u), (clone3.Action, clone3.ErrnoRet));
        var socket = Assert.Single(profile.Syscalls!, s => s.Names.Contains("socket"));
        Assert.Equal(("SCMP_CMP_NE", 40ul), (socket.Args![0].Op, socket.Args[0].Value));
    }

    [Fact]
    public void Default_CapabilitiesAdded_UnlockTheirSyscalls()
    {
        var caps = SpecBuilder.DefaultCapabilities.Concat(["CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH", "CAP_SYS_TIME"]).ToList();
        var profile = SeccompOptions.ForContainer(null, privileged: false, caps, s_amd64)!;

        var allowed = Allowed(profile);
        foreach (var name in new[] { "mount", "umount2", "unshare", "setns", "clone", "clone3", "fsopen", "kcmp", "process_vm_writev", "open_by_handle_at", "clock_settime" })
        {
            Assert.Contains(name, allowed);
        }

        Assert.DoesNotContain(profile.Syscalls!, s => s.Action == "SCMP_ACT_ERRNO");
        Assert.DoesNotContain(profile.Syscalls!, s => s.Names.Contains("clone") && s.Args is not null);
    }

    [Fact]
    public void Default_CapabilitiesDropped_LoseTheirSyscalls()
    {
        var profile = SeccompOptions.ForContainer(null, privileged: false, ["CAP_KILL"], s_amd64)!;

        Assert.DoesNotContain("chroot", Allowed(profile));
    }

    [Fact]
    public void Default_OtherArchitectureAndOldKernel_ArchRulesAndPtraceFollowTheHost()
    {
        var arm = SeccompOptions.ForContainer(null, false, SpecBuilder.DefaultCapabilities.ToList(), new SeccompHost("arm64", "SCMP_ARCH_AARCH64", new System.Version(4, 4)))!;

        Assert.Equal(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"], arm.Architectures);
        var allowed = Allowed(arm);
        Assert.Contains("set_tls", allowed);
        Assert.DoesNotContain("arch_prctl", allowed);
        Assert.DoesNotContain("ptrace", allowed);
    }

    [Theory]
    [InlineData("seccomp=unconfined", false)]
    [InlineData("seccomp:unconfined", false)]
    [InlineData(null, true)]
    public void ForContainer_UnconfinedOrPrivileged_NoProfile(string? option, bool privileged)
    {
        Assert.Null(SeccompOptions.ForContainer(option is null ? null : [option], privileged, SpecBuilder.DefaultCapabilities.ToList(), s_amd64));
    }

    [Fact]
    public void ForContainer_CustomDockerFormatProfile_ResolvedWithIncludes()
    {
        const string json = """
            {"defaultAction":"SCMP_ACT_ALLOW","archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86"]}],
             "syscalls":[{"name":"mkdir","action":"SCMP_ACT_ERRNO","errnoRet":13},
                         {"names":["chmod"],"action":"SCMP_ACT_ERRNO","includes":{"caps":["CAP_SYS_ADMIN"]}},
                         {"names":["fchmod"],"action":"SCMP_ACT_ERRNO","excludes":{"arches":["amd64"]}},
                         {"names":["uname"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"}],"comment":"why"}]}
            """;

        var profile = SeccompOptions.ForContainer(["seccomp=" + json], privileged: true, SpecBuilder.DefaultCapabilities.ToList(), s_amd64)!;

        Assert.Equal("SCMP_ACT_ALLOW", profile.DefaultAction);
        Assert.Equal(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], profile.Architectures);
        Assert.Equal(["mkdir", "uname"], profile.Syscalls!.SelectMany(s => s.Names));
        Assert.Equal(13u, profile.Syscalls![0].ErrnoRet);
    }

    [Theory]
    [InlineData("seccomp={")]
    [InlineData("seccomp=")]
    [InlineData("""seccomp={"defaultAction":"SCMP_ACT_NOPE"}""")]
    [InlineData("""seccomp={"defaultAction":"SCMP_ACT_ERRNO","defaultAction":"SCMP_ACT_ALLOW"}""")]
    [InlineData("""seccomp={"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ALLOW"}]}""")]
    [InlineData("""seccomp={"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}""")]
    [InlineData("""seccomp={"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":0,"op":"SCMP_CMP_EQ"}]}]}""")]
    public void ForContainer_BadProfile_InvalidArgument(string option)
    {
        var e = Assert.Throws<EngineException>(() => SeccompOptions.ForContainer([option], false, SpecBuilder.DefaultCapabilities.ToList(), s_amd64));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public void ForContainer_TwoSeccompOptions_InvalidArgument()
    {
        var e = Assert.Throws<EngineException>(() => SeccompOptions.ForContainer(["seccomp=unconfined", "seccomp:unconfined"], false, [], s_amd64));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public async Task Info_ReportsSeccompDefaultProfile()
    {
        await using var engine = await TestEngine.StartAsync();

        var info = await engine.Client.System.GetSystemInfoAsync(Ct);

        Assert.Contains("name=seccomp,profile=default", info.SecurityOptions);
        Assert.DoesNotContain(info.Warnings ?? [], w => w.Contains("seccomp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RealContainer_Default_FilterInstalledUserNamespaceRefusedWorkloadsRun()
    {
        await using var engine = await RealEngine.StartAsync();

        var (code, output) = await RunAsync(engine, new HostConfig(),
            "grep '^Seccomp:' /proc/self/status; unshare -U true || echo unshare-failed; echo hi > /tmp/i.html; httpd -p 127.0.0.1:8080 -h /tmp; sleep 0.2; wget -qO- http://127.0.0.1:8080/i.html");

        Assert.True(code == 0, code + ": " + output);
        Assert.Contains("Seccomp:\t2", output, StringComparison.Ordinal);
        Assert.Contains("Operation not permitted", output, StringComparison.Ordinal);
        Assert.Contains("unshare-failed", output, StringComparison.Ordinal);
        Assert.EndsWith("hi\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RealContainer_Unconfined_UserNamespaceAllowed()
    {
        await using var engine = await RealEngine.StartAsync();

        var (code, output) = await RunAsync(engine, new HostConfig { SecurityOpt = ["seccomp=unconfined"] }, "grep '^Seccomp:' /proc/self/status; unshare -U true && echo unshare-ok");

        Assert.True(code == 0, code + ": " + output);
        Assert.Contains("Seccomp:\t0", output, StringComparison.Ordinal);
        Assert.Contains("unshare-ok", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RealContainer_Privileged_NoFilter()
    {
        await using var engine = await RealEngine.StartAsync();

        var (code, output) = await RunAsync(engine, new HostConfig { Privileged = true }, "echo hi; grep '^Seccomp:' /proc/self/status; unshare -U true && echo unshare-ok");

        Assert.True(code == 0, code + ": " + output);
        Assert.Contains("Seccomp:\t0", output, StringComparison.Ordinal);
        Assert.Contains("unshare-ok", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RealContainer_CapSysAdminAdded_MountFamilyAllowed()
    {
        await using var engine = await RealEngine.StartAsync();

        var (code, output) = await RunAsync(engine, new HostConfig { CapAdd = ["SYS_ADMIN"] },
            "grep '^Seccomp:' /proc/self/status; mkdir /m && mount -t tmpfs none /m && echo mounted && umount /m && echo unmounted");

        Assert.True(code == 0, code + ": " + output);
        Assert.Contains("Seccomp:\t2", output, StringComparison.Ordinal);
        Assert.Contains("mounted\nunmounted", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RealContainer_CustomProfile_DeniesWithItsErrno()
    {
        await using var engine = await RealEngine.StartAsync();
        const string profile = """{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}""";

        var (code, output) = await RunAsync(engine, new HostConfig { SecurityOpt = ["seccomp=" + profile] }, "mkdir /x || echo mkdir-failed");

        Assert.True(code == 0, code + ": " + output);
        Assert.Contains("Permission denied", output, StringComparison.Ordinal);
        Assert.Contains("mkdir-failed", output, StringComparison.Ordinal);
    }

    private static async Task<(long Code, string Output)> RunAsync(RealEngine engine, HostConfig host, string script)
    {
        host.NetworkMode = "none";
        var c = await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "bb", Cmd = ["sh", "-c", "{ " + script + "; } 2>&1"], HostConfig = host }, Ct);
        await engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var wait = await engine.Client.Containers.WaitContainerAsync(c.ID, timeout.Token);
        using var logs = await engine.Client.Containers.GetContainerLogsAsync(c.ID, new ContainerLogsParameters { ShowStdout = true, ShowStderr = true }, Ct);
        var (stdout, stderr) = await logs.ReadOutputToEndAsync(Ct);
        var error = (await engine.Client.Containers.InspectContainerAsync(c.ID, Ct)).State!.Error;
        return (wait.StatusCode, stdout + stderr + error);
    }
}
