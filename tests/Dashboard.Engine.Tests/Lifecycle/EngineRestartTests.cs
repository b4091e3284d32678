using System.Globalization;
using System.Text.RegularExpressions;
using Dashboard.Engine.Tests.Fakes;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Lifecycle;

/// <summary>
/// Issue 4 "Must show" engine restart test (security.md E1): the published engine is SIGKILLed while
/// containers run and log, one exits meanwhile, and a new engine on the same directories takes over.
/// </summary>
public sealed partial class EngineRestartTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Logger = "trap 'exit 143' TERM; i=0; while true; do echo seq $i; i=$((i+1)); usleep 20000; done";

    [GeneratedRegex(@"^seq (\d+)$")]
    private static partial Regex SeqLine();

    private static async Task<List<int>> SequenceAsync(DockerClient client, string id)
    {
        using var stream = await client.Containers.GetContainerLogsAsync(id, new ContainerLogsParameters { ShowStdout = true, ShowStderr = true }, Ct);
        var (stdout, _) = await stream.ReadOutputToEndAsync(Ct);
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => SeqLine().Match(l))
            .Select(m => m.Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : -1)
            .ToList();
    }

    private static async Task<string> RunAsync(DockerClient client, string name, string script)
    {
        var id = (await client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "bb", Name = name, Cmd = ["sh", "-c", script] }, Ct)).ID;
        await client.Containers.StartContainerAsync(id, new ContainerStartParameters(), Ct);
        return id;
    }

    private static async Task LoadBusyboxAsync(DockerClient client)
    {
        await client.Images.LoadImageAsync(new ImageLoadParameters { Quiet = true }, new MemoryStream(TestImages.RealBusybox("bb:latest")), new Progress<JSONMessage>(), Ct);
    }

    /// <summary>Removes the containers through the engine (a failure there fails the test), then whatever is left on the host.</summary>
    internal static async Task CleanUpAsync(string root, EngineProcess? engine)
    {
        try
        {
            if (engine is not null)
            {
                foreach (var c in await engine.Client.Containers.ListContainersAsync(new ContainersListParameters { All = true }, CancellationToken.None))
                {
                    await engine.Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true }, CancellationToken.None);
                }
            }
        }
        finally
        {
            engine?.Dispose();
            RealEngine.RemoveCgroups(EngineProcess.CgroupParent(root));
            TestEngine.RemoveAll(root);
        }
    }

    [Fact]
    public async Task SigkillEngine_ContainersKeepRunningLogsHaveNoGap_ExitedOneHasItsCode()
    {
        EngineProcess.Binary();
        var root = TestEngine.NewRoot();
        EngineProcess? engine = null;
        try
        {
            engine = await EngineProcess.StartAsync(root);
            await LoadBusyboxAsync(engine.Client);
            var loggers = new[] { await RunAsync(engine.Client, "log1", Logger), await RunAsync(engine.Client, "log2", Logger) };
            var quitter = await RunAsync(engine.Client, "quitter", "echo bye; sleep 2; exit 42");
            await Poll.UntilAsync(async () => (await SequenceAsync(engine.Client, loggers[0])).Count >= 10, TimeSpan.FromSeconds(20), "the first log lines");

            engine.Kill();
            engine = null;

            // The quitter exits while no engine runs; the loggers keep writing through their shims.
            await Task.Delay(3000, Ct);
            engine = await EngineProcess.StartAsync(root);

            foreach (var id in loggers)
            {
                var inspect = await engine.Client.Containers.InspectContainerAsync(id, Ct);
                Assert.True(inspect.State!.Running, $"{inspect.Name} is {inspect.State.Status}");
            }

            var quit = await engine.Client.Containers.WaitContainerAsync(quitter, Ct);
            Assert.Equal(42, quit.StatusCode);
            var quitInspect = await engine.Client.Containers.InspectContainerAsync(quitter, Ct);
            Assert.Equal("exited", quitInspect.State!.Status);
            Assert.Equal(42, quitInspect.State.ExitCode);

            var before = (await SequenceAsync(engine.Client, loggers[0])).Count;
            await Poll.UntilAsync(async () => (await SequenceAsync(engine.Client, loggers[0])).Count > before + 10, TimeSpan.FromSeconds(20), "log lines after the restart");
            foreach (var id in loggers)
            {
                var seq = await SequenceAsync(engine.Client, id);
                Assert.True(seq.Count > 150, $"only {seq.Count} lines");
                Assert.Equal(Enumerable.Range(0, seq.Count), seq);
            }

            // The new engine manages the adopted containers: stop works and records the signal's code.
            await engine.Client.Containers.StopContainerAsync(loggers[1], new ContainerStopParameters { WaitBeforeKillSeconds = 5 }, Ct);
            Assert.Equal(143, (await engine.Client.Containers.InspectContainerAsync(loggers[1], Ct)).State!.ExitCode);
        }
        finally
        {
            await CleanUpAsync(root, engine);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(170)]
    public async Task SigkillEngine_DuringCreateStartRemove_ConsistentAfterRestart(int killAfterMs)
    {
        EngineProcess.Binary();
        var root = TestEngine.NewRoot();
        EngineProcess? engine = null;
        try
        {
            engine = await EngineProcess.StartAsync(root);
            await LoadBusyboxAsync(engine.Client);
            var client = engine.Client;
            using var stop = new CancellationTokenSource();
            var created = 0;
            var churn = Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    try
                    {
                        var id = (await client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "bb", Name = $"churn{i}", Cmd = ["sleep", "1000"] }, stop.Token)).ID;
                        Interlocked.Increment(ref created);
                        await client.Containers.StartContainerAsync(id, new ContainerStartParameters(), stop.Token);
                        if (i % 2 == 0)
                        {
                            await client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }, stop.Token);
                        }
                    }
                    catch (ObjectDisposedException)
                    {
                        return;
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException or DockerApiException or OperationCanceledException or System.Net.Sockets.SocketException)
                    {
                        await Task.Delay(10, CancellationToken.None);
                    }
                }
            }, Ct);
            // Kill once the churn is under way, at a point inside some create, start or remove.
            await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref created) >= 2), TimeSpan.FromSeconds(60), "the first creates");
            await Task.Delay(killAfterMs, Ct);
            engine.Kill();
            engine = null;
            await stop.CancelAsync();
            await churn;

            engine = await EngineProcess.StartAsync(root);
            var containers = await engine.Client.Containers.ListContainersAsync(new ContainersListParameters { All = true }, Ct);
            Assert.NotEmpty(containers);
            var ids = containers.Select(c => c.ID).ToHashSet();
            var dirs = Directory.GetDirectories(Path.Combine(root, "data", "containers")).Select(Path.GetFileName).ToHashSet();
            Assert.Equal(ids.Order(), dirs.Order()!);

            foreach (var c in containers)
            {
                var inspect = await engine.Client.Containers.InspectContainerAsync(c.ID, Ct);
                var procs = CgroupProcs(EngineProcess.CgroupParent(root), c.ID);
                if (inspect.State!.Running)
                {
                    Assert.True(Directory.Exists("/proc/" + inspect.State.Pid), $"{c.ID} running with a dead pid");
                    Assert.Contains((int)inspect.State.Pid, procs);
                }
                else
                {
                    Assert.True(procs.Count == 0, $"{c.ID} is {inspect.State.Status} but has processes {string.Join(',', procs)}");
                }
            }

            // Every mount under the root belongs to a container the engine knows.
            foreach (var mount in Mounts(root))
            {
                Assert.Contains(ids, id => mount.Contains(id, StringComparison.Ordinal));
            }

            foreach (var c in containers)
            {
                await engine.Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true }, Ct);
            }

            Assert.Empty(Mounts(root));
            Assert.Empty(Directory.GetDirectories(Path.Combine(root, "data", "containers")));
        }
        finally
        {
            await CleanUpAsync(root, engine);
        }
    }

    private static List<string> Mounts(string root) =>
        File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(p => p.StartsWith(root + "/", StringComparison.Ordinal)).ToList();

    private static List<int> CgroupProcs(string parent, string id)
    {
        var file = $"/sys/fs/cgroup/pids{parent}/{id}/cgroup.procs";
        if (!File.Exists(file))
        {
            file = $"/sys/fs/cgroup/unified{parent}/{id}/cgroup.procs";
        }

        return File.Exists(file)
            ? File.ReadAllLines(file).Where(l => l.Length > 0).Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToList()
            : [];
    }
}
