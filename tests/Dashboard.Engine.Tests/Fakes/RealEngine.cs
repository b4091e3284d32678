using System.Diagnostics;
using Dashboard.Testing;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Fakes;

/// <summary>
/// An engine driving the published <c>dashboard-runtime</c> (DASHBOARD_BIN) with a busybox-static
/// image <c>bb</c> (and <c>busybox</c>) loaded into its store, as root; cgroups under a test-specific parent below <c>/dashboard-test</c>.
/// </summary>
public sealed class RealEngine : IAsyncDisposable
{
    private RealEngine(TestEngine engine, string cgroupParent)
    {
        Engine = engine;
        CgroupParent = cgroupParent;
    }

    public TestEngine Engine { get; }

    public string CgroupParent { get; }

    public Docker.DotNet.DockerClient Client => Engine.Client;

    public static string RuntimeBinary()
    {
        Requires.Root();
        var bin = Environment.GetEnvironmentVariable("DASHBOARD_BIN");
        var runtime = string.IsNullOrEmpty(bin) ? "" : Path.Combine(bin, "dashboard-runtime");
        if (!File.Exists(runtime))
        {
            Requires.Unmet("needs DASHBOARD_BIN with a published dashboard-runtime (tests/run-all.sh sets it)");
        }

        if (!File.Exists("/bin/busybox"))
        {
            Requires.Unmet("needs busybox-static (/bin/busybox)");
        }

        return runtime;
    }

    public static async Task<RealEngine> StartAsync()
    {
        var runtime = RuntimeBinary();
        var parent = "/dashboard-test/engine-" + Guid.NewGuid().ToString("N")[..8];
        var engine = await TestEngine.StartWithRuntimeBinaryAsync(runtime, parent);
        await engine.LoadAsync(TestImages.RealBusybox("bb:latest"));
        return new RealEngine(engine, parent);
    }

    /// <summary>Creates and starts a container of image bb; returns its id.</summary>
    public async Task<string> RunAsync(string name, IList<string> cmd, bool tty = false, bool openStdin = false, CancellationToken ct = default)
    {
        var c = await Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "bb", Name = name, Cmd = cmd, Tty = tty, OpenStdin = openStdin, AttachStdin = openStdin }, ct);
        await Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), ct);
        return c.ID;
    }

    /// <summary>Runs the docker CLI against this engine; <paramref name="stdin"/> is written then closed.</summary>
    public async Task<(int Code, string Stdout, string Stderr)> DockerAsync(string? stdin, params string[] args)
    {
        var psi = new ProcessStartInfo(Requires.FindTool("docker")!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["-H", "unix://" + Engine.Socket, .. args])
        {
            psi.ArgumentList.Add(a);
        }

        DockerEnvironment(psi, Engine.Root);
        return await RunAsync(psi, stdin);
    }

    public static void DockerEnvironment(ProcessStartInfo psi, string root)
    {
        psi.Environment["DOCKER_CONFIG"] = Path.Combine(root, "docker-config");
        psi.Environment.Remove("DOCKER_HOST");
        psi.Environment.Remove("DOCKER_CONTEXT");
    }

    /// <summary>Runs a tool; its stdin gets <paramref name="stdin"/> and is closed, or stays open until it exits when <paramref name="keepStdinOpen"/>.</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(ProcessStartInfo psi, string? stdin, bool keepStdinOpen = false)
    {
        using var process = Process.Start(psi)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        if (!keepStdinOpen)
        {
            process.StandardInput.Close();
        }
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var c in await Client.Containers.ListContainersAsync(new ContainersListParameters { All = true }))
            {
                await Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true });
            }
        }
        finally
        {
            await Engine.DisposeAsync();
            RemoveCgroups(CgroupParent);
        }
    }

    /// <summary>
    /// Removes the engine's cgroups below <paramref name="parent"/>. Processes a failed test left in them (a container
    /// whose removal failed) are SIGKILLed first, or the rmdir would fail and leave them running.
    /// </summary>
    public static void RemoveCgroups(string parent)
    {
        KillProcesses(parent);
        foreach (var controller in Directory.Exists("/sys/fs/cgroup") ? Directory.GetDirectories("/sys/fs/cgroup") : [])
        {
            var dir = controller + parent;
            if (Directory.Exists(dir))
            {
                foreach (var child in Directory.GetDirectories(dir))
                {
                    TryRemove(child);
                }

                TryRemove(dir);
            }
        }
    }

    private static void KillProcesses(string parent)
    {
        var dir = "/sys/fs/cgroup/pids" + parent;
        if (!Directory.Exists(dir))
        {
            dir = "/sys/fs/cgroup/unified" + parent;
        }

        if (!Directory.Exists(dir))
        {
            return;
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var pids = Directory.GetFiles(dir, "cgroup.procs", SearchOption.AllDirectories)
                .SelectMany(f => File.ReadAllLines(f))
                .Where(l => l.Length > 0)
                .Select(l => int.Parse(l, System.Globalization.CultureInfo.InvariantCulture))
                .ToList();
            if (pids.Count == 0 || DateTime.UtcNow > deadline)
            {
                return;
            }

            foreach (var pid in pids)
            {
                _ = Dashboard.Linux.Native.Sys.Kill(pid, 9);
            }

            Thread.Sleep(50);
        }
    }

    private static void TryRemove(string cgroupDir)
    {
        try
        {
            Directory.Delete(cgroupDir);
        }
        catch (IOException)
        {
        }
    }
}
