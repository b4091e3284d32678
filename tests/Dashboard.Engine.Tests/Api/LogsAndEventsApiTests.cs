using System.Text;
using Dashboard.Engine.Tests.Fakes;
using Dashboard.Engine.Tests.Lifecycle;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Api;

public sealed class LogsAndEventsApiTests : IAsyncLifetime
{
    private TestEngine _engine = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _engine = await TestEngine.StartAsync();

    public async ValueTask DisposeAsync() => await _engine.DisposeAsync();

    private async Task<string> RunAsync(string name, params string[] cmd)
    {
        var c = await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Name = name, Cmd = cmd }, Ct);
        await _engine.Client.Containers.StartContainerAsync(c.ID, new ContainerStartParameters(), Ct);
        return c.ID;
    }

    [Fact]
    public async Task Logs_Multiplexed_SeparatesStdoutAndStderr()
    {
        var id = await RunAsync("talker", "sleep", "1000");
        _engine.Runtime.Print(id, "stdout", "hello");
        _engine.Runtime.Print(id, "stderr", "oops");
        _engine.Runtime.Print(id, "stdout", "world");

        using var stream = await _engine.Client.Containers.GetContainerLogsAsync(id, new ContainerLogsParameters { ShowStdout = true, ShowStderr = true }, Ct);
        var (stdout, stderr) = await stream.ReadOutputToEndAsync(Ct);
        Assert.Equal("hello\nworld\n", stdout);
        Assert.Equal("oops\n", stderr);
    }

    [Fact]
    public async Task Logs_TailAndTimestamps_LastLinesWithRfc3339Nano()
    {
        var id = await RunAsync("tail", "sleep", "1000");
        for (var i = 0; i < 10; i++)
        {
            _engine.Runtime.Print(id, "stdout", $"line {i}");
        }

        using var stream = await _engine.Client.Containers.GetContainerLogsAsync(id, new ContainerLogsParameters { ShowStdout = true, Tail = "2", Timestamps = true }, Ct);
        var (stdout, _) = await stream.ReadOutputToEndAsync(Ct);
        var lines = stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 8$", lines[0]);
        Assert.EndsWith(" line 9", lines[1]);
    }

    [Fact]
    public async Task Logs_FollowAcrossRotation_EveryLineOnce()
    {
        var id = await RunAsync("rotor", "sleep", "1000");
        _engine.Runtime.Print(id, "stdout", "first");
        using var stream = await _engine.Client.Containers.GetContainerLogsAsync(id, new ContainerLogsParameters { ShowStdout = true, Follow = true }, Ct);
        var received = new StringBuilder();
        var reader = Task.Run(
            async () =>
            {
                var buffer = new byte[4096];
                while (await stream.ReadOutputAsync(buffer, 0, buffer.Length, Ct) is { EOF: false } read)
                {
                    lock (received)
                    {
                        received.Append(Encoding.UTF8.GetString(buffer, 0, read.Count));
                    }
                }
            },
            Ct);
        int Received()
        {
            lock (received)
            {
                return received.ToString().Count(c => c == '\n');
            }
        }

        // 4 KiB files, 3 kept: 300 lines of ~60 bytes rotate the log several times while the reader follows. Each batch of
        // 50 lines (3 KB) is read before the next is written; a reader stalled (under load) for longer than two rotations
        // would miss the files rotated away meanwhile, as Docker's follower would.
        for (var i = 0; i < 300; i++)
        {
            _engine.Runtime.Print(id, "stdout", $"line {i:D4} " + new string('x', 20));
            if (i % 50 == 0)
            {
                var expected = i + 2;
                await Poll.UntilAsync(() => Task.FromResult(Received() >= expected), TimeSpan.FromSeconds(30), $"{expected} lines");
            }
        }

        await Poll.UntilAsync(() => Task.FromResult(Received() >= 301), TimeSpan.FromSeconds(30), "all lines");
        _engine.Runtime.ExitNow(id, 0);
        await reader.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        string stdout;
        lock (received)
        {
            stdout = received.ToString();
        }

        var lines = stdout.TrimEnd('\n').Split('\n');
        Assert.Equal("first", lines[0]);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"line {i:D4} " + new string('x', 20)), lines.Skip(1));
        Assert.True(File.Exists(Path.Combine(_engine.Options.ContainersDir, id, "container.log.1")));
    }

    [Fact]
    public async Task Events_SinceReplaysPersisted_FilteredByContainer()
    {
        var since = DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var id = await RunAsync("ev", "exit", "4");
        await _engine.Client.Containers.WaitContainerAsync(id, Ct);
        await RunAsync("other", "exit", "0");

        var messages = new List<Message>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var until = DateTimeOffset.UtcNow.AddSeconds(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        await _engine.Client.System.MonitorEventsAsync(
            new ContainerEventsParameters
            {
                Since = since,
                Until = until,
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["container"] = new Dictionary<string, bool> { ["ev"] = true } },
            },
            new SyncProgress<Message>(messages.Add),
            cts.Token);
        Assert.Equal(["create", "start", "die"], messages.Select(m => m.Action));
        Assert.All(messages, m => Assert.Equal(id, m.Actor.ID));
        Assert.Equal("4", messages[2].Actor.Attributes["exitCode"]);
    }

    [Fact]
    public async Task Events_Live_StreamsNewEvents()
    {
        var messages = new List<Message>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var got = new TaskCompletionSource();
        var bus = (Events.EventBus)_engine.App.Services.GetService(typeof(Events.EventBus))!;

        // Other parts of the engine (the health monitor) subscribe too: wait for one more subscriber than before.
        var before = bus.SubscriberCount;
        var monitor = _engine.Client.System.MonitorEventsAsync(
            new ContainerEventsParameters(),
            new SyncProgress<Message>(m =>
            {
                lock (messages)
                {
                    messages.Add(m);
                    if (m.Action == "destroy")
                    {
                        got.TrySetResult();
                    }
                }
            }),
            cts.Token);
        await Poll.UntilAsync(() => Task.FromResult(bus.SubscriberCount > before), TimeSpan.FromSeconds(30), "the events stream's subscription");

        var c = await _engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Name = "live", Cmd = ["sleep"] }, Ct);
        await _engine.Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters(), Ct);
        await got.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => monitor);
        lock (messages)
        {
            Assert.Equal(["create", "destroy"], messages.Select(m => m.Action));
        }
    }

    private sealed class SyncProgress<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }
}
