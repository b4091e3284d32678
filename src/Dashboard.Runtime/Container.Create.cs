using System.Text;
using System.Text.Json;
using Dashboard.Linux;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Cgroups;
using Dashboard.Runtime.Init;

namespace Dashboard.Runtime;

public sealed class CreateOptions
{
    public required string Id { get; init; }
    public required string Bundle { get; init; }
    public string? PidFile { get; init; }
    public string? ConsoleSocket { get; init; }
    public int PreserveFds { get; init; }
    public bool NoPivot { get; init; }
    public bool NoNewKeyring { get; init; }

    /// <summary>The host's cgroup layout and our own cgroups, when the caller read them ahead of need (the standby shim).</summary>
    public Cgroups.CgroupHost? CgroupHost { get; init; }

    /// <summary>Receives non-fatal warnings (cgroup settings the host cannot enforce, skipped seccomp names).</summary>
    public Action<string>? Warn { get; init; }
}

public sealed partial class Container
{
    private static readonly Dictionary<string, ulong> s_cloneFlags = new()
    {
        ["pid"] = CloneFlags.CLONE_NEWPID,
        ["network"] = CloneFlags.CLONE_NEWNET,
        ["mount"] = CloneFlags.CLONE_NEWNS,
        ["ipc"] = CloneFlags.CLONE_NEWIPC,
        ["uts"] = CloneFlags.CLONE_NEWUTS,
        ["user"] = CloneFlags.CLONE_NEWUSER,
        ["cgroup"] = CloneFlags.CLONE_NEWCGROUP,
        ["time"] = CloneFlags.CLONE_NEWTIME,
    };

    // Joined in the child before exec: the user namespace (first, so the rest are joined with its
    // privileges) and the time namespace (setns into it needs a single-threaded caller). The
    // mount namespace must wait until after exec, or the dynamic loader of our own binary would be
    // looked up in the container's root; init joins it and the others.
    private static readonly string[] s_childJoinOrder = ["user", "time"];

    internal static readonly string[] InitJoinOrder = ["mount", "uts", "ipc", "network", "cgroup"];

    private static readonly Dictionary<string, string> s_procNsNames = new()
    {
        ["user"] = "user", ["mount"] = "mnt", ["uts"] = "uts", ["ipc"] = "ipc", ["network"] = "net", ["cgroup"] = "cgroup", ["time"] = "time", ["pid"] = "pid",
    };

    /// <summary>Loads and parses &lt;bundle&gt;/config.json.</summary>
    public static Spec LoadBundleSpec(string bundle) => LoadBundle(bundle).Spec;

    /// <summary>Loads and parses &lt;bundle&gt;/config.json, returning its bytes too (create saves them as they were).</summary>
    private static (Spec Spec, byte[] Json) LoadBundle(string bundle)
    {
        var path = System.IO.Path.Combine(bundle, "config.json");
        var errno = Linux.Fs.SmallFiles.TryReadAllBytes(path, out var bytes);
        if (errno == Linux.Errno.ENOENT && Sys.TryStat(bundle, follow: true, out _))
        {
            throw RuntimeException.InvalidSpec($"JSON specification file {path} not found");
        }

        if (errno is Linux.Errno.ENOENT or Linux.Errno.ENOTDIR)
        {
            throw RuntimeException.InvalidSpec($"bundle {bundle} does not exist");
        }

        if (errno != 0)
        {
            throw new SyscallException("read", errno, path);
        }

        try
        {
            return (RuntimeJson.ParseSpec(bytes), bytes);
        }
        catch (JsonException e)
        {
            throw RuntimeException.InvalidSpec($"config.json: {e.Message}");
        }
    }

    /// <summary>
    /// runtime.md "create": sets up the container and leaves its init waiting on the exec fifo.
    /// Returns the container and a pidfd of its init (the caller closes it, or waits on it for <c>run</c>).
    /// On failure nothing is left behind: no process, cgroup, mount or state directory.
    /// </summary>
    public static (Container Container, int InitPidfd) Create(StateStore store, CreateOptions options)
    {
        PhaseTimer.Mark("create: begin");
        ContainerId.Validate(options.Id);
        var cgroupHost = options.CgroupHost ?? CgroupHost.Current();
        PhaseTimer.Mark("create: cgroup host read");
        var primer = CgroupMigrationPrimer.Start(cgroupHost);
        PhaseTimer.Mark("create: cgroup host read, primer started");
        var bundle = System.IO.Path.GetFullPath(options.Bundle);
        var (spec, specJson) = LoadBundle(bundle);
        var rootfs = SpecValidator.Validate(spec, bundle);
        if (spec.Linux?.Seccomp is { } seccomp)
        {
            foreach (var warning in Seccomp.SeccompCompiler.Compile(seccomp).Warnings)
            {
                options.Warn?.Invoke(warning);
            }
        }

        PhaseTimer.Mark("create: spec loaded and validated");
        store.Reserve(options.Id);
        ICgroupManager? cgroup = null;
        ClonedChild? child = null;
        var fds = new List<int>();
        try
        {
            var manager = CgroupManagerFactory.Create(options.Id, spec.Linux?.CgroupsPath, cgroupHost);
            var resources = spec.Linux?.Resources ?? new Resources();
            resources.Devices = CgroupDeviceRules.Effective(spec.Linux);
            void CreateCgroup()
            {
                IReadOnlyList<string> warnings;

                // Recorded first, so that a failure part-way (a limit the kernel refuses) removes what was made.
                cgroup = manager;
                try
                {
                    warnings = manager.Create(resources);
                }
                catch (CgroupException e) when (e.Kind == CgroupErrorKind.InvalidState)
                {
                    // The cgroup holds processes that are not ours (another container given the same
                    // cgroupsPath): the clean-up below must neither kill them nor remove their cgroup.
                    cgroup = null;
                    throw RuntimeException.Wrap("create container", e);
                }

                foreach (var warning in warnings)
                {
                    options.Warn?.Invoke(warning);
                }

                PhaseTimer.Mark("create: cgroup created");
            }

            // A pure cgroup2 host clones init straight into its cgroup, which must exist by then. On v1 and hybrid
            // hosts init joins its hierarchies through cgroup.procs anyway, so they are made after the clone, while
            // init sets up its mounts (it waits for them before it mounts cgroupfs): ~1 ms off the critical path.
            var createAfterClone = manager.Layout != CgroupLayout.Unified;
            if (!createAfterClone)
            {
                CreateCgroup();
            }

            var fifoPath = store.FifoPath(options.Id);
            var oldUmask = Sys.Umask(0);
            try
            {
                Sys.Mkfifo(fifoPath, 0x192 /* 0622 */);
            }
            finally
            {
                Sys.Umask(oldUmask);
            }

            var fifo = Sys.Open(fifoPath, OpenFlags.O_PATH);
            fds.Add(fifo);
            var mountFds = Init.IdmappedMounts.Prepare(spec);
            fds.AddRange(mountFds.Values);

            var namespaces = spec.Linux?.Namespaces ?? [];
            var newNs = namespaces.Where(n => string.IsNullOrEmpty(n.Path)).Select(n => n.Type).ToHashSet();
            var launch = new Launch
            {
                Namespaces = namespaces,
                // The cgroup and time namespaces are unshared by init: after joining the cgroup, and so timens offsets can still be written.
                CloneFlags = newNs.Where(t => t is not ("cgroup" or "time")).Aggregate(0UL, (f, t) => f | s_cloneFlags[t]),
                ExtraFds = [fifo, .. mountFds.Values],
                ConsoleSocket = options.ConsoleSocket,
                Cgroup = manager,
                CreateCgroup = createAfterClone ? CreateCgroup : null,
                UidMappings = spec.Linux?.UidMappings,
                GidMappings = spec.Linux?.GidMappings,
            };
            PhaseTimer.Mark("create: fifo made");
            primer?.Wait();
            PhaseTimer.Mark("create: launching init");
            var (clone, sync) = launch.Start(l => new InitConfig
            {
                Mode = "create",
                Id = options.Id,
                Bundle = bundle,
                Rootfs = rootfs,
                Spec = spec,
                NoPivot = options.NoPivot,
                NoNewKeyring = options.NoNewKeyring,
                PreserveFds = options.PreserveFds,
                ConsoleSocketFd = l.ConsoleFd,
                FifoFd = fifo,
                NewCgroupNamespace = newNs.Contains("cgroup"),
                NewTimeNamespace = newNs.Contains("time"),
                UserNamespace = namespaces.Any(n => n.Type == "user"),
                CgroupPaths = manager.Paths.ToDictionary(p => p.Key, p => p.Value),
                ParentHooks = spec.Hooks?.Prestart is { Count: > 0 } || spec.Hooks?.CreateRuntime is { Count: > 0 },
                JoinNamespaces = l.InitJoins,
                MountFds = mountFds,
                NoOpenat2 = RootfsSetup.Openat2DisabledByEnvironment(),
                NoMountSetattr = RootfsSetup.MountSetattrDisabledByEnvironment(),
            });
            child = clone;
            fds.Add(sync);
            PhaseTimer.Mark("create: init released");

            // Written while init sets up its mounts: only later verbs read them. The state that lets them
            // find this container is staged here and published (renamed into place) once init is ready.
            store.SaveConfig(options.Id, specJson);
            var record = new ContainerRecord
            {
                Id = options.Id,
                Bundle = bundle,
                Rootfs = rootfs,
                Pid = child.Pid,
                PidStartTime = ProcFs.StartTime(child.Pid),
                Created = DateTimeOffset.UtcNow,
                CgroupsPath = manager.CgroupPath,
                CgroupPaths = manager.Paths.ToDictionary(p => p.Key, p => p.Value),
                Owner = Sys.Geteuid() == 0 ? "root" : Environment.UserName,
            };
            store.Stage(record);
            PhaseTimer.Mark("create: config saved, state staged");
            while (true)
            {
                var message = InitChannel.Receive(sync) ?? throw new RuntimeException(ErrorKind.Internal, "container init exited before it was ready");
                if (message.Type == "error")
                {
                    throw new RuntimeException(ErrorKind.Internal, message.Message ?? "container init failed");
                }

                if (message.Type == "ready")
                {
                    break;
                }

                if (message.Type == "seccomp")
                {
                    var state = new State { Id = options.Id, Pid = child.Pid, Bundle = bundle, Status = ContainerStatus.Creating.ToSpecString(), Annotations = spec.Annotations };
                    Seccomp.SeccompListener.Forward(sync, spec.Linux?.Seccomp, state);
                    continue;
                }

                if (message.Type == "hooks")
                {
                    var state = new State { Id = options.Id, Pid = child.Pid, Bundle = bundle, Status = ContainerStatus.Creating.ToSpecString(), Annotations = spec.Annotations };
                    HookRunner.Run(spec.Hooks?.Prestart, state, "prestart");
                    HookRunner.Run(spec.Hooks?.CreateRuntime, state, "createRuntime");
                    InitChannel.Send(sync, new InitMessage { Type = "hooks-done" });
                }
            }

            PhaseTimer.Mark("create: init ready");
            store.Publish(options.Id);
            if (options.PidFile is { } pidFile)
            {
                WritePidFile(pidFile, child.Pid);
            }

            PhaseTimer.Mark("create: state saved");
            var pidfd = child.PidFd;
            child = null;
            // The manager made here already knows the paths: a later verb of this process need not read mountinfo again.
            return (new Container(store, record, spec) { _cgroup = manager }, pidfd);
        }
        catch (Exception e)
        {
            child?.Abort();
            child?.Dispose();
            TryDestroyCgroup(cgroup);
            try
            {
                store.Remove(options.Id);
            }
            catch (IOException)
            {
            }

            throw e is RuntimeException ? e : RuntimeException.Wrap("create container", e);
        }
        finally
        {
            foreach (var fd in fds)
            {
                Sys.Close(fd);
            }
        }
    }

    private static void TryDestroyCgroup(ICgroupManager? cgroup)
    {
        if (cgroup is null)
        {
            return;
        }

        try
        {
            cgroup.Kill();
            cgroup.Destroy();
        }
        catch (Exception)
        {
            // Best effort: the primary error is what the caller needs to see.
        }
    }

    internal static void WritePidFile(string path, int pid)
    {
        var full = System.IO.Path.GetFullPath(path);
        var tmp = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full)!, "." + System.IO.Path.GetFileName(full) + ".tmp");
        File.WriteAllText(tmp, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        File.Move(tmp, full, overwrite: true);
    }

    /// <summary>How to start an init stage: which namespaces to create or join, which fds to pass, which cgroup to enter.</summary>
    private sealed class Launch
    {
        public IReadOnlyList<Namespace> Namespaces { get; init; } = [];

        public ulong CloneFlags { get; init; }

        public List<int> ExtraFds { get; init; } = [];

        public string? ConsoleSocket { get; init; }

        public ICgroupManager? Cgroup { get; init; }

        /// <summary>Makes <see cref="Cgroup"/> once init is cloned (v1 and hybrid hosts); null when it exists already.</summary>
        public Action? CreateCgroup { get; init; }

        /// <summary>Sub-cgroups to join instead of the container's cgroup (exec --cgroup).</summary>
        public IReadOnlyDictionary<string, string>? Subgroups { get; init; }

        public IReadOnlyList<IdMapping>? UidMappings { get; init; }

        public IReadOnlyList<IdMapping>? GidMappings { get; init; }

        /// <summary>Namespaces to join by path (create) or the container's own (exec); "pid" is joined by the parent thread.</summary>
        public Dictionary<string, string> JoinPaths { get; init; } = [];

        public int ConsoleFd { get; private set; } = -1;

        /// <summary>Namespace fds (by type) that init joins after exec; valid in init under the same numbers.</summary>
        public Dictionary<string, int> InitJoins { get; } = [];

        /// <summary>
        /// Clones the init stage and hands it its configuration (built by <paramref name="buildConfig"/>
        /// once the console and namespace fds are known). Where our executable is protected and the
        /// process quiescent, the init runs in the clone child itself and already holds the
        /// configuration; otherwise the child re-executes a sealed copy of the runtime, which gets it
        /// over the sync socket. Either way the returned socket then carries the init's messages.
        /// </summary>
        public (ClonedChild Child, int Sync) Start(Func<Launch, InitConfig> buildConfig)
        {
            var fds = new List<int>();
            int parentSync = -1, childSync = -1;
            var memfd = -1;
            var restorePidNs = -1;
            try
            {
                (parentSync, childSync) = Sys.SocketPair(Sys.SOCK_STREAM);
                if (ConsoleSocket is not null)
                {
                    ConsoleFd = UnixSocket.Connect(ConsoleSocket);
                }

                var joins = new Dictionary<string, string>(JoinPaths);
                foreach (var ns in Namespaces.Where(n => !string.IsNullOrEmpty(n.Path)))
                {
                    joins[ns.Type] = ns.Path!;
                }

                var joinFds = new List<int>();
                foreach (var type in s_childJoinOrder)
                {
                    if (joins.TryGetValue(type, out var path))
                    {
                        var fd = Sys.Open(path, OpenFlags.O_RDONLY);
                        fds.Add(fd);
                        joinFds.Add(fd);
                    }
                }

                foreach (var type in InitJoinOrder)
                {
                    if (joins.TryGetValue(type, out var path))
                    {
                        var fd = Sys.Open(path, OpenFlags.O_RDONLY);
                        fds.Add(fd);
                        InitJoins[type] = fd;
                    }
                }

                // setns into a pid namespace only affects children, so the parent's thread joins it
                // for the clone, then returns to its own.
                if (joins.TryGetValue("pid", out var pidPath))
                {
                    restorePidNs = Sys.Open("/proc/thread-self/ns/pid_for_children", OpenFlags.O_RDONLY);
                    var target = Sys.Open(pidPath, OpenFlags.O_RDONLY);
                    try
                    {
                        Sys.Setns(target, Linux.Native.CloneFlags.CLONE_NEWPID, pidPath);
                    }
                    finally
                    {
                        Sys.Close(target);
                    }
                }

                var inherit = new List<int> { childSync };
                inherit.AddRange(ExtraFds);
                inherit.AddRange(InitJoins.Values);
                if (ConsoleFd >= 0)
                {
                    inherit.Add(ConsoleFd);
                }

                var config = buildConfig(this);
                var inProcess = InitMode.InProcess();
                if (!inProcess)
                {
                    memfd = ExeSeal.CreateSealedCopy();
                    PhaseTimer.Mark("create: sealed copy made");
                }

                var initSync = childSync;
                var cgroupFd = Subgroups is { Count: > 0 } || CreateCgroup is not null ? -1 : Cgroup?.OpenCloneTarget() ?? -1;
                if (cgroupFd >= 0)
                {
                    fds.Add(cgroupFd);
                }

                var request = new CloneExecRequest
                {
                    Flags = CloneFlags,
                    CgroupFd = cgroupFd,
                    InProcess = inProcess ? () => ContainerInit.RunInProcess(initSync, config) : null,
                    ExecFd = memfd,
                    Argv = ["dashboard-runtime", "init"],
                    Envp = PhaseTimer.Enabled
                        ? [$"{ContainerInit.SyncFdVariable}={childSync}", "DOTNET_EnableDiagnostics=0", "DOTNET_GCgen0size=0x400000", PhaseTimer.Variable + "=1"]
                        : [$"{ContainerInit.SyncFdVariable}={childSync}", "DOTNET_EnableDiagnostics=0", "DOTNET_GCgen0size=0x400000"],
                    JoinNamespaceFds = joinFds,
                    InheritFds = inherit,
                    BecomeNamespaceRoot = joins.ContainsKey("user") || (CloneFlags & Linux.Native.CloneFlags.CLONE_NEWUSER) != 0,
                };

                ClonedChild child;
                PhaseTimer.Mark("create: cloning");
                try
                {
                    child = CloneExec.Start(request);
                }
                catch (SyscallException) when (cgroupFd >= 0)
                {
                    // The kernel refuses CLONE_INTO_CGROUP where a cgroup.procs write may still work or give the
                    // clearer error (before Linux 5.7; a threaded or domain-invalid cgroup): clone plainly, join after.
                    cgroupFd = -1;
                    child = CloneExec.Start(request with { CgroupFd = -1 });
                }

                try
                {
                    if (UidMappings is { Count: > 0 })
                    {
                        ProcFs.Write($"/proc/{child.Pid}/uid_map", FormatMappings(UidMappings));
                    }

                    if (GidMappings is { Count: > 0 })
                    {
                        ProcFs.Write($"/proc/{child.Pid}/gid_map", FormatMappings(GidMappings));
                    }

                    // The child runs its mount setup while this thread makes its cgroups (v1 and hybrid
                    // hosts) and moves it into them: a cgroup migration waits for an RCU grace period
                    // (cgroup_threadgroup_rwsem, several ms), which so overlaps with init's work instead
                    // of preceding it (init waits for the join before it mounts cgroupfs). The
                    // pid frame sent after the join tells init it is in place; init waits for it
                    // before anything that must happen inside the cgroups (unsharing the cgroup
                    // namespace, hooks, the handshake, exec).
                    child.Release();
                    if (!inProcess)
                    {
                        config.HostPid = child.Pid;
                        InitChannel.Send(parentSync, new InitMessage { Type = "config", Config = config });
                    }

                    try
                    {
                        CreateCgroup?.Invoke();
                        if (Subgroups is { Count: > 0 })
                        {
                            Cgroup?.JoinSubgroups(child.Pid, Subgroups);
                        }
                        else
                        {
                            Cgroup?.Join(child.Pid, unifiedJoined: cgroupFd >= 0);
                        }

                        InitChannel.SendPid(parentSync, child.Pid);
                    }
                    catch (Exception) when (Sys.PollOne(child.PidFd, Sys.POLLIN, 0) != 0)
                    {
                        // Init already failed (and exited): the caller reads its error message from the
                        // socket, which says more than the failed join or write.
                    }
                }
                catch
                {
                    child.Abort();
                    child.Dispose();
                    throw;
                }

                var sync = parentSync;
                parentSync = -1;
                return (child, sync);
            }
            finally
            {
                if (restorePidNs >= 0)
                {
                    Sys.Setns(restorePidNs, Linux.Native.CloneFlags.CLONE_NEWPID);
                    Sys.Close(restorePidNs);
                }

                foreach (var fd in fds)
                {
                    Sys.Close(fd);
                }

                Sys.Close(childSync);
                Sys.Close(parentSync);
                Sys.Close(memfd);
                Sys.Close(ConsoleFd);
            }
        }

        private static string FormatMappings(IReadOnlyList<IdMapping> mappings)
        {
            var text = new StringBuilder();
            foreach (var m in mappings)
            {
                text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{m.ContainerId} {m.HostId} {m.Size}\n");
            }

            return text.ToString();
        }
    }
}
