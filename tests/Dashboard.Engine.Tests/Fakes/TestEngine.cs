using Microsoft.AspNetCore.Builder;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Hosting;
using Dashboard.Engine.Images;
using Dashboard.Engine.Runtime;
using Dashboard.Testing;
using Docker.DotNet;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Engine.Tests.Fakes;

/// <summary>A real engine (Kestrel on a unix socket in a temp dir, SQLite, the HTTP pipeline) driving a <see cref="FakeOciRuntime"/>.</summary>
public sealed class TestEngine : IAsyncDisposable
{
    private TestEngine(string root, WebApplication app, FakeOciRuntime runtime, EngineOptions options)
    {
        Root = root;
        App = app;
        Runtime = runtime;
        Options = options;
        Client = new DockerClientBuilder().WithEndpoint(new Uri("unix://" + options.Socket)).WithApiVersion(new Version(1, 43)).Build();
    }

    private bool _stopped;

    public string Root { get; }
    public WebApplication App { get; }
    public FakeOciRuntime Runtime { get; }
    public EngineOptions Options { get; }
    public DockerClient Client { get; }
    public string Socket => Options.Socket;
    public ContainerManager Manager => App.Services.GetRequiredService<ContainerManager>();

    public static Task<TestEngine> StartAsync(FakeOciRuntime? runtime = null, string? root = null) =>
        StartCoreAsync(runtime ?? new FakeOciRuntime(), root ?? NewRoot(), runtimeBinary: null);

    /// <summary>An engine that drives <paramref name="runtimeBinary"/> through the real <c>RuntimeCliOciRuntime</c>.</summary>
    public static Task<TestEngine> StartWithRuntimeBinaryAsync(string runtimeBinary, string cgroupParent = "/dashboard-test/engine") =>
        StartCoreAsync(new FakeOciRuntime(), NewRoot(), runtimeBinary, cgroupParent);

    public ImageService Images => App.Services.GetRequiredService<ImageService>();

    public static string NewRoot()
    {
        var root = Path.Combine(Path.GetTempPath(), "det-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(root);
        return root;
    }

    /// <summary>Loads an image archive (<see cref="TestImages"/>) as <c>POST /images/load</c> does.</summary>
    public async Task<IReadOnlyList<string>> LoadAsync(byte[] archive) =>
        await Images.LoadAsync(new MemoryStream(archive), TestContext.Current.CancellationToken);

    private static async Task<TestEngine> StartCoreAsync(FakeOciRuntime runtime, string root, string? runtimeBinary, string cgroupParent = "/dashboard-test/engine")
    {
        var options = new EngineOptions
        {
            DataRoot = Path.Combine(root, "data"),
            StateRoot = Path.Combine(root, "state"),
            Socket = Path.Combine(root, "engine.sock"),
            SocketGroup = "dashboard-test-no-such-group",
            LogMaxSize = 4096,
            LogMaxFiles = 3,
            RuntimePath = runtimeBinary,
            CgroupParent = cgroupParent,
        };
        var app = EngineHost.Build(
            options,
            services =>
            {
                if (runtimeBinary is null)
                {
                    services.AddSingleton<IOciRuntime>(runtime);
                    services.AddSingleton<Dashboard.Engine.Networking.IContainerNetworking>(new Networking.FakeContainerNetworking());
                }
            },
            logging => { });
        // Container root filesystems are overlay mounts (root only).
        Requires.Root();
        var engine = new TestEngine(root, app, runtime, options);
        try
        {
            await EngineHost.StartAsync(app, TestContext.Current.CancellationToken);
            if (await engine.Images.FindAsync("busybox", TestContext.Current.CancellationToken) is null)
            {
                await engine.LoadAsync(runtimeBinary is null ? TestImages.FakeBusybox() : TestImages.RealBusybox());
            }
        }
        catch
        {
            // A start that failed half way (a timeout under load) may have made the default bridge; the root exists.
            try
            {
                await engine.DisposeAsync();
            }
            catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or IOException)
            {
            }

            throw;
        }

        return engine;
    }

    /// <summary>
    /// Streams <c>GET /events</c> into <paramref name="onEvent"/> (in order, on the reading thread, unlike
    /// <see cref="Progress{T}"/>) and returns the stream's task once its subscription is in place: an event published
    /// after this returns is seen. Other parts of the engine (the health monitor) subscribe too, so this waits for one
    /// subscriber more than before.
    /// </summary>
    public async Task<Task> MonitorEventsAsync(Docker.DotNet.Models.ContainerEventsParameters parameters, Action<Docker.DotNet.Models.Message> onEvent, CancellationToken cancellationToken)
    {
        var bus = App.Services.GetRequiredService<Dashboard.Engine.Events.EventBus>();
        var before = bus.SubscriberCount;
        var monitor = Client.System.MonitorEventsAsync(parameters, new SyncProgress<Docker.DotNet.Models.Message>(onEvent), cancellationToken);
        await Lifecycle.Poll.UntilAsync(() => Task.FromResult(bus.SubscriberCount > before || monitor.IsCompleted), TimeSpan.FromSeconds(30), "the events stream's subscription");
        return monitor;
    }

    private sealed class SyncProgress<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }

    /// <summary>Stops this engine process-equivalent, keeping its directories (for restart tests).</summary>
    public async Task StopKeepingFilesAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopKeepingFilesAsync();
        }
        finally
        {
            RemoveAll(Root);
        }
    }

    /// <summary>
    /// Deletes an engine root, unmounting container root filesystems first (deleting through them would fail on the mount points),
    /// and removes the bridges that engine created (the default one outlives the engine by design).
    /// </summary>
    public static void RemoveAll(string root)
    {
        Dashboard.Engine.Networking.NetworkManager.RemoveHostBridgesAsync(Path.Combine(root, "state")).GetAwaiter().GetResult();
        var containers = Path.Combine(root, "data", "containers");
        foreach (var dir in Directory.Exists(containers) ? Directory.GetDirectories(containers) : [])
        {
            Dashboard.Images.Rootfs.ContainerRootfs.Open(dir).Remove();
        }

        Directory.Delete(root, recursive: true);
    }
}
