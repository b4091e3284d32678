using System.Globalization;
using Dashboard.Linux;
using Dashboard.Linux.Native;

namespace Dashboard.Runtime.Cgroups;

/// <summary>
/// The drivers' one seam to cgroupfs. Paths are host paths (<c>/sys/fs/cgroup/…</c>); a root other than
/// "/" maps them into a directory, so tests run against a fake tree (the test double also emulates what
/// mkdir/rmdir do on cgroupfs and records every write).
/// </summary>
internal class CgroupFs
{
    public CgroupFs(string root = "/")
    {
        Root = root == "/" ? "" : root.TrimEnd('/');
    }

    /// <summary>The prefix host paths are mapped under ("" for the real filesystem).</summary>
    public string Root { get; }

    public string Map(string hostPath) => Root + hostPath;

    public virtual string Read(string path)
    {
        try
        {
            return CgroupSyscalls.ReadFile(Map(path));
        }
        catch (SyscallException e)
        {
            throw new CgroupException(CgroupErrorKind.Io, $"read {path}: {e.Message}", e);
        }
    }

    /// <summary>The file's text, or null when it does not exist (a controller or feature the kernel lacks).</summary>
    public string? TryRead(string path)
    {
        try
        {
            return Read(path);
        }
        catch (CgroupException e) when (e.InnerException is SyscallException { Errno: Errno.ENOENT or Errno.ENODEV or Errno.EOPNOTSUPP })
        {
            return null;
        }
    }

    public virtual void Write(string path, string value)
    {
        try
        {
            CgroupSyscalls.WriteFile(Map(path), value);
        }
        catch (SyscallException e)
        {
            throw new CgroupException(CgroupErrorKind.Io, $"failed to write \"{value.TrimEnd('\n')}\": {e.Message}", e);
        }
    }

    /// <summary>Each value as its own request (write) to one control file, opened once.</summary>
    public virtual void WriteEach(string path, IReadOnlyList<string> values)
    {
        var fd = -1;
        var value = values.Count > 0 ? values[0] : "";
        try
        {
            fd = CgroupSyscalls.OpenWriteOnly(Map(path));
            foreach (var each in values)
            {
                value = each;
                CgroupSyscalls.WriteValue(fd, Map(path), each);
            }
        }
        catch (SyscallException e)
        {
            throw new CgroupException(CgroupErrorKind.Io, $"failed to write \"{value.TrimEnd('\n')}\": {e.Message}", e);
        }
        finally
        {
            if (fd >= 0)
            {
                CgroupSyscalls.Close(fd);
            }
        }
    }

    public virtual bool Exists(string path) => Path.Exists(Map(path));

    /// <summary>mkdir; true when the directory was created, false when it existed.</summary>
    public virtual bool CreateDirectory(string path)
    {
        try
        {
            return CgroupSyscalls.MakeDirectory(Map(path));
        }
        catch (SyscallException e)
        {
            throw new CgroupException(CgroupErrorKind.Io, e.Message, e);
        }
    }

    /// <summary>rmdir; returns 0 or the errno.</summary>
    public virtual int TryRemoveDirectory(string path) => CgroupSyscalls.TryRemoveDirectory(Map(path));

    public virtual IReadOnlyList<string> SubDirectories(string path)
    {
        try
        {
            return [.. new DirectoryInfo(Map(path)).EnumerateDirectories().Select(d => path.TrimEnd('/') + "/" + d.Name)];
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    public virtual IReadOnlyList<string> FileNames(string path)
    {
        try
        {
            return [.. new DirectoryInfo(Map(path)).EnumerateFiles().Select(f => f.Name)];
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    /// <summary>
    /// Installs a compiled device program on a cgroup2 directory, replacing the ones it had: the new
    /// program is attached before the old ones are detached, so there is no moment without a filter.
    /// </summary>
    public virtual void ApplyDeviceFilter(string dir, ulong[] program)
    {
        var path = Map(dir);
        try
        {
            var old = CgroupBpf.QueryDevicePrograms(path);
            var fd = CgroupBpf.LoadDeviceProgram(program);
            try
            {
                CgroupBpf.AttachDeviceProgram(path, fd);
            }
            finally
            {
                CgroupBpf.Close(fd);
            }

            foreach (var id in old)
            {
                CgroupBpf.DetachDeviceProgram(path, id);
            }
        }
        catch (SyscallException e)
        {
            throw new CgroupException(CgroupErrorKind.Io, $"set device filter on {dir}: {e.Message}", e);
        }
    }

    /// <summary>A control file holding one unsigned number ("max" reads as <see cref="ulong.MaxValue"/>); null when absent.</summary>
    public ulong? TryReadUInt64(string path)
    {
        var text = TryRead(path)?.Trim();
        return text switch
        {
            null or "" => null,
            "max" => ulong.MaxValue,
            _ => ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
                : long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var s) && s < 0 ? ulong.MaxValue
                : throw new CgroupException(CgroupErrorKind.Io, $"read {path}: unexpected content \"{text}\""),
        };
    }
}
