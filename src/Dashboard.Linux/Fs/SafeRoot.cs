using Microsoft.Win32.SafeHandles;

namespace Dashboard.Linux.Fs;

/// <summary>How a <see cref="SafeRoot"/> resolves paths.</summary>
public sealed record SafeRootOptions
{
    /// <summary>Skip openat2 and use the userspace walker (tests run both paths).</summary>
    public bool ForceFallback { get; init; }

    /// <summary>Refuse to cross a mount point (RESOLVE_NO_XDEV).</summary>
    public bool NoCrossDevice { get; init; }

    /// <summary>Symlinks followed per lookup before ELOOP (the kernel's limit is 40).</summary>
    public int MaxSymlinks { get; init; } = 40;
}

/// <summary>
/// A directory fd that every path is resolved inside, with the semantics of openat2
/// RESOLVE_IN_ROOT: <c>..</c> at the root stays at the root, absolute symlinks are relative to the
/// root, magic links are refused. Uses openat2 when the kernel has it and a userspace walker
/// otherwise (component by component with O_NOFOLLOW, never the kernel's own <c>..</c>, so a
/// directory moved out of the root during a lookup cannot carry the walk outside; cf.
/// cyphar/filepath-securejoin). Operations on the final component are *at calls on the parent fd
/// that never follow a symlink (security.md B0, B4).
/// </summary>
public sealed class SafeRoot : IDisposable
{
    private static readonly bool s_envForceFallback =
        Environment.GetEnvironmentVariable("DASHBOARD_FS_NO_OPENAT2") is "1" or "true";

    private static volatile bool s_openat2Missing;

    private readonly SafeRootOptions _options;
    private readonly ulong _device;

    private SafeRoot(string path, SafeFileHandle handle, SafeRootOptions options)
    {
        Path = path;
        Handle = handle;
        _options = options;
        _device = FileCalls.Stat(handle).Device;
    }

    /// <summary>The host path the root was opened from (for messages; never used for lookups).</summary>
    public string Path { get; }

    /// <summary>O_PATH|O_DIRECTORY fd of the root.</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>Whether lookups go through openat2.</summary>
    public bool UsesOpenat2 => !_options.ForceFallback && !s_envForceFallback && !s_openat2Missing;

    public static SafeRoot Open(string path, SafeRootOptions? options = null)
    {
        var handle = FileCalls.Open(path, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
        return new SafeRoot(path, handle, options ?? new SafeRootOptions());
    }

    /// <summary>
    /// The lexical, rooted clean of a path: no leading or trailing slash, no empty, <c>.</c> or
    /// <c>..</c> components (<c>..</c> at the top is dropped, as the kernel does at a root). The root
    /// itself is the empty string. Symlinks are not looked at; lookups evaluate them in-root.
    /// </summary>
    public static string Clean(string path)
    {
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new SyscallException("lookup", Errno.EINVAL, path.Replace("\0", "\\0", StringComparison.Ordinal));
        }

        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            parts.Add(part);
        }

        return string.Join('/', parts);
    }

    /// <summary>
    /// Opens a path inside the root. A final symlink is followed (in-root) unless flags contain
    /// O_NOFOLLOW; with O_CREAT a missing final name is created in its in-root parent.
    /// </summary>
    public SafeFileHandle Open(string path, int flags, uint mode = 0) => OpenCore(path, flags, mode, nullWhenMissing: false)!;

    /// <summary>Open, or null when the path (or a directory on it) does not exist.</summary>
    public SafeFileHandle? TryOpen(string path, int flags, uint mode = 0) => OpenCore(path, flags, mode, nullWhenMissing: true);

    private SafeFileHandle? OpenCore(string path, int flags, uint mode, bool nullWhenMissing)
    {
        ValidatePath(path);
        if (UsesOpenat2)
        {
            var rc = OpenWithOpenat2(path, flags, mode, out var handle);
            if (rc == 0)
            {
                return handle!;
            }

            // Answered without an exception where openat2 works: a runtime's init asks TryOpen for paths that usually
            // do not exist (mount targets, readonlyPaths), a dozen per container, and each throw unwinds the stack.
            if (rc == -Errno.ENOENT && nullWhenMissing)
            {
                return null;
            }

            if (rc != -Errno.ENOSYS)
            {
                throw new SyscallException("openat2", -rc, path);
            }
        }

        try
        {
            return OpenFallback(path, flags, mode);
        }
        catch (SyscallException e) when (nullWhenMissing && e.Errno == Errno.ENOENT)
        {
            return null;
        }
    }

    /// <summary>
    /// Resolves the directory part of a path in-root (creating missing directories when asked) and
    /// returns its O_PATH fd plus the final name, which is never empty, <c>.</c> or <c>..</c>.
    /// The path is cleaned first, so <c>../../x</c> names <c>x</c> in the root.
    /// </summary>
    public SafeFileHandle OpenParent(string path, out string name, bool createDirectories = false, uint directoryMode = 0x1ED)
    {
        var clean = Clean(path);
        if (clean.Length == 0)
        {
            throw new SyscallException("lookup", Errno.EINVAL, "/");
        }

        var slash = clean.LastIndexOf('/');
        name = slash < 0 ? clean : clean[(slash + 1)..];
        var dir = slash < 0 ? string.Empty : clean[..slash];
        return createDirectories
            ? MkdirAll(dir, directoryMode)
            : Open(dir, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
    }

    /// <summary>
    /// Creates every missing directory of a path inside the root (following existing symlinks
    /// in-root) and returns an O_PATH fd of the final directory.
    /// </summary>
    public SafeFileHandle MkdirAll(string path, uint mode)
    {
        ValidatePath(path);
        var existing = TryOpen(path, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
        if (existing is not null)
        {
            return existing;
        }

        var (parent, name) = Walk(path, followFinal: true, createDirectories: true, mode);
        using (parent)
        {
            if (name == ".")
            {
                return FileCalls.OpenAt(parent, ".", FileCalls.O_PATH | FileCalls.O_DIRECTORY);
            }

            var handle = FileCalls.TryOpenAt(parent, name, FileCalls.O_PATH | FileCalls.O_DIRECTORY | FileCalls.O_NOFOLLOW);
            if (handle is not null)
            {
                return handle;
            }

            MkdirTolerant(parent, name, mode);
            return FileCalls.OpenAt(parent, name, FileCalls.O_PATH | FileCalls.O_DIRECTORY | FileCalls.O_NOFOLLOW);
        }
    }

    /// <summary>statx of a path in-root without following its final symlink; null when missing.</summary>
    public FileStatus? Lstat(string path)
    {
        if (Clean(path).Length == 0)
        {
            return FileCalls.Stat(Handle);
        }

        SafeFileHandle parent;
        string name;
        try
        {
            parent = OpenParent(path, out name);
        }
        catch (SyscallException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
        {
            return null;
        }

        using (parent)
        {
            return FileCalls.TryStatAt(parent, name);
        }
    }

    /// <summary>Removes a path in-root and everything below it; the final symlink itself is removed, never followed.</summary>
    public void RemoveAll(string path)
    {
        SafeFileHandle parent;
        string name;
        try
        {
            parent = OpenParent(path, out name);
        }
        catch (SyscallException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
        {
            return;
        }

        using (parent)
        {
            RemoveAllAt(parent, name);
        }
    }

    /// <summary>Recursively removes a name under a directory fd without following any symlink.</summary>
    public static void RemoveAllAt(SafeFileHandle dir, string name)
    {
        var status = FileCalls.TryStatAt(dir, name);
        if (status is null)
        {
            return;
        }

        if (status.Value.Kind == FileKind.Directory)
        {
            using (var child = FileCalls.OpenAt(dir, name, FileCalls.O_PATH | FileCalls.O_DIRECTORY | FileCalls.O_NOFOLLOW))
            {
                foreach (var entry in ListNames(child))
                {
                    RemoveAllAt(child, entry);
                }
            }

            FileCalls.TryUnlinkAt(dir, name, directory: true);
            return;
        }

        FileCalls.TryUnlinkAt(dir, name);
    }

    /// <summary>Names in a directory fd (without <c>.</c> and <c>..</c>).</summary>
    public static List<string> ListNames(SafeFileHandle dir)
    {
        var path = $"/proc/self/fd/{FileCalls.Fd(dir)}";
        var names = new List<string>();
        try
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(path))
            {
                names.Add(System.IO.Path.GetFileName(entry));
            }
        }
        catch (DirectoryNotFoundException)
        {
            throw new SyscallException("readdir", Errno.ENOENT, path);
        }

        return names;
    }

    public void Dispose() => Handle.Dispose();

    private static void ValidatePath(string path)
    {
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new SyscallException("lookup", Errno.EINVAL, path.Replace("\0", "\\0", StringComparison.Ordinal));
        }
    }

    private static void MkdirTolerant(SafeFileHandle parent, string name, uint mode)
    {
        try
        {
            FileCalls.MkdirAt(parent, name, mode);
        }
        catch (SyscallException e) when (e.Errno == Errno.EEXIST)
        {
            // Created concurrently; the O_NOFOLLOW|O_DIRECTORY open that follows checks what it is.
        }
    }

    private int OpenWithOpenat2(string path, int flags, uint mode, out SafeFileHandle? handle)
    {
        var resolve = FileCalls.RESOLVE_IN_ROOT | FileCalls.RESOLVE_NO_MAGICLINKS;
        if (_options.NoCrossDevice)
        {
            resolve |= FileCalls.RESOLVE_NO_XDEV;
        }

        var target = path.Length == 0 ? "." : path;
        for (var attempt = 0; ; attempt++)
        {
            var rc = FileCalls.OpenAt2(Handle, target, flags, mode, resolve, out handle);

            // EAGAIN: a rename or mount raced with the lookup (openat2(2)); retrying is the documented answer.
            if (rc == -Errno.EAGAIN && attempt < 64)
            {
                continue;
            }

            if (rc is -Errno.ENOSYS or -Errno.E2BIG || (rc == -Errno.EPERM && attempt == 0 && ProbeSeccompBlocksOpenat2()))
            {
                s_openat2Missing = true;
                return -Errno.ENOSYS;
            }

            return rc;
        }
    }

    private bool ProbeSeccompBlocksOpenat2()
    {
        var rc = FileCalls.OpenAt2(Handle, ".", FileCalls.O_PATH, 0, FileCalls.RESOLVE_IN_ROOT, out var probe);
        probe?.Dispose();
        return rc == -Errno.EPERM;
    }

    private SafeFileHandle OpenFallback(string path, int flags, uint mode)
    {
        var noFollow = (flags & FileCalls.O_NOFOLLOW) != 0;
        var (parent, name) = Walk(path, followFinal: !noFollow, createDirectories: false, 0);
        using (parent)
        {
            // The walker left no symlink in the final position unless the caller asked not to follow,
            // so O_NOFOLLOW here also closes the window for a symlink swapped in since.
            var handle = FileCalls.OpenAt(parent, name, flags | FileCalls.O_NOFOLLOW, mode);
            if (_options.NoCrossDevice && FileCalls.Stat(handle).Device != _device)
            {
                handle.Dispose();
                throw new SyscallException("openat", Errno.EXDEV, path);
            }

            return handle;
        }
    }

    /// <summary>
    /// The userspace lookup. Returns an owned O_PATH fd of the directory that holds the final
    /// component and that component's name (<c>.</c> when the path ends at a directory). With
    /// followFinal, a final symlink is resolved (in-root) before returning; a missing final name is
    /// returned as is. With createDirectories, missing intermediate directories are made.
    /// </summary>
    private (SafeFileHandle Parent, string Name) Walk(string path, bool followFinal, bool createDirectories, uint mode)
    {
        var stack = new List<SafeFileHandle> { FileCalls.OpenAt(Handle, ".", FileCalls.O_PATH | FileCalls.O_DIRECTORY) };
        var pending = new Stack<string>();
        PushComponents(pending, path);
        var links = 0;
        try
        {
            while (true)
            {
                if (!HasMeaningful(pending))
                {
                    return (TakeTop(stack), ".");
                }

                var component = pending.Pop();
                if (component.Length == 0 || component == ".")
                {
                    continue;
                }

                if (component == "..")
                {
                    if (stack.Count > 1)
                    {
                        stack[^1].Dispose();
                        stack.RemoveAt(stack.Count - 1);
                    }

                    continue;
                }

                var last = !HasMeaningful(pending);
                if (last && !followFinal)
                {
                    return (TakeTop(stack), component);
                }

                var next = FileCalls.TryOpenAt(stack[^1], component, FileCalls.O_PATH | FileCalls.O_NOFOLLOW);
                if (next is null)
                {
                    if (last)
                    {
                        return (TakeTop(stack), component);
                    }

                    if (!createDirectories)
                    {
                        throw new SyscallException("openat", Errno.ENOENT, path);
                    }

                    MkdirTolerant(stack[^1], component, mode);
                    next = FileCalls.OpenAt(stack[^1], component, FileCalls.O_PATH | FileCalls.O_NOFOLLOW);
                }

                var status = FileCalls.Stat(next);
                if (_options.NoCrossDevice && status.Device != _device)
                {
                    next.Dispose();
                    throw new SyscallException("openat", Errno.EXDEV, path);
                }

                if (status.Kind == FileKind.Symlink)
                {
                    string target;
                    using (next)
                    {
                        if (++links > _options.MaxSymlinks)
                        {
                            throw new SyscallException("openat", Errno.ELOOP, path);
                        }

                        target = FileCalls.ReadLinkAt(next, string.Empty);
                    }

                    if (target.StartsWith('/'))
                    {
                        while (stack.Count > 1)
                        {
                            stack[^1].Dispose();
                            stack.RemoveAt(stack.Count - 1);
                        }
                    }

                    PushComponents(pending, target);
                    continue;
                }

                if (last)
                {
                    next.Dispose();
                    return (TakeTop(stack), component);
                }

                if (status.Kind != FileKind.Directory)
                {
                    next.Dispose();
                    throw new SyscallException("openat", Errno.ENOTDIR, path);
                }

                stack.Add(next);
            }
        }
        finally
        {
            foreach (var handle in stack)
            {
                handle.Dispose();
            }
        }
    }

    private static SafeFileHandle TakeTop(List<SafeFileHandle> stack)
    {
        var top = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return top;
    }

    private static void PushComponents(Stack<string> pending, string path)
    {
        var parts = path.Split('/');
        for (var i = parts.Length - 1; i >= 0; i--)
        {
            if (parts[i].Length > 0 && parts[i] != ".")
            {
                pending.Push(parts[i]);
            }
        }
    }

    private static bool HasMeaningful(Stack<string> pending)
    {
        foreach (var part in pending)
        {
            if (part.Length > 0 && part != ".")
            {
                return true;
            }
        }

        return false;
    }
}
