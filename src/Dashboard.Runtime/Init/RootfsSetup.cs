using Dashboard.Linux;
using Dashboard.Linux.Fs;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;
using Microsoft.Win32.SafeHandles;

namespace Dashboard.Runtime.Init;

/// <summary>
/// Builds the container's mount tree inside its new mount namespace. Every target inside the
/// rootfs is resolved with <see cref="SafeRoot"/> (in-root, never following a symlink out) and
/// mounted through <c>/proc/thread-self/fd/N</c>, so no path string is resolved twice
/// (CVE-2021-30465, CVE-2024-45310, security.md A5/A6). Bind mounts are cloned detached
/// (open_tree), get their flags while detached (mount_setattr) and are then attached to the
/// target fd (move_mount): a remount by path after the mount could be redirected by a rename race
/// to another mount, leaving a read-only bind writable.
/// </summary>
internal sealed class RootfsSetup
{
    private static readonly (string Name, uint Major, uint Minor)[] s_defaultDevices =
    [
        ("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0),
    ];

    private readonly InitConfig _config;
    private readonly Spec _spec;
    private readonly string _rootfs;

    public RootfsSetup(InitConfig config)
    {
        _config = config;
        _spec = config.Spec;
        _rootfs = config.Rootfs;
    }

    /// <summary>Called before the first cgroup mount: init waits there until the runtime has made and joined its cgroups.</summary>
    public Action? BeforeCgroupMount { get; init; }

    private static string FdPath(SafeFileHandle handle) => $"/proc/thread-self/fd/{handle.DangerousGetHandle()}";

    /// <summary>Makes the mount tree private to us and the rootfs a mount point (runc prepareRoot).</summary>
    public void PrepareRoot()
    {
        var propagation = _spec.Linux?.RootfsPropagation switch
        {
            "shared" or "rshared" => MountFlags.MS_SHARED | MountFlags.MS_REC,
            "private" or "rprivate" => MountFlags.MS_PRIVATE | MountFlags.MS_REC,
            "unbindable" or "runbindable" => MountFlags.MS_UNBINDABLE | MountFlags.MS_REC,
            _ => MountFlags.MS_SLAVE | MountFlags.MS_REC,
        };
        Sys.Mount(null, "/", null, propagation, null);
        Sys.Mount(_rootfs, _rootfs, null, MountFlags.MS_BIND | MountFlags.MS_REC, null);
    }

    /// <summary>
    /// Set to 1 to resolve mount targets with the userspace walker instead of openat2 (the
    /// fallback for kernels without openat2 or where seccomp blocks it; tests run both).
    /// </summary>
    public const string NoOpenat2Variable = "DASHBOARD_RUNTIME_NO_OPENAT2";

    public static bool Openat2DisabledByEnvironment() => Environment.GetEnvironmentVariable(NoOpenat2Variable) is "1" or "true";

    /// <summary>
    /// Set to 1 to make bind mounts the way kernels before 5.12 (no mount_setattr) get them: bind,
    /// reopen by path, check it is the new mount, remount (tests run the race suite this way too).
    /// </summary>
    public const string NoMountSetattrVariable = "DASHBOARD_RUNTIME_NO_MOUNT_SETATTR";

    public static bool MountSetattrDisabledByEnvironment() => Environment.GetEnvironmentVariable(NoMountSetattrVariable) is "1" or "true";

    private SafeRoot OpenRoot(string path) => SafeRoot.Open(path, new SafeRootOptions { ForceFallback = _config.NoOpenat2 });

    public void MountAll()
    {
        using var root = OpenRoot(_rootfs);
        var mounts = _spec.Mounts ?? [];
        for (var index = 0; index < mounts.Count; index++)
        {
            var mount = mounts[index];
            try
            {
                MountOne(root, mount, index);
            }
            catch (SyscallException e)
            {
                throw RuntimeException.Wrap($"mount {mount.Source ?? mount.Type} to {mount.Destination}", e);
            }
        }

        if (HasDevMount())
        {
            CreateDevices(root);
        }
        else
        {
            CreateSpecDevices(root);
        }
    }

    private bool HasDevMount() => _spec.Mounts?.Any(m => SafeRoot.Clean(m.Destination) == "dev") == true;

    private void MountOne(SafeRoot root, Mount mount, int index)
    {
        var options = MountOptions.Parse(mount.Options, mount.Type);
        var dest = SafeRoot.Clean(mount.Destination);
        if (_config.MountFds.TryGetValue(index, out var prepared))
        {
            AttachPrepared(root, mount, prepared);
            return;
        }

        if (options.Bind)
        {
            BindMount(root, mount, options);
            return;
        }

        switch (mount.Type)
        {
            case "proc" or "sysfs":
                // procfs and sysfs must land on a real directory, never a symlink (CVE-2023-27561, runc checkProcMount).
                if (root.Lstat(dest) is { } st && st.Kind != FileKind.Directory)
                {
                    throw RuntimeException.InvalidSpec($"mount {mount.Destination}: {mount.Type} must be mounted on ordinary directory");
                }

                break;
            case "cgroup" or "cgroup2":
                MountCgroup(root, mount, options);
                return;
        }

        using var target = root.MkdirAll(dest, 0x1ED);
        var flags = options.Flags;
        if (options.Propagation != 0 && MountApi.SetattrAvailable && !_config.NoMountSetattr && TryMountDetached(mount, options, target))
        {
            return;
        }

        try
        {
            Sys.Mount(mount.Source ?? mount.Type, FdPath(target), mount.Type, flags, options.Data, mount.Destination);
        }
        catch (SyscallException e) when (mount.Type == "sysfs" && e.Errno == Errno.EPERM)
        {
            // Without a new network namespace owned by our user namespace sysfs cannot be mounted: bind the host's, read-only (runc does the same).
            var sys = Sys.Open("/sys", OpenFlags.O_PATH | OpenFlags.O_DIRECTORY);
            try
            {
                BindFd(sys, target, recursive: true, flags | MountFlags.MS_RDONLY, 0, 0, mount.Destination, () => root.Open(dest, FileCalls.O_PATH | FileCalls.O_DIRECTORY));
            }
            finally
            {
                Sys.Close(sys);
            }
        }
        catch (SyscallException e) when (mount.Type == "mqueue" && e.Errno == Errno.EPERM)
        {
            Sys.Mount("/dev/mqueue", FdPath(target), null, MountFlags.MS_BIND, null, mount.Destination);
        }

        if (options.Propagation != 0)
        {
            using var mounted = root.Open(dest, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
            Sys.Mount(null, FdPath(mounted), null, options.Propagation, null, mount.Destination);
        }
    }

    /// <summary>
    /// A filesystem mount with propagation flags: made detached (fsopen/fsmount), given its
    /// propagation through the fd and only then attached, so no path lookup after the mount exists
    /// can be redirected by a rename race to another mount (security.md A5), as for binds. Returns
    /// false where this host refuses the detached way with EPERM (sysfs and mqueue without their
    /// own namespace), so the caller's fallbacks apply.
    /// </summary>
    private static bool TryMountDetached(Mount mount, MountOptions options, SafeFileHandle target)
    {
        var (set, _) = MountApi.AttributesOf(options.Flags, 0);
        int tree;
        try
        {
            tree = MountApi.CreateDetached(mount.Type!, mount.Source ?? mount.Type, options.Data, set, mount.Destination);
        }
        catch (SyscallException e) when (e.Errno == Errno.EPERM && mount.Type is "sysfs" or "mqueue")
        {
            return false;
        }

        try
        {
            MountApi.SetAttributes(tree, (options.Propagation & MountFlags.MS_REC) != 0, 0, 0, options.Propagation & ~MountFlags.MS_REC, -1, mount.Destination);
            MountApi.Attach(tree, (int)target.DangerousGetHandle(), mount.Destination);
        }
        finally
        {
            Sys.Close(tree);
        }

        return true;
    }

    private void BindMount(SafeRoot root, Mount mount, MountOptions options)
    {
        if (string.IsNullOrEmpty(mount.Source))
        {
            throw RuntimeException.InvalidSpec($"bind mount {mount.Destination} has no source");
        }

        var source = Sys.Open(mount.Source, OpenFlags.O_PATH);
        try
        {
            var isDir = (Sys.StatFd(source, mount.Source).Mode & 0xF000) == 0x4000;
            var dest = SafeRoot.Clean(mount.Destination);
            using var target = isDir
                ? root.MkdirAll(dest, 0x1ED)
                : OpenOrCreateFile(root, dest);
            BindFd(source, target, options.Recursive, options.Flags & ~MountFlags.MS_REMOUNT, options.ClearFlags, options.Propagation, mount.Destination,
                () => root.Open(dest, FileCalls.O_PATH | (isDir ? FileCalls.O_DIRECTORY : 0)));
        }
        finally
        {
            Sys.Close(source);
        }
    }

    /// <summary>Attaches a mount tree the runtime prepared outside (an id-mapped bind, see <see cref="IdmappedMounts"/>).</summary>
    private static void AttachPrepared(SafeRoot root, Mount mount, int tree)
    {
        try
        {
            var isDir = (Sys.StatFd(tree, mount.Source).Mode & 0xF000) == 0x4000;
            var dest = SafeRoot.Clean(mount.Destination);
            using var target = isDir ? root.MkdirAll(dest, 0x1ED) : OpenOrCreateFile(root, dest);
            MountApi.Attach(tree, (int)target.DangerousGetHandle(), mount.Destination);
        }
        finally
        {
            Sys.Close(tree);
        }
    }

    /// <summary>
    /// Binds a copy of the mount tree at <paramref name="source"/> onto <paramref name="target"/>
    /// with the given flags and propagation. With mount_setattr the copy is configured before it is
    /// attached; on older kernels it is bound, reopened by path and remounted, and the reopened mount
    /// must be the one just made.
    /// </summary>
    private void BindFd(int source, SafeFileHandle target, bool recursive, ulong flags, ulong clearFlags, ulong propagation, string display, Func<SafeFileHandle> reopen)
    {
        if (MountApi.SetattrAvailable && !_config.NoMountSetattr)
        {
            var tree = MountApi.CloneTree(source, recursive, display);
            try
            {
                ConfigureTree(tree, flags, clearFlags, propagation, display);
                MountApi.Attach(tree, (int)target.DangerousGetHandle(), display);
            }
            finally
            {
                Sys.Close(tree);
            }

            return;
        }

        Sys.Mount($"/proc/thread-self/fd/{source}", FdPath(target), null, MountFlags.MS_BIND | (recursive ? MountFlags.MS_REC : 0), null, display);
        if (flags == 0 && propagation == 0)
        {
            return;
        }

        using var mounted = reopen();
        VerifyIsMountOf(mounted, source, display);
        if (flags != 0)
        {
            Remount(mounted, flags, display);
        }

        if (propagation != 0)
        {
            Sys.Mount(null, FdPath(mounted), null, propagation, null, display);
        }
    }

    /// <summary>
    /// Flags and propagation of a detached mount tree. Only read-only and the access-time mode are
    /// ever cleared: nosuid/nodev/noexec the source already has stay (they may be locked by a user
    /// namespace, and a bind remount keeps them too).
    /// </summary>
    internal static void ConfigureTree(int tree, ulong flags, ulong clearFlags, ulong propagation, string display)
    {
        var (set, clear) = MountApi.AttributesOf(flags, clearFlags);
        clear &= MountApi.MOUNT_ATTR_RDONLY | MountApi.MOUNT_ATTR__ATIME;
        if (set != 0 || clear != 0)
        {
            MountApi.SetAttributes(tree, recursive: false, set, clear, 0, -1, display);
        }

        if (propagation != 0)
        {
            MountApi.SetAttributes(tree, (propagation & MountFlags.MS_REC) != 0, 0, 0, propagation & ~MountFlags.MS_REC, -1, display);
        }
    }

    /// <summary>The reopened target must be the root of a mount of the source, not a mount a rename race put on its path.</summary>
    private static void VerifyIsMountOf(SafeFileHandle mounted, int source, string display)
    {
        const ulong STATX_ATTR_MOUNT_ROOT = 0x2000;
        var actual = Sys.StatFd((int)mounted.DangerousGetHandle(), display);
        var expected = Sys.StatFd(source, display);
        if (actual.Ino != expected.Ino || actual.DevMajor != expected.DevMajor || actual.DevMinor != expected.DevMinor
            || ((actual.AttributesMask & STATX_ATTR_MOUNT_ROOT) != 0 && (actual.Attributes & STATX_ATTR_MOUNT_ROOT) == 0))
        {
            throw new SyscallException("mount", Errno.EXDEV, display + " (the mount point was replaced while mounting)");
        }
    }

    private static SafeFileHandle OpenOrCreateFile(SafeRoot root, string dest)
    {
        using (root.OpenParent(dest, out _, createDirectories: true))
        {
        }

        var existing = root.TryOpen(dest, FileCalls.O_PATH);
        if (existing is not null)
        {
            return existing;
        }

        using (root.Open(dest, FileCalls.O_CREAT | FileCalls.O_RDONLY | FileCalls.O_NOFOLLOW, 0x1A4))
        {
        }

        return root.Open(dest, FileCalls.O_PATH | FileCalls.O_NOFOLLOW);
    }

    private static void Remount(SafeFileHandle target, ulong flags, string display)
    {
        var locked = (ulong)Sys.MountFlagsOf((int)target.DangerousGetHandle(), display);
        // statfs ST_* flags share the low bits with MS_*: ST_RDONLY=1, ST_NOSUID=2, ST_NODEV=4, ST_NOEXEC=8, ST_NOATIME=1024, ST_NODIRATIME=2048, ST_RELATIME=4096.
        var keep = locked & (MountFlags.MS_NOSUID | MountFlags.MS_NODEV | MountFlags.MS_NOEXEC | MountFlags.MS_NOATIME | MountFlags.MS_NODIRATIME);
        if ((locked & 4096) != 0)
        {
            keep |= MountFlags.MS_RELATIME;
        }

        Sys.Mount(null, FdPath(target), null, MountFlags.MS_REMOUNT | MountFlags.MS_BIND | flags | keep, null, display);
    }

    private void MountCgroup(SafeRoot root, Mount mount, MountOptions options)
    {
        BeforeCgroupMount?.Invoke();
        var dest = SafeRoot.Clean(mount.Destination);
        var readOnly = (options.Flags & MountFlags.MS_RDONLY) != 0;
        var baseFlags = options.Flags & ~MountFlags.MS_RDONLY;
        var v1 = _config.CgroupPaths.Where(p => p.Key.Length > 0).ToList();
        using var target = root.MkdirAll(dest, 0x1ED);
        if (v1.Count == 0)
        {
            if (_config.NewCgroupNamespace)
            {
                Sys.Mount("cgroup2", FdPath(target), "cgroup2", options.Flags, null, mount.Destination);
            }
            else if (_config.CgroupPaths.TryGetValue("", out var unifiedPath))
            {
                BindPath(unifiedPath, target, options.Flags | MountFlags.MS_RDONLY, mount.Destination, () => root.Open(dest, FileCalls.O_PATH | FileCalls.O_DIRECTORY));
            }

            return;
        }

        // cgroup v1: a tmpfs with one read-only bind of the container's own cgroup per hierarchy,
        // so the container sees its limits but cannot write the host's tree (CVE-2023-25809).
        Sys.Mount("tmpfs", FdPath(target), "tmpfs", baseFlags, "mode=755", mount.Destination);

        // The tmpfs was mounted this moment in a mount namespace where only init runs: nothing of the
        // container's can have put a symlink in it, so its directories are made and opened relative to
        // its root without an in-root walk per hierarchy.
        using var tmpfs = root.Open(dest, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
        var made = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (controller, hostPath) in _config.CgroupPaths.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var name = controller.Length == 0 ? "unified" : controller.StartsWith("name=", StringComparison.Ordinal) ? controller[5..] : controller;
            if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
            {
                throw new RuntimeException(ErrorKind.Internal, $"cgroup hierarchy name \"{name}\" is not a directory name");
            }

            if (made.Add(name))
            {
                FileCalls.MkdirAt(tmpfs, name, 0x1ED);
            }

            using var sub = FileCalls.OpenAt(tmpfs, name, FileCalls.O_PATH | FileCalls.O_DIRECTORY | FileCalls.O_NOFOLLOW);
            BindPath(hostPath, sub, baseFlags | MountFlags.MS_RDONLY | MountFlags.MS_NOSUID | MountFlags.MS_NODEV | MountFlags.MS_NOEXEC, $"{mount.Destination}/{name}",
                () => FileCalls.OpenAt(tmpfs, name, FileCalls.O_PATH | FileCalls.O_DIRECTORY | FileCalls.O_NOFOLLOW));
        }

        if (readOnly)
        {
            using var mounted = root.Open(dest, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
            Sys.Mount(null, FdPath(mounted), null, MountFlags.MS_REMOUNT | baseFlags | MountFlags.MS_RDONLY, "mode=755", mount.Destination);
        }
    }

    private void BindPath(string hostPath, SafeFileHandle target, ulong flags, string display, Func<SafeFileHandle> reopen)
    {
        var source = Sys.Open(hostPath, OpenFlags.O_PATH | OpenFlags.O_DIRECTORY);
        try
        {
            BindFd(source, target, recursive: true, flags, 0, 0, display, reopen);
        }
        finally
        {
            Sys.Close(source);
        }
    }

    private void CreateDevices(SafeRoot root)
    {
        foreach (var (name, major, minor) in s_defaultDevices)
        {
            if (_spec.Linux?.Devices?.Any(d => d.Path == "/dev/" + name) == true)
            {
                continue;
            }

            CreateDevice(root, new Device { Path = "/dev/" + name, Type = "c", Major = major, Minor = minor, FileMode = 0x1B6 });
        }

        CreateSpecDevices(root);

        using var dev = root.MkdirAll("dev", 0x1ED);
        foreach (var (link, target) in new[] { ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2") })
        {
            TrySymlink(dev, target, link);
        }

        if (File.Exists("/proc/kcore"))
        {
            TrySymlink(dev, "/proc/kcore", "core");
        }

        // /dev/ptmx points at the container's own devpts instance (newinstance).
        if (_spec.Mounts?.Any(m => SafeRoot.Clean(m.Destination) == "dev/pts") == true)
        {
            FileCalls.TryUnlinkAt(dev, "ptmx");
            FileCalls.SymlinkAt("pts/ptmx", dev, "ptmx");
        }
    }

    private static void TrySymlink(SafeFileHandle dir, string target, string name)
    {
        try
        {
            FileCalls.SymlinkAt(target, dir, name);
        }
        catch (SyscallException e) when (e.Errno == Errno.EEXIST)
        {
        }
    }

    private void CreateSpecDevices(SafeRoot root)
    {
        foreach (var device in _spec.Linux?.Devices ?? [])
        {
            CreateDevice(root, device);
        }
    }

    private void CreateDevice(SafeRoot root, Device device)
    {
        using var parent = root.OpenParent(device.Path, out var name, createDirectories: true);
        FileCalls.TryUnlinkAt(parent, name);
        var mode = (device.FileMode ?? 0x1B6) & 0xFFF;
        if (_config.UserNamespace)
        {
            // mknod is refused in a user namespace: bind the host's device node instead (runc bindMountDeviceNode).
            using (FileCalls.OpenAt(parent, name, FileCalls.O_CREAT | FileCalls.O_RDONLY | FileCalls.O_NOFOLLOW, 0x1A4))
            {
            }

            using var node = FileCalls.OpenAt(parent, name, FileCalls.O_PATH | FileCalls.O_NOFOLLOW);
            Sys.Mount(device.Path, FdPath(node), null, MountFlags.MS_BIND, null, device.Path);
            return;
        }

        var kind = device.Type switch
        {
            "b" => FileKind.BlockDevice,
            "p" => FileKind.Fifo,
            _ => FileKind.CharDevice,
        };
        FileCalls.MknodAt(parent, name, kind, mode, (uint)device.Major, (uint)device.Minor);
        if (device.Uid is not null || device.Gid is not null)
        {
            FileCalls.LchownAt(parent, name, device.Uid ?? 0, device.Gid ?? 0);
        }
    }

    /// <summary>pivot_root(".", ".") then detach the old root (runc pivotRoot); or MS_MOVE + chroot with --no-pivot.</summary>
    public void SwitchRoot()
    {
        if (_config.NoPivot)
        {
            Sys.Chdir(_rootfs);
            Sys.Mount(_rootfs, "/", null, MountFlags.MS_MOVE, null);
            Sys.Chroot(".");
            Sys.Chdir("/");
            return;
        }

        var oldRoot = Sys.Open("/", OpenFlags.O_DIRECTORY | OpenFlags.O_RDONLY);
        var newRoot = Sys.Open(_rootfs, OpenFlags.O_DIRECTORY | OpenFlags.O_RDONLY);
        try
        {
            Sys.Fchdir(newRoot, _rootfs);
            Sys.PivotRoot(".", ".");
            Sys.Fchdir(oldRoot, "old root");
            // The old root must not propagate its unmount to the host, then it goes away entirely.
            Sys.Mount(null, ".", null, MountFlags.MS_SLAVE | MountFlags.MS_REC, null, "old root");
            Sys.Umount(".", MountFlags.MNT_DETACH);
            Sys.Chdir("/");
        }
        finally
        {
            Sys.Close(oldRoot);
            Sys.Close(newRoot);
        }
    }

    /// <summary>After the root switch: masked and read-only paths, sysctls, read-only root.</summary>
    public void Finish()
    {
        // Sysctls go first: /proc/sys becomes read-only just below.
        foreach (var (key, value) in _spec.Linux?.Sysctl ?? [])
        {
            ProcFs.Write("/proc/sys/" + key.Replace('.', '/'), value);
        }

        using var root = OpenRoot("/");
        var nullDevice = OpenVerifiedDevNull(root);
        try
        {
            foreach (var path in (_spec.Linux?.MaskedPaths ?? []).Distinct(StringComparer.Ordinal))
            {
                MaskPath(root, path, nullDevice);
            }
        }
        finally
        {
            nullDevice?.Dispose();
        }

        foreach (var path in (_spec.Linux?.ReadonlyPaths ?? []).Distinct(StringComparer.Ordinal))
        {
            ReadonlyPath(root, path);
        }

        if (_spec.Root?.Readonly == true)
        {
            using var top = root.Open("", FileCalls.O_PATH | FileCalls.O_DIRECTORY);
            Remount(top, MountFlags.MS_RDONLY, "/");
        }
    }

    /// <summary>/dev/null must be the real 1:3 character device before it is bound over masked files (CVE-2025-31133).</summary>
    private SafeFileHandle? OpenVerifiedDevNull(SafeRoot root)
    {
        if (_spec.Linux?.MaskedPaths is not { Count: > 0 })
        {
            return null;
        }

        var handle = root.Open("dev/null", FileCalls.O_PATH | FileCalls.O_NOFOLLOW);
        var st = Sys.StatFd((int)handle.DangerousGetHandle(), "/dev/null");
        if ((st.Mode & 0xF000) != 0x2000 || st.RdevMajor != 1 || st.RdevMinor != 3)
        {
            handle.Dispose();
            throw RuntimeException.InvalidSpec("/dev/null is invalid: it is not the 1:3 character device");
        }

        return handle;
    }

    private static void MaskPath(SafeRoot root, string path, SafeFileHandle? nullDevice)
    {
        var clean = SafeRoot.Clean(path);
        var st = root.Lstat(clean);
        if (st is null)
        {
            return;
        }

        if (st.Value.Kind == FileKind.Symlink)
        {
            throw RuntimeException.InvalidSpec($"masked path {path} is a symlink");
        }

        using var target = root.Open(clean, FileCalls.O_PATH | FileCalls.O_NOFOLLOW);
        if (st.Value.Kind == FileKind.Directory)
        {
            Sys.Mount("tmpfs", FdPath(target), "tmpfs", MountFlags.MS_RDONLY | MountFlags.MS_NOSUID | MountFlags.MS_NODEV | MountFlags.MS_NOEXEC, "size=0,mode=555", path);
        }
        else
        {
            Sys.Mount(FdPath(nullDevice!), FdPath(target), null, MountFlags.MS_BIND, null, path);
        }
    }

    private void ReadonlyPath(SafeRoot root, string path)
    {
        var clean = SafeRoot.Clean(path);
        using var target = root.TryOpen(clean, FileCalls.O_PATH);
        if (target is null)
        {
            return;
        }

        BindFd((int)target.DangerousGetHandle(), target, recursive: true, MountFlags.MS_RDONLY, 0, 0, path, () => root.Open(clean, FileCalls.O_PATH));
    }
}
