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
/// (CVE-2021-30465, CVE-2024-45310, security.md A5/A6).
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

    public void MountAll()
    {
        using var root = SafeRoot.Open(_rootfs);
        foreach (var mount in _spec.Mounts ?? [])
        {
            try
            {
                MountOne(root, mount);
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

    private void MountOne(SafeRoot root, Mount mount)
    {
        var options = MountOptions.Parse(mount.Options, mount.Type);
        var dest = SafeRoot.Clean(mount.Destination);
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
        try
        {
            Sys.Mount(mount.Source ?? mount.Type, FdPath(target), mount.Type, flags, options.Data, mount.Destination);
        }
        catch (SyscallException e) when (mount.Type == "sysfs" && e.Errno == Errno.EPERM)
        {
            // Without a new network namespace owned by our user namespace sysfs cannot be mounted: bind the host's, read-only (runc does the same).
            Sys.Mount("/sys", FdPath(target), null, MountFlags.MS_BIND | MountFlags.MS_REC, null, mount.Destination);
            using var mounted = root.Open(dest, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
            Remount(mounted, flags | MountFlags.MS_RDONLY, mount.Destination);
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

    private static void BindMount(SafeRoot root, Mount mount, MountOptions options)
    {
        if (string.IsNullOrEmpty(mount.Source))
        {
            throw RuntimeException.InvalidSpec($"bind mount {mount.Destination} has no source");
        }

        if (options.IdMap || mount.UidMappings is { Count: > 0 })
        {
            throw new RuntimeException(ErrorKind.Unsupported, $"mount {mount.Destination}: id-mapped mounts are not supported yet");
        }

        var source = Sys.Open(mount.Source, OpenFlags.O_PATH);
        try
        {
            var isDir = (Sys.StatFd(source, mount.Source).Mode & 0xF000) == 0x4000;
            var dest = SafeRoot.Clean(mount.Destination);
            using var target = isDir
                ? root.MkdirAll(dest, 0x1ED)
                : OpenOrCreateFile(root, dest);
            var recursive = options.Recursive ? MountFlags.MS_REC : 0;
            Sys.Mount($"/proc/thread-self/fd/{source}", FdPath(target), null, MountFlags.MS_BIND | recursive, null, mount.Destination);

            // Flags on a bind mount take a remount; keep the flags the kernel locked on the source
            // (nosuid/nodev/noexec from a user namespace) or the remount fails with EPERM.
            if ((options.Flags & ~MountFlags.MS_REMOUNT) != 0)
            {
                using var mounted = root.Open(dest, FileCalls.O_PATH | (isDir ? FileCalls.O_DIRECTORY : 0));
                Remount(mounted, options.Flags, mount.Destination);
            }

            if (options.Propagation != 0)
            {
                using var mounted = root.Open(dest, FileCalls.O_PATH | (isDir ? FileCalls.O_DIRECTORY : 0));
                Sys.Mount(null, FdPath(mounted), null, options.Propagation, null, mount.Destination);
            }
        }
        finally
        {
            Sys.Close(source);
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
                Sys.Mount(unifiedPath, FdPath(target), null, MountFlags.MS_BIND | MountFlags.MS_REC, null, mount.Destination);
                using var mounted = root.Open(dest, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
                Remount(mounted, options.Flags | MountFlags.MS_RDONLY, mount.Destination);
            }

            return;
        }

        // cgroup v1: a tmpfs with one read-only bind of the container's own cgroup per hierarchy,
        // so the container sees its limits but cannot write the host's tree (CVE-2023-25809).
        Sys.Mount("tmpfs", FdPath(target), "tmpfs", baseFlags, "mode=755", mount.Destination);
        var cgroupDest = "/" + dest;
        foreach (var (controller, hostPath) in _config.CgroupPaths.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var name = controller.Length == 0 ? "unified" : controller.StartsWith("name=", StringComparison.Ordinal) ? controller[5..] : controller;
            using var sub = root.MkdirAll($"{cgroupDest}/{name}", 0x1ED);
            Sys.Mount(hostPath, FdPath(sub), null, MountFlags.MS_BIND | MountFlags.MS_REC, null, $"{mount.Destination}/{name}");
            using var mountedSub = root.Open($"{cgroupDest}/{name}", FileCalls.O_PATH | FileCalls.O_DIRECTORY);
            Remount(mountedSub, baseFlags | MountFlags.MS_RDONLY | MountFlags.MS_NOSUID | MountFlags.MS_NODEV | MountFlags.MS_NOEXEC, $"{mount.Destination}/{name}");
        }

        if (readOnly)
        {
            using var mounted = root.Open(dest, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
            Sys.Mount(null, FdPath(mounted), null, MountFlags.MS_REMOUNT | baseFlags | MountFlags.MS_RDONLY, "mode=755", mount.Destination);
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

        using var root = SafeRoot.Open("/");
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

    private static void ReadonlyPath(SafeRoot root, string path)
    {
        var clean = SafeRoot.Clean(path);
        using var target = root.TryOpen(clean, FileCalls.O_PATH);
        if (target is null)
        {
            return;
        }

        Sys.Mount(FdPath(target), FdPath(target), null, MountFlags.MS_BIND | MountFlags.MS_REC, null, path);
        using var mounted = root.Open(clean, FileCalls.O_PATH);
        Remount(mounted, MountFlags.MS_RDONLY, path);
    }
}
