using System.Net.Sockets;
using System.Text;
using Dashboard.Engine.Api;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Events;
using Dashboard.Engine.Images;
using Dashboard.Engine.Runtime;
using Dashboard.Engine.Store;
using Dashboard.Engine.Volumes;
using Dashboard.Linux;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Dashboard.Engine.Hosting;

/// <summary>Builds and starts the engine: the same code path for <c>dashboard-engine</c> and the tests.</summary>
public static class EngineHost
{
    /// <summary>Builds the app. <paramref name="configure"/> runs after the defaults, so tests can replace seams (runtime, store).</summary>
    public static WebApplication Build(EngineOptions options, Action<IServiceCollection>? configure = null, Action<ILoggingBuilder>? logging = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            // No watcher (an inotify thread and FileSystemWatcher) on appsettings files the engine does not use.
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Host.UseSystemd();
        builder.Logging.ClearProviders();
        if (logging is not null)
        {
            logging(builder.Logging);
        }
        else if ((options.LogFormat ?? (Console.IsOutputRedirected ? "json" : "text")) == "json")
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fffZ ";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
        }

        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<PendingRestore>();
        services.AddSingleton(new EngineDatabase(options.DatabasePath));
        services.AddSingleton<IContainerStore, SqliteContainerStore>();
        services.AddSingleton<IOciRuntime>(sp => new RuntimeCliOciRuntime(options.ResolveRuntimePath(), options.StateRoot, sp.GetRequiredService<ILogger<RuntimeCliOciRuntime>>()));
        services.AddSingleton<SqliteImageRecordStore>();
        services.AddSingleton<ImageService>();
        services.AddSingleton<IImageSource>(sp => sp.GetRequiredService<ImageService>());
        services.AddSingleton<VolumeService>();
        services.AddSingleton<EventBus>();
        services.AddSingleton<Networking.NetworkManager>().AddSingleton<Networking.IContainerNetworking>(sp => sp.GetRequiredService<Networking.NetworkManager>());
        services.AddSingleton<ContainerManager>();
        services.AddSingleton<Exec.ExecManager>();
        services.AddSingleton<IHealthProbe, RuntimeExecHealthProbe>();
        services.AddSingleton<HealthMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<HealthMonitor>());
        services.AddSingleton<Stats.StatsSampler>();
        services.AddHostedService(sp => sp.GetRequiredService<Stats.StatsSampler>());
        services.AddHostedService<MemoryTrimmer>();
        services.AddSingleton(new PeerPolicy((uint)Tmds.Linux.LibC.geteuid(), PeerPolicy.LookupGroup(options.SocketGroup)));
        configure?.Invoke(services);

        // The slim builder's Kestrel core: UseKestrel would add the QUIC transport and HTTPS configuration loading,
        // assemblies an idle engine then keeps mapped (issue 4 bench d). HTTPS is only for the optional TLS listener.
        if (options.TlsListen is not null)
        {
            builder.WebHost.UseKestrelHttpsConfiguration();
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.ListenUnixSocket(options.Socket, listen => listen.Use(next => connection => CheckPeerAsync(connection, next, kestrel.ApplicationServices)).Use(Hijack.Middleware));
            EngineTls.Listen(kestrel, options);
        });

        var app = builder.Build();
        app.UseDockerApi();

        // Routing runs after the version prefix (/v1.43/...) is stripped, so it must not be the implicit first middleware.
        app.UseRouting();
        app.MapSystemEndpoints();
        app.MapContainerEndpoints();
        app.MapHealthEndpoints();
        app.MapImageEndpoints();
        app.MapVolumeEndpoints();
        app.MapArchiveEndpoints();
        app.MapExecEndpoints();
        app.MapAttachEndpoints();
        app.MapStatsEndpoints();
        app.MapBackupEndpoints();
        app.MapRegistryEndpoints();
        app.MapNetworkEndpoints();
        app.MapFallback((HttpContext context) =>
            DockerJson.Json(new ErrorResponse("page not found"), StatusCodes.Status404NotFound));
        return app;
    }

    /// <summary>Prepares directories and the database, reconciles containers, then starts listening and locks the socket down.</summary>
    /// <remarks>
    /// Pending migrations are applied here, in this process, from the embedded db/engine scripts in one transaction
    /// (<see cref="SqliteContainerStore.InitializeAsync"/>); a failure throws EngineException with the database unchanged.
    /// </remarks>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<EngineOptions>();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Dashboard.Engine");
        CreatePrivateDirectory(options.DataRoot, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        CreatePrivateDirectory(options.ContainersDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        CreatePrivateDirectory(options.StateRoot, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(Path.GetDirectoryName(options.Socket)!);
        RemoveStaleSocket(options.Socket);

        await SqliteContainerStore.InitializeAsync(app.Services.GetRequiredService<EngineDatabase>(), cancellationToken);
        await app.Services.GetRequiredService<ContainerManager>().ReconcileAsync(cancellationToken);
        await app.Services.GetRequiredService<Exec.ExecManager>().ReconcileAsync(cancellationToken);
        await app.StartAsync(cancellationToken);
        SecureSocket(options.Socket, app.Services.GetRequiredService<PeerPolicy>().GroupId);
        log.LogInformation("dashboard-engine {Version} (API {ApiVersion}) listening on {Socket}, data root {DataRoot}, state root {StateRoot}",
            ApiPipeline.EngineVersion, ApiPipeline.ApiVersion, options.Socket, options.DataRoot, options.StateRoot);
    }

    private static void CreatePrivateDirectory(string path, UnixFileMode mode)
    {
        if (!Directory.Exists(path))
        {
            Directory.CreateDirectory(path, mode);
        }
    }

    /// <summary>A socket file left by a dead engine is removed; a live engine on the same path is an error, not something to steal.</summary>
    private static void RemoveStaleSocket(string path)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            return;
        }

        if ((File.GetAttributes(path) & FileAttributes.Directory) != 0)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"socket path {path} is a directory");
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            throw new EngineException(ErrorKind.AlreadyExists, $"another engine is listening on {path}");
        }
        catch (SocketException)
        {
            File.Delete(path);
        }
    }

    /// <summary>root:GROUP 0660, or 0600 when the group does not exist (security.md D9).</summary>
    private static unsafe void SecureSocket(string path, uint? groupId)
    {
        if (groupId is { } gid && Environment.IsPrivilegedProcess)
        {
            var bytes = Encoding.UTF8.GetBytes(path + "\0");
            fixed (byte* p = bytes)
            {
                if (Tmds.Linux.LibC.lchown(p, 0, gid) != 0)
                {
                    throw new SyscallException("lchown", Tmds.Linux.LibC.errno, path);
                }
            }
        }

        File.SetUnixFileMode(path, groupId is null
            ? UnixFileMode.UserRead | UnixFileMode.UserWrite
            : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
    }

    private static async Task CheckPeerAsync(ConnectionContext connection, ConnectionDelegate next, IServiceProvider services)
    {
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        var policy = services.GetRequiredService<PeerPolicy>();
        PeerCredentials? peer = socket is null ? null : PeerCredentials.FromSocket(socket);
        if (peer is not { } p || !policy.IsAllowed(p))
        {
            services.GetRequiredService<ILoggerFactory>().CreateLogger("Dashboard.Engine.Socket")
                .LogWarning("refused API connection from pid {Pid} uid {Uid} gid {Gid}", peer?.Pid, peer?.Uid, peer?.Gid);
            var body = "{\"message\":\"permission denied: only root and members of the engine's socket group may use this socket\"}\n"u8.ToArray();
            var head = Encoding.ASCII.GetBytes($"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
            await connection.Transport.Output.WriteAsync(head);
            await connection.Transport.Output.WriteAsync(body);
            await connection.Transport.Output.CompleteAsync();
            return;
        }

        await next(connection);
    }
}
