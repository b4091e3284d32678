using System.Text;
using Dashboard.Linux;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Init;

/// <summary>
/// The in-container stage (<c>dashboard-runtime init</c>), run from a sealed memfd copy of the
/// runtime inside the container's new namespaces. It is non-dumpable from its first instruction
/// (CVE-2016-9962) and talks to the runtime only over the inherited sync socket.
/// </summary>
public static class ContainerInit
{
    public const string SyncFdVariable = "_DASHBOARD_SYNC_FD";

    /// <summary>
    /// Annotation asking for an init process (Docker's <c>--init</c>): with "true", the in-container
    /// stage stays PID 1, runs process.args as its child, forwards signals to it, reaps orphans and
    /// exits with the child's status (<see cref="InitReaper"/>).
    /// </summary>
    public const string InitAnnotation = "run.dashboard.init";

    /// <summary>Entry point of the re-executed init; only returns on failure (the error has been sent to the runtime).</summary>
    public static int Main()
    {
        Sys.Prctl(PrctlOptions.PR_SET_DUMPABLE, 0);
        PhaseTimer.Mark("init: main");
        if (!int.TryParse(Environment.GetEnvironmentVariable(SyncFdVariable), out var sync) || sync < 3)
        {
            Console.Error.WriteLine("init: not started by the runtime");
            return 1;
        }

        return Run(sync, () => InitChannel.Receive(sync)?.Config ?? throw new RuntimeException(ErrorKind.Internal, "init: no config received"));
    }

    /// <summary>
    /// Waits until the runtime has moved this process into the container's cgroups (it sends the
    /// host pid once done, see Container.Launch.Start). Idempotent.
    /// </summary>
    private static void WaitForCgroups(int sync, InitConfig config)
    {
        if (s_inCgroups)
        {
            return;
        }

        config.HostPid = InitChannel.ReceivePid(sync);
        s_inCgroups = true;
        PhaseTimer.Mark("init: in cgroups");
    }

    private static bool s_inCgroups;

    /// <summary>
    /// Entry point of init in the clone child itself (no re-exec): the configuration is already in
    /// memory, only the host pid is read from the runtime. Only returns on failure.
    /// </summary>
    public static int RunInProcess(int sync, InitConfig config)
    {
        Sys.Prctl(PrctlOptions.PR_SET_DUMPABLE, 0);
        PhaseTimer.Mark("init: in-process");
        return Run(sync, () =>
        {
            CloseInheritedExcept(sync, config);
            return config;
        });
    }

    private static int Run(int sync, Func<InitConfig> receive)
    {
        try
        {
            var config = receive();
            PhaseTimer.Mark("init: config received");
            JoinNamespaces(config);
            JoinSessionKeyring(config);
            if (config.Mode == "exec")
            {
                RunExec(sync, config);
            }
            else
            {
                RunCreate(sync, config);
            }
        }
        catch (Exception e)
        {
            try
            {
                InitChannel.Send(sync, new InitMessage { Type = "error", Message = e.Message });
            }
            catch (SyscallException)
            {
                // The runtime is gone; nothing else to tell.
            }
        }

        return 1;
    }

    /// <summary>
    /// Gives the container its own session keyring, "_ses.&lt;id&gt;" (an exec joins the same one), so
    /// it does not share the runtime caller's keys (runc does the same unless --no-new-keyring).
    /// Best effort as in runc: where keyrings are compiled out or filtered the call fails with ENOSYS.
    /// </summary>
    private static void JoinSessionKeyring(InitConfig config)
    {
        if (config.NoNewKeyring)
        {
            return;
        }

        var result = Sys.JoinSessionKeyring("_ses." + config.Id);
        if (result < 0 && result != -Errno.ENOSYS)
        {
            throw new SyscallException("keyctl join session keyring", (int)-result, "_ses." + config.Id);
        }
    }

    /// <summary>
    /// A clone child starts with every fd of the runtime (a shim's log files and control socket
    /// among them); it keeps only what init uses, as an exec'd init would.
    /// </summary>
    private static void CloseInheritedExcept(int sync, InitConfig config)
    {
        // close_range over the gaps: listing /proc/self/fd here cost a stat pair per fd in the clone child.
        FdRange.CloseFromExcept(3 + config.PreserveFds, [sync, config.FifoFd, config.ConsoleSocketFd, .. config.JoinNamespaces.Values, .. config.MountFds.Values]);
    }

    /// <summary>
    /// Joins namespaces by fd on the main thread. setns(CLONE_NEWNS) refuses a caller that shares
    /// its filesystem context with other threads, so that context is unshared first.
    /// </summary>
    private static void JoinNamespaces(InitConfig config)
    {
        if (config.JoinNamespaces.Count == 0)
        {
            return;
        }

        Sys.Unshare(CloneFlags.CLONE_FS);
        foreach (var type in Container.InitJoinOrder)
        {
            if (config.JoinNamespaces.TryGetValue(type, out var fd))
            {
                Sys.Setns(fd, 0, type);
                Sys.Close(fd);
            }
        }
    }

    private static void RunCreate(int sync, InitConfig config)
    {
        var spec = config.Spec;
        var process = spec.Process;
        Sys.Umask(0);
        Loopback.UpInNewNetworkNamespace(spec);
        // The cgroup namespace's root is the cgroup init is in when it unshares, so it waits for the
        // runtime's join. Only a fresh cgroup2 mount (pure v2 host) depends on the namespace; on v1
        // and hybrid hosts the mounts are binds of host paths, and unsharing after them lets the
        // join overlap the mount work.
        var cgroupNsFirst = config.NewCgroupNamespace && config.CgroupPaths.Keys.All(k => k.Length == 0);
        if (cgroupNsFirst)
        {
            WaitForCgroups(sync, config);
            Sys.Unshare(CloneFlags.CLONE_NEWCGROUP);
        }

        if (config.NewTimeNamespace)
        {
            Sys.Unshare(CloneFlags.CLONE_NEWTIME);
            foreach (var (clock, offset) in spec.Linux?.TimeOffsets ?? [])
            {
                ProcFs.Write("/proc/self/timens_offsets", $"{clock} {offset.Secs} {offset.Nanosecs}");
            }
        }

        // The runtime may still be making the cgroups while the other mounts are set up (v1 and hybrid hosts).
        var rootfs = new RootfsSetup(config) { BeforeCgroupMount = () => WaitForCgroups(sync, config) };
        rootfs.PrepareRoot();
        rootfs.MountAll();
        PhaseTimer.Mark("init: mounts done");
        if (config.NewCgroupNamespace && !cgroupNsFirst)
        {
            WaitForCgroups(sync, config);
            Sys.Unshare(CloneFlags.CLONE_NEWCGROUP);
        }

        if (config.ParentHooks || spec.Hooks?.CreateContainer is { Count: > 0 })
        {
            WaitForCgroups(sync, config);
        }

        if (config.ParentHooks)
        {
            InitChannel.Send(sync, new InitMessage { Type = "hooks" });
            var reply = InitChannel.Receive(sync);
            if (reply?.Type != "hooks-done")
            {
                throw new RuntimeException(ErrorKind.Internal, reply?.Message ?? "runtime went away during hooks");
            }
        }

        HookRunner.Run(spec.Hooks?.CreateContainer, HookState(config, ContainerStatus.Creating), "createContainer");
        rootfs.SwitchRoot();
        if (process?.Terminal == true)
        {
            SetupConsole(config, process, bindDevConsole: true);
        }

        rootfs.Finish();
        if (!string.IsNullOrEmpty(spec.Hostname))
        {
            Sys.SetHostname(spec.Hostname);
        }

        if (!string.IsNullOrEmpty(spec.Domainname))
        {
            Sys.SetDomainname(spec.Domainname);
        }

        if (spec.Linux?.Personality is { } personality)
        {
            Sys.Personality(personality.Domain == "LINUX32" ? 0x0008UL : 0UL);
        }

        if (process is null)
        {
            throw RuntimeException.InvalidSpec("config.json has no process to run");
        }

        ProcessSetup.ApplyRlimits(process);
        ProcessSetup.ApplyOomScoreAdj(process);
        ProcessSetup.ChangeDirectory(process.Cwd);
        var executable = ProcessSetup.ResolveExecutable(process);

        // The exec fifo is reopened through our own procfs: the container's, so nothing of the host is held open across the wait.
        var fifoPath = $"/proc/self/fd/{config.FifoFd}";
        var probe = Sys.Open("/proc/self", OpenFlags.O_PATH | OpenFlags.O_DIRECTORY);
        try
        {
            if (Sys.FsType(probe, "/proc") != FsMagic.PROC_SUPER_MAGIC)
            {
                throw RuntimeException.InvalidSpec("the container has no procfs at /proc, which the create/start handshake needs");
            }
        }
        finally
        {
            Sys.Close(probe);
        }

        WaitForCgroups(sync, config);
        var filter = ProcessSetup.PrepareSeccomp(spec.Linux?.Seccomp, sync);
        PhaseTimer.Mark("init: ready");
        InitChannel.Send(sync, new InitMessage { Type = "ready" });
        Sys.Close(sync);

        var fifo = Sys.Open(fifoPath, OpenFlags.O_WRONLY);
        Sys.WriteAll(fifo, "0"u8, "exec fifo");
        Sys.Close(fifo);
        Sys.Close(config.FifoFd);

        PhaseTimer.Mark("init: started");
        HookRunner.Run(spec.Hooks?.StartContainer, HookState(config, ContainerStatus.Running), "startContainer");
        var asInit = spec.Annotations is { } annotations && annotations.TryGetValue(InitAnnotation, out var init) && init == "true";
        ProcessSetup.FinalizeAndExec(process, filter, executable, config.PreserveFds, config.UserNamespace, asInit);
    }

    private static void RunExec(int sync, InitConfig config)
    {
        var process = config.Spec.Process ?? throw RuntimeException.InvalidSpec("exec: no process given");
        WaitForCgroups(sync, config);
        if (process.Terminal)
        {
            SetupConsole(config, process, bindDevConsole: false);
        }

        ProcessSetup.ApplyRlimits(process);
        ProcessSetup.ApplyOomScoreAdj(process);
        ProcessSetup.ChangeDirectory(process.Cwd);
        var executable = ProcessSetup.ResolveExecutable(process);
        var filter = ProcessSetup.PrepareSeccomp(config.Spec.Linux?.Seccomp, sync);
        ProcessSetup.FinalizeAndExec(process, filter, executable, config.PreserveFds, config.UserNamespace);
    }

    /// <summary>Creates the pty in the container's devpts and hands its master to the console socket (runc's protocol).</summary>
    private static void SetupConsole(InitConfig config, Oci.Runtime.Process process, bool bindDevConsole)
    {
        if (config.ConsoleSocketFd < 0)
        {
            throw new RuntimeException(ErrorKind.InvalidArgument, "process.terminal is true but no --console-socket was given");
        }

        var (master, peer, number) = Terminal.OpenPty("/dev/ptmx");
        try
        {
            if (process.ConsoleSize is { } size)
            {
                Terminal.SetWindowSize(master, (ushort)size.Height, (ushort)size.Width);
            }

            UnixSocket.SendFd(config.ConsoleSocketFd, master, Encoding.UTF8.GetBytes($"/dev/pts/{number}"));
        }
        finally
        {
            Sys.Close(master);
            Sys.Close(config.ConsoleSocketFd);
        }

        if (bindDevConsole)
        {
            var console = Sys.TryOpen("/dev/console", OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW);
            if (console < 0)
            {
                Sys.Close(Sys.Open("/dev/console", OpenFlags.O_CREAT | OpenFlags.O_RDONLY | OpenFlags.O_NOFOLLOW | OpenFlags.O_EXCL, 0x1A4));
                console = Sys.Open("/dev/console", OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW);
            }

            try
            {
                Sys.Mount($"/proc/thread-self/fd/{peer}", $"/proc/thread-self/fd/{console}", null, MountFlags.MS_BIND, null, "/dev/console");
            }
            finally
            {
                Sys.Close(console);
            }
        }

        Sys.Setsid();
        Terminal.SetControllingTerminal(peer);
        for (var fd = 0; fd < 3; fd++)
        {
            Sys.Dup3(peer, fd, cloexec: false);
        }

        Sys.Close(peer);
    }

    private static State HookState(InitConfig config, ContainerStatus status) => new()
    {
        Id = config.Id,
        Pid = config.HostPid,
        Bundle = config.Bundle,
        Status = status.ToSpecString(),
        Annotations = config.Spec.Annotations,
    };
}
