using System.Diagnostics;
using System.Globalization;
using Dashboard.Linux;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Cgroups;

/// <summary>What both drivers do the same way: paths, join, process listing, kill, destroy.</summary>
internal abstract class CgroupManagerBase : ICgroupManager
{
    private static readonly TimeSpan s_killTimeout = TimeSpan.FromSeconds(10);

    protected CgroupManagerBase(CgroupHost host, string cgroupPath)
    {
        Host = host;
        Fs = host.Fs;
        CgroupPath = cgroupPath;
    }

    public abstract CgroupLayout Layout { get; }

    public string CgroupPath { get; }

    public abstract IReadOnlyDictionary<string, string> Paths { get; }

    public bool Exists => Directories.Any(Fs.Exists);

    protected CgroupHost Host { get; }

    internal CgroupFs Fs { get; }

    /// <summary>Each cgroup directory once (co-mounted controllers share one).</summary>
    protected IReadOnlyList<string> Directories => [.. Paths.Values.Distinct()];

    /// <summary>The cgroup2 directory, if this host has a cgroup2 mount.</summary>
    protected string? UnifiedDirectory => Paths.TryGetValue("", out var d) ? d : null;

    public IReadOnlyList<string> Create(Resources? resources)
    {
        // A leftover cgroup that still holds processes (a crashed runtime, a reused id) would make them part
        // of the new container: its limits, its kill, its delete (runc refuses this too).
        var leftovers = GetPids();
        if (leftovers.Count > 0)
        {
            throw new CgroupException(CgroupErrorKind.InvalidState, $"cgroup {CgroupPath} is not empty: {leftovers.Count} process(es) found");
        }

        return CreateDirectories(resources);
    }

    protected abstract IReadOnlyList<string> CreateDirectories(Resources? resources);

    public abstract IReadOnlyList<string> Update(Resources resources);

    public abstract void Freeze();

    public abstract void Thaw();

    public abstract FreezerState GetFreezerState();

    public abstract CgroupStats GetStats();

    public abstract ulong GetOomKillCount();

    public abstract IOomWatcher WatchOom();

    public void Join(int pid) => Join(pid, unifiedJoined: false);

    public void Join(int pid, bool unifiedJoined)
    {
        var text = pid.ToString(CultureInfo.InvariantCulture);
        var unified = unifiedJoined ? UnifiedDirectory : null;
        foreach (var dir in Directories)
        {
            if (dir == unified)
            {
                continue;
            }

            var file = dir + "/cgroup.procs";
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    Fs.Write(file, text);
                    break;
                }
                catch (CgroupException e) when (attempt < 5 && e.InnerException is SyscallException { Errno: Errno.EINVAL })
                {
                    // EINVAL can mean the task is still TASK_NEW (just cloned): the kernel accepts it moments later.
                    Thread.Sleep(30);
                }
            }
        }
    }

    public int OpenCloneTarget() =>
        UnifiedDirectory is { } dir && Fs.Root.Length == 0 ? Sys.TryOpen(Fs.Map(dir), OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY) : -1;

    public void JoinSubgroups(int pid, IReadOnlyDictionary<string, string> subgroups)
    {
        foreach (var (controller, sub) in subgroups)
        {
            CgroupSubgroup.Validate(sub);
            if (controller.Length > 0 && Layout == CgroupLayout.Unified)
            {
                throw new CgroupException(CgroupErrorKind.InvalidSpec, $"sub-cgroup {controller}:{sub}: cgroup v2 has no controller-specific paths");
            }

            if (controller.Length > 0 && !Paths.ContainsKey(controller))
            {
                throw new CgroupException(CgroupErrorKind.InvalidSpec, $"sub-cgroup {controller}:{sub}: no such controller on this host");
            }
        }

        var text = pid.ToString(CultureInfo.InvariantCulture);
        foreach (var dir in Directories)
        {
            var controllers = Paths.Where(p => p.Value == dir).Select(p => p.Key).ToList();
            var named = controllers.Where(subgroups.ContainsKey).Select(c => subgroups[c]).Distinct().ToList();
            if (named.Count > 1)
            {
                throw new CgroupException(CgroupErrorKind.InvalidSpec, $"sub-cgroups {string.Join(", ", named)} name the same hierarchy ({string.Join(",", controllers)})");
            }

            var sub = named.Count == 1 ? named[0] : subgroups.GetValueOrDefault("");
            var target = sub is null ? dir : dir + "/" + sub;
            if (sub is not null && !Fs.Exists(target + "/cgroup.procs"))
            {
                throw new CgroupException(CgroupErrorKind.InvalidSpec, $"sub-cgroup {sub} of {CgroupPath} does not exist in {string.Join(",", controllers.Select(c => c.Length == 0 ? "cgroup2" : c))}");
            }

            Fs.Write(target + "/cgroup.procs", text);
        }
    }

    public IReadOnlyList<int> GetPids()
    {
        var pids = new SortedSet<int>();
        foreach (var dir in Directories)
        {
            // Only a directory that exists can hold processes: a stat each, where reading a missing cgroup.procs
            // costs a failed open and an exception (every hierarchy on each create, which checks for leftovers).
            if (Fs.Exists(dir))
            {
                CollectPids(dir, pids);
            }
        }

        return [.. pids];
    }

    public void Kill()
    {
        var unified = UnifiedDirectory;
        if (unified is not null && Fs.Exists(unified + "/cgroup.kill"))
        {
            // cgroup.kill (Linux 5.14) kills the whole subtree atomically, so a fork bomb cannot outrun it (security.md A13).
            Fs.Write(unified + "/cgroup.kill", "1");
        }

        var watch = Stopwatch.StartNew();
        for (var round = 0; ; round++)
        {
            var pids = GetPids();
            if (pids.Count == 0)
            {
                return;
            }

            if (watch.Elapsed > s_killTimeout)
            {
                throw new CgroupException(CgroupErrorKind.InvalidState, $"kill cgroup {CgroupPath}: {pids.Count} processes still present after {s_killTimeout.TotalSeconds:0} s");
            }

            if (round > 0)
            {
                // Freezing first stops the survivors from forking while they are signalled.
                TryFreezeQuick();
                foreach (var pid in pids)
                {
                    CgroupSyscalls.Kill(pid, CgroupSyscalls.SIGKILL);
                }

                // A frozen task does not act on SIGKILL until it is thawed.
                TryThawQuick();
            }

            Thread.Sleep(round == 0 ? 1 : 10);
        }
    }

    public void Signal(int signal)
    {
        // Frozen, the processes cannot fork new ones between the listing and the signal; a paused container stays paused.
        var wasFrozen = GetFreezerState() == FreezerState.Frozen;
        if (!wasFrozen)
        {
            TryFreezeQuick();
        }

        try
        {
            foreach (var pid in GetPids())
            {
                CgroupSyscalls.Kill(pid, signal);
            }
        }
        finally
        {
            if (!wasFrozen)
            {
                TryThawQuick();
            }
        }
    }

    public void Destroy()
    {
        var failures = new List<string>();
        foreach (var dir in Directories)
        {
            try
            {
                RemovePath(dir);
            }
            catch (CgroupException e)
            {
                failures.Add(e.Message);
            }
        }

        if (failures.Count > 0)
        {
            throw new CgroupException(CgroupErrorKind.Io, $"remove cgroup {CgroupPath}: {string.Join("; ", failures)}");
        }
    }

    public bool TryRemoveEmpty()
    {
        // The freezer and cgroup2 directories go last: while any directory is left, Kill still has them to
        // stop forks (security.md A13).
        var freezer = Paths.GetValueOrDefault("freezer");
        var unified = UnifiedDirectory;
        foreach (var dir in Directories.OrderBy(d => d == freezer || d == unified))
        {
            var errno = Fs.TryRemoveDirectory(dir);
            if (errno is not (0 or Errno.ENOENT))
            {
                // EBUSY: a task or a sub-cgroup is left (or the kernel refuses for another reason): the caller
                // kills and removes the rest the long way.
                return false;
            }
        }

        return true;
    }

    /// <summary>Writes FROZEN/1 without waiting; the kill loop repeats anyway.</summary>
    protected abstract void TryFreezeQuick();

    protected abstract void TryThawQuick();

    /// <summary>mkdir -p of <paramref name="dir"/> below <paramref name="mountPoint"/>; yields each directory level, top first.</summary>
    protected IReadOnlyList<string> MakePath(string mountPoint, string dir)
    {
        var levels = new List<string>();
        var current = mountPoint.TrimEnd('/');
        foreach (var component in dir[current.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current += "/" + component;
            Fs.CreateDirectory(current);
            levels.Add(current);
        }

        return levels;
    }

    /// <summary>
    /// The directory saved in the container's state (see <see cref="CgroupManagerFactory.Open"/>), else the
    /// resolved one. A saved path must lie below its mount: state files steer rmdir and kill.
    /// </summary>
    protected string SavedOrResolved(IReadOnlyDictionary<string, string>? saved, string key, CgroupMount mount)
    {
        if (saved is null || !saved.TryGetValue(key, out var path))
        {
            return ResolveDirectory(mount, key);
        }

        var prefix = mount.MountPoint.TrimEnd('/') + "/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new CgroupException(CgroupErrorKind.InvalidSpec, $"saved cgroup path \"{path}\" is not below {mount.MountPoint}");
        }

        var relative = path[prefix.Length..];
        if (Cgroups.CgroupPath.Normalize("/" + relative, "x") != "/" + relative)
        {
            throw new CgroupException(CgroupErrorKind.InvalidSpec, $"saved cgroup path \"{path}\" is not normalised");
        }

        return path;
    }

    /// <summary>The cgroup directory in <paramref name="mount"/>: absolute paths from its root, relative ones below our own cgroup.</summary>
    protected string ResolveDirectory(CgroupMount mount, string ownKey)
    {
        if (CgroupPath[0] == '/')
        {
            return Cgroups.CgroupPath.Join(mount.MountPoint, CgroupPath);
        }

        if (!Host.OwnCgroups.TryGetValue(ownKey, out var own))
        {
            throw new CgroupException(CgroupErrorKind.Unsupported, $"cgroupsPath \"{CgroupPath}\" is relative, but this process has no {(ownKey.Length == 0 ? "cgroup2" : ownKey)} cgroup");
        }

        // mountinfo's root field: the mount shows this cgroup as its top; our own path is relative to it.
        var root = mount.Root.TrimEnd('/');
        var relative = own.StartsWith(root + "/", StringComparison.Ordinal) ? own[root.Length..] : own == mount.Root ? "" : own;
        return Cgroups.CgroupPath.Join(Cgroups.CgroupPath.Join(mount.MountPoint, relative), CgroupPath);
    }

    protected void RequireValue(bool condition, string message)
    {
        if (!condition)
        {
            throw new CgroupException(CgroupErrorKind.InvalidSpec, message);
        }
    }

    protected static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);

    protected static string Num(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A device major/minor as the kernel writes it in rules: -1 and absent are "*".</summary>
    protected static string DeviceNumber(long? n) => n is null or < 0 ? "*" : Num(n.Value);

    private void CollectPids(string dir, SortedSet<int> pids)
    {
        var procs = Fs.TryRead(dir + "/cgroup.procs");
        if (procs is null)
        {
            return;
        }

        foreach (var line in procs.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                pids.Add(pid);
            }
        }

        foreach (var sub in Fs.SubDirectories(dir))
        {
            CollectPids(sub, pids);
        }
    }

    /// <summary>Removes sub-cgroups first (a container may create its own), retrying EBUSY while exiting tasks drain.</summary>
    private void RemovePath(string dir)
    {
        var errno = Fs.TryRemoveDirectory(dir);
        if (errno is 0 or Errno.ENOENT)
        {
            return;
        }

        if (!Fs.Exists(dir))
        {
            return;
        }

        foreach (var sub in Fs.SubDirectories(dir))
        {
            RemovePath(sub);
        }

        var delay = 1;
        for (var attempt = 0; ; attempt++)
        {
            errno = Fs.TryRemoveDirectory(dir);
            if (errno is 0 or Errno.ENOENT)
            {
                return;
            }

            if (errno is not (Errno.EBUSY or Errno.EINTR) || attempt >= 10)
            {
                throw new CgroupException(CgroupErrorKind.Io, $"rmdir {dir}: {Errno.Describe(errno)}", new SyscallException("rmdir", errno, dir));
            }

            Thread.Sleep(delay);
            delay = Math.Min(delay * 2, 200);
        }
    }
}
