using Microsoft.AspNetCore.Builder;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Hosting;
using Dashboard.Engine.Images;
using Dashboard.Engine.Runtime;
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

    public static string NewRoot()
    {
        var root = Path.Combine(Path.GetTempPath(), "det-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(root);
        AddImage(Path.Combine(root, "data"), "busybox:latest", """{"config":{"Cmd":["sh"],"Env":["IMAGE_VAR=1"],"Labels":{"from":"image"}}}""");
        return root;
    }

    public static void AddImage(string dataRoot, string reference, string configJson)
    {
        var dir = Path.Combine(dataRoot, "rootfs-images", DirectoryImageSource.DirectoryName(reference));
        Directory.CreateDirectory(Path.Combine(dir, "rootfs", "etc"));
        File.WriteAllText(Path.Combine(dir, "rootfs", "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\n");
        File.WriteAllText(Path.Combine(dir, "rootfs", "etc", "group"), "root:x:0:\nwww:x:33:\nextra:x:500:www\n");
        File.WriteAllText(Path.Combine(dir, "config.json"), configJson);
    }

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
                }
            },
            logging => { });
        await EngineHost.StartAsync(app, TestContext.Current.CancellationToken);
        return new TestEngine(root, app, runtime, options);
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
        await StopKeepingFilesAsync();
        Directory.Delete(Root, recursive: true);
    }
}
