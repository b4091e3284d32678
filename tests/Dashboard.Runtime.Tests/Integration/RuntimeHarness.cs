using System.Diagnostics;
using Process = System.Diagnostics.Process;
using System.Text;
using Dashboard.Oci.Runtime;
using Dashboard.Testing;

namespace Dashboard.Runtime.Tests.Integration;

/// <summary>Runs the published dashboard-runtime (or runc) against busybox bundles in temp dirs.</summary>
public sealed class RuntimeHarness : IDisposable
{
    private readonly List<string> _dirs = [];

    public RuntimeHarness(string? binary = null)
    {
        Binary = binary ?? FindRuntime();
        StateRoot = NewDir("state");
    }

    public string Binary { get; }

    public string StateRoot { get; }

    /// <summary>Extra environment for every runtime command of this harness (e.g. DASHBOARD_RUNTIME_NO_OPENAT2=1).</summary>
    public Dictionary<string, string> ExtraEnvironment { get; } = [];

    private static readonly Lazy<string> s_protectedRuntime = new(MakeProtectedCopy);

    /// <summary>
    /// The runtime as installed: an immutable copy of the published binary, so it starts init in
    /// the clone child (the fast path; the install script sets the same flag).
    /// </summary>
    public static string FindRuntime()
    {
        _ = FindPublishedRuntime();
        return s_protectedRuntime.Value;
    }

    /// <summary>The published binary as built (writable), with which the runtime re-executes a sealed memfd copy for init.</summary>
    public static string FindPublishedRuntime()
    {
        Requires.Root();
        var dir = Environment.GetEnvironmentVariable("DASHBOARD_BIN");
        var path = dir is null ? null : Path.Combine(dir, "dashboard-runtime");
        if (path is null || !File.Exists(path))
        {
            Requires.Unmet("needs DASHBOARD_BIN pointing at the published binaries (tests/run-all.sh sets it)");
        }

        return path!;
    }

    private static string MakeProtectedCopy()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"dashrt-bin-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "dashboard-runtime");
        File.Copy(FindPublishedRuntime(), path);

        // The shim verb execs the lean supervisor from beside the runtime; without it the in-process one runs.
        var shim = Path.Combine(Path.GetDirectoryName(FindPublishedRuntime())!, "dashboard-shim");
        if (File.Exists(shim))
        {
            File.Copy(shim, Path.Combine(dir, "dashboard-shim"));
        }

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var result = RunWith("chattr", ["+i", path]);
        if (result.ExitCode != 0)
        {
            Requires.Unmet($"chattr +i on {path} failed: {result.Stderr}");
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            RunWith("chattr", ["-i", path]);
            Directory.Delete(dir, recursive: true);
        };
        return path;
    }

    public string NewDir(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"dashrt-{name}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(dir);
        _dirs.Add(dir);
        return dir;
    }

    /// <summary>A bundle with a busybox rootfs and runc's default config, process args set, terminal off.</summary>
    public string Bundle(params string[] args) => Bundle(spec => spec.Process!.Args = [.. args]);

    public string Bundle(Action<Spec> configure)
    {
        Requires.Tool("busybox");
        var bundle = NewDir("bundle");
        var rootfs = Path.Combine(bundle, "rootfs");
        foreach (var d in new[] { "bin", "proc", "sys", "dev", "etc", "tmp" })
        {
            Directory.CreateDirectory(Path.Combine(rootfs, d));
        }

        File.Copy(Requires.FindTool("busybox")!, Path.Combine(rootfs, "bin/busybox"));
        foreach (var applet in new[] { "sh", "ls", "cat", "echo", "true", "false", "sleep", "ps", "id", "grep", "head", "wc", "mkdir", "readlink", "hostname", "touch", "dd", "ulimit", "seq", "tr", "sort", "pwd", "kill", "mount", "env", "printf" })
        {
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        }

        File.WriteAllText(Path.Combine(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        var spec = DefaultSpec.Create();
        spec.Process!.Terminal = false;
        spec.Root!.Readonly = false;
        spec.Linux!.CgroupsPath = $"/dashboard-test/{Guid.NewGuid():N}";
        configure(spec);
        File.WriteAllText(Path.Combine(bundle, "config.json"), RuntimeJson.Serialize(spec));
        return bundle;
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public Result Run(params string[] args) => RunWith(Binary, ["--root", StateRoot, .. args], environment: ExtraEnvironment);

    /// <summary>A file of container <paramref name="id"/> in the state root: "state.json", "config.json" or "exec.fifo".</summary>
    public string StateFile(string id, string name) => Path.Combine(StateRoot, id + "@" + name);

    /// <summary>Whether anything of container <paramref name="id"/> is left in the state root: its entry, a file or a temp file.</summary>
    public bool StateLeft(string id) =>
        Directory.Exists(StateRoot) && Directory.EnumerateFileSystemEntries(StateRoot).Select(p => Path.GetFileName(p)).Any(name =>
            name == id || name.StartsWith(id + "@", StringComparison.Ordinal) || name.StartsWith("." + id + "@", StringComparison.Ordinal));

    /// <summary>
    /// Runs a runtime command with its output in files, not pipes: a created or detached container
    /// inherits the runtime's stdio (as with runc), and would hold a pipe open for its whole life.
    /// </summary>
    public static Result RunWith(string binary, IReadOnlyList<string> args, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var dir = Path.Combine(Path.GetTempPath(), "dashrt-out-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("exec \"$0\" \"$@\" >\"$DASHRT_OUT\" 2>\"$DASHRT_ERR\" </dev/null");
            psi.ArgumentList.Add(binary);
            foreach (var a in args)
            {
                psi.ArgumentList.Add(a);
            }

            foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            {
                psi.Environment[key] = value;
            }

            psi.Environment["DASHRT_OUT"] = Path.Combine(dir, "out");
            psi.Environment["DASHRT_ERR"] = Path.Combine(dir, "err");
            using var process = Process.Start(psi)!;
            if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{binary} {string.Join(' ', args)} did not finish");
            }

            return new Result(process.ExitCode, File.ReadAllText(Path.Combine(dir, "out")), File.ReadAllText(Path.Combine(dir, "err")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>run + capture of a container whose process prints what the test inspects.</summary>
    public Result RunContainer(string bundle, string? id = null) => Run("run", "--bundle", bundle, id ?? NewId());

    public static string NewId() => "t" + Guid.NewGuid().ToString("N")[..12];

    public static string HostCgroupDir(string controller, string cgroupsPath) => $"/sys/fs/cgroup/{controller}{cgroupsPath}";

    public void Dispose()
    {
        // Each container's entry: a file named by its id (a directory in the layout of earlier versions).
        var entries = Directory.Exists(StateRoot) ? Directory.GetFileSystemEntries(StateRoot) : [];
        foreach (var id in entries.Where(e => !Path.GetFileName(e).StartsWith('.') && !Path.GetFileName(e).Contains('@', StringComparison.Ordinal)))
        {
            RunWith(Binary, ["--root", StateRoot, "delete", "--force", Path.GetFileName(id)], environment: ExtraEnvironment);
        }

        foreach (var dir in _dirs)
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    public static string Sh(string script) => script;

    public static string Lines(params string[] lines) => new StringBuilder().AppendJoin('\n', lines).ToString();
}
