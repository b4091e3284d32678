using Dashboard.Testing;

namespace Dashboard.Engine.Tests.Fakes;

/// <summary>A test engine driving the published <c>dashboard-runtime</c> (DASHBOARD_BIN) as root, with its cgroups removed on dispose.</summary>
public sealed class RealEngine : IAsyncDisposable
{
    private readonly string _cgroupParent;

    private RealEngine(TestEngine engine, string cgroupParent)
    {
        Engine = engine;
        _cgroupParent = cgroupParent;
    }

    public TestEngine Engine { get; }

    public static async Task<RealEngine> StartAsync()
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

        var parent = "/dashboard-test/engine-" + Guid.NewGuid().ToString("N")[..8];
        return new RealEngine(await TestEngine.StartWithRuntimeBinaryAsync(runtime, parent), parent);
    }

    public async ValueTask DisposeAsync()
    {
        // Containers outlive the engine by design; a test that failed midway must not leave them running.
        foreach (var c in await Engine.Manager.Store.ListContainersAsync())
        {
            await Engine.Manager.RemoveAsync(c.Id, force: true, removeVolumes: true, CancellationToken.None);
        }

        await Engine.DisposeAsync();
        foreach (var controller in Directory.Exists("/sys/fs/cgroup") ? Directory.GetDirectories("/sys/fs/cgroup") : [])
        {
            var dir = controller + _cgroupParent;
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
