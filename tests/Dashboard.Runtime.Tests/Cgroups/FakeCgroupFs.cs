using Dashboard.Linux;
using Dashboard.Runtime.Cgroups;

namespace Dashboard.Runtime.Tests.Cgroups;

/// <summary>
/// A cgroupfs stand-in in a temp directory: mkdir fills a new cgroup with the control files the kernel
/// would show (per hierarchy, or per enabled controller on v2), rmdir refuses busy cgroups as the kernel
/// does, subtree_control and freeze writes update what the kernel derives from them, and every write is recorded.
/// </summary>
internal sealed class FakeCgroupFs : CgroupFs, IDisposable
{
    private readonly Func<string, IReadOnlyDictionary<string, string>> _filesFor;

    public FakeCgroupFs(string root, Func<string, IReadOnlyDictionary<string, string>> filesFor)
        : base(root)
    {
        _filesFor = filesFor;
    }

    public List<(string Path, string Value)> Writes { get; } = [];

    public List<string> Removed { get; } = [];

    public List<(string Dir, ulong[] Program)> DeviceFilters { get; } = [];

    public override void ApplyDeviceFilter(string dir, ulong[] program) => DeviceFilters.Add((dir, program));

    public override void WriteEach(string path, IReadOnlyList<string> values)
    {
        foreach (var value in values)
        {
            Write(path, value);
        }
    }

    public override void Write(string path, string value)
    {
        Writes.Add((path, value));
        if (path.EndsWith("/cgroup.subtree_control", StringComparison.Ordinal))
        {
            var enabled = new List<string>(ReadHost(path).Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries));
            var available = ReadHost(Parent(path) + "/cgroup.controllers").Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            foreach (var token in value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var name = token[1..];
                if (!available.Contains(name))
                {
                    throw new CgroupException(CgroupErrorKind.Io, $"write {path}: no such file or directory", new SyscallException("write", Errno.ENOENT, path));
                }

                enabled.Remove(name);
                if (token[0] == '+')
                {
                    enabled.Add(name);
                }
            }

            File.WriteAllText(Map(path), string.Join(' ', enabled));
            return;
        }

        base.Write(path, value);
        if (path.EndsWith("/cgroup.freeze", StringComparison.Ordinal))
        {
            File.WriteAllText(Map(Parent(path) + "/cgroup.events"), $"populated 0\nfrozen {value.Trim()}\n");
        }
    }

    public override bool CreateDirectory(string path)
    {
        var created = base.CreateDirectory(path);
        if (created)
        {
            foreach (var (name, content) in _filesFor(path))
            {
                File.WriteAllText(Map(path + "/" + name), content);
            }
        }

        return created;
    }

    public override int TryRemoveDirectory(string path)
    {
        var dir = Map(path);
        if (!Directory.Exists(dir))
        {
            return Errno.ENOENT;
        }

        if (Directory.EnumerateDirectories(dir).Any() || (File.Exists(dir + "/cgroup.procs") && File.ReadAllText(dir + "/cgroup.procs").Trim().Length > 0))
        {
            return Errno.EBUSY;
        }

        Directory.Delete(dir, recursive: true);
        Removed.Add(path);
        return 0;
    }

    public string ReadHost(string path) => File.Exists(Map(path)) ? File.ReadAllText(Map(path)) : "";

    /// <summary>Sets a file as the kernel would show it (creating directories on the way).</summary>
    public void Seed(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Map(path))!);
        File.WriteAllText(Map(path), content);
    }

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    private static string Parent(string path) => path[..path.LastIndexOf('/')];
}
