using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Dashboard.Runtime.Shim;
using Dashboard.Testing;
using Process = System.Diagnostics.Process;

namespace Dashboard.Runtime.Tests.Integration;

/// <summary>
/// The resident supervisor as deployed: <c>dashboard-runtime shim</c> from DASHBOARD_BIN, which execs the lean
/// <c>dashboard-shim</c> beside it once the container runs (issue 2: resident shim ≤ 4 MB).
/// </summary>
[Trait("Requires", "root")]
public sealed partial class ShimTests : IDisposable
{
    private readonly RuntimeHarness _rt = new(LeanPair());

    public void Dispose() => _rt.Dispose();

    /// <summary>The published runtime, with dashboard-shim next to it (the protected copy of the harness has no neighbour).</summary>
    private static string LeanPair()
    {
        var runtime = RuntimeHarness.FindPublishedRuntime();
        if (!File.Exists(Path.Combine(Path.GetDirectoryName(runtime)!, "dashboard-shim")))
        {
            Requires.Unmet("needs dashboard-shim beside the published dashboard-runtime (docker-compose-free-install.sh --build-only)");
        }

        return runtime;
    }

    [Fact]
    public void Shim_LoggingContainer_ResidentLeanProcessUnder4MB()
    {
        var bundle = _rt.Bundle("sh", "-c", "while :; do echo hello; done");
        var id = RuntimeHarness.NewId();
        var dir = _rt.NewDir("shim");
        var (shim, _) = StartShim(id, bundle, dir);
        using (shim)
        {
            // Busy logging for a while (bounded; a loaded machine gives the container little CPU) before the high-water mark is read.
            Thread.Sleep(1500);
            LifecycleTests.WaitFor(() => File.Exists(Path.Combine(dir, "log")) && File.ReadLines(Path.Combine(dir, "log")).Take(101).Count() > 100, 30_000);
            var exe = File.ReadAllText($"/proc/{shim.Id}/cmdline").Split('\0');
            var status = File.ReadAllLines($"/proc/{shim.Id}/status");
            var hwm = long.Parse(status.First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
            Assert.EndsWith("/dashboard-shim", exe[0], StringComparison.Ordinal);
            Assert.Equal("shim", exe[1]);
            Assert.Equal(id, exe[^2]);
            Assert.Equal(0, _rt.Run("kill", id, "KILL").ExitCode);
            var exit = WaitExit(dir);
            Assert.Equal(137, exit.ExitCode);
            Assert.False(exit.OomKilled);
            Assert.True(exit.FinishedAt >= exit.StartedAt);
            Assert.InRange(hwm, 1, 4096);
        }

        var log = File.ReadAllLines(Path.Combine(dir, "log"));
        Assert.True(log.Length > 100, $"only {log.Length} records");
        Assert.All(log.Take(100), l => Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F hello$", l));
        Assert.Equal(0, _rt.Run("delete", id).ExitCode);
    }

    [Fact]
    public void Shim_LongLinesAndRotation_PartialRecordsInRotatedFiles()
    {
        // 40,000 bytes without a newline split into two 16 KiB partial records and a final one; then 2,000 short lines.
        var bundle = _rt.Bundle("sh", "-c", "printf '%040000d\\n' 0; i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done; echo err >&2");
        var id = RuntimeHarness.NewId();
        var dir = _rt.NewDir("shim");
        var (shim, _) = StartShim(id, bundle, dir, "--log-max-size", "70000", "--log-max-files", "5");
        shim.Dispose();
        Assert.Equal(0, WaitExit(dir).ExitCode);
        var files = new[] { "log.4", "log.3", "log.2", "log.1", "log" }.Select(f => Path.Combine(dir, f)).Where(File.Exists).ToArray();
        var records = files.SelectMany(File.ReadAllLines).ToArray();
        var zeros = records.Where(r => r.Contains(" 0000", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, zeros.Length);
        Assert.Contains(" stdout P ", zeros[0], StringComparison.Ordinal);
        Assert.Contains(" stdout P ", zeros[1], StringComparison.Ordinal);
        Assert.Contains(" stdout F ", zeros[2], StringComparison.Ordinal);
        Assert.Equal(40_000, zeros.Sum(r => r.Length - r.IndexOf(" 0000", StringComparison.Ordinal) - 1));
        Assert.Equal(Enumerable.Range(0, 2000).Select(i => $"line{i}"), records.Where(r => r.Contains(" stdout F line", StringComparison.Ordinal)).Select(r => r[(r.LastIndexOf(' ') + 1)..]));
        Assert.Contains(records, r => r.EndsWith(" stderr F err", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(dir, "log.1")), "the log was not rotated");
        Assert.All(files, f => Assert.True(new FileInfo(f).Length <= 70_000 + 131_072, $"{f}: {new FileInfo(f).Length} bytes"));
        Assert.Equal(0, _rt.Run("delete", id).ExitCode);
    }

    [Fact]
    public void Shim_MemoryLimitExceeded_ExitFileReportsOomKill()
    {
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["dd", "if=/dev/zero", "of=/dev/null", "bs=200M", "count=1"];
            s.Linux!.Resources = new Dashboard.Oci.Runtime.Resources { Memory = new Dashboard.Oci.Runtime.MemoryResources { Limit = 32 << 20, Swap = 32 << 20 } };
        });
        var id = RuntimeHarness.NewId();
        var dir = _rt.NewDir("shim");
        StartShim(id, bundle, dir).Shim.Dispose();
        var exit = WaitExit(dir);
        Assert.True(exit.OomKilled);
        Assert.Equal(137, exit.ExitCode);
        Assert.Equal(9, exit.Signal);
        Assert.Equal(0, _rt.Run("delete", id).ExitCode);
    }

    [Fact]
    public async Task Shim_AttachWithStdin_EchoesAndSendsExitFrame()
    {
        var bundle = _rt.Bundle("cat");
        var id = RuntimeHarness.NewId();
        var dir = _rt.NewDir("shim");
        var (shim, _) = StartShim(id, bundle, dir, "--stdin");
        using (shim)
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(dir, "ctl.sock")), TestContext.Current.CancellationToken);
            using var stream = new NetworkStream(socket);
            await stream.WriteAsync("{\"op\":\"attach\",\"stdin\":true}\n"u8.ToArray(), TestContext.Current.CancellationToken);
            await stream.WriteAsync(Frame(0, "ping\n"u8), TestContext.Current.CancellationToken);
            var output = new StringBuilder();
            string? exitJson = null;
            var buffer = new List<byte>();
            var chunk = new byte[4096];
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(20));
            var closed = false;
            while (exitJson is null)
            {
                var n = await stream.ReadAsync(chunk, timeout.Token);
                Assert.True(n > 0, "the control socket closed before the exit frame");
                buffer.AddRange(chunk.AsSpan(0, n));
                while (buffer.Count >= 5 && buffer.Count >= 5 + BinaryPrimitives.ReadInt32BigEndian(buffer.GetRange(1, 4).ToArray()))
                {
                    var length = BinaryPrimitives.ReadInt32BigEndian(buffer.GetRange(1, 4).ToArray());
                    var data = Encoding.UTF8.GetString(buffer.GetRange(5, length).ToArray());
                    if (buffer[0] == 3)
                    {
                        exitJson = data;
                    }
                    else
                    {
                        Assert.Equal(1, buffer[0]);
                        output.Append(data);
                    }

                    buffer.RemoveRange(0, 5 + length);
                }

                if (!closed && output.ToString().Contains("ping\n", StringComparison.Ordinal))
                {
                    // Close stdin: cat sees EOF and exits 0.
                    await stream.WriteAsync(Frame(1, []), timeout.Token);
                    closed = true;
                }
            }

            Assert.Equal("ping\n", output.ToString());
            var exit = JsonSerializer.Deserialize(exitJson, ShimJsonContext.Default.ExitRecord)!;
            Assert.Equal(0, exit.ExitCode);
            Assert.Equal(0, WaitExit(dir).ExitCode);
        }

        Assert.Contains(File.ReadAllLines(Path.Combine(dir, "log")), l => l.EndsWith(" stdout F ping", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(dir, "ctl.sock")));
        Assert.Equal(0, _rt.Run("delete", id).ExitCode);
    }

    /// <summary>
    /// An attach with <c>"replay":"start"</c> made after the container wrote (what the engine does for <c>docker run</c>)
    /// gets a position frame saying "no log replay", then every frame since the start (the unterminated "three" too),
    /// then live output: each byte once. Both the lean shim and the in-process fallback.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Shim_AttachReplayFromStart_OutputBeforeAttachOnceThenLive(bool lean)
    {
        var bundle = _rt.Bundle("sh", "-c", "echo one; echo two >&2; printf three; read x; echo four $x");
        var id = RuntimeHarness.NewId();
        var dir = _rt.NewDir("shim");
        var (shim, _) = StartShim(id, bundle, dir, lean, "--stdin");
        using (shim)
        {
            LifecycleTests.WaitFor(() => File.Exists(Path.Combine(dir, "log")) && File.ReadAllText(Path.Combine(dir, "log")).Contains(" stderr F two", StringComparison.Ordinal), 20_000);
            await using var client = await AttachAsync(dir, "{\"op\":\"attach\",\"stdin\":true,\"replay\":\"start\"}");
            var position = await client.NextAsync();
            Assert.Equal((4, "{\"log\":false}"), (position.Type, Encoding.UTF8.GetString(position.Data)));
            await client.Stream.WriteAsync(Frame(0, "go\n"u8), TestContext.Current.CancellationToken);
            var (stdout, stderr, exit) = await client.ReadToExitAsync();
            Assert.Equal("one\nthreefour go\n", stdout);
            Assert.Equal("two\n", stderr);
            Assert.Equal(0, exit.ExitCode);
        }

        Assert.Equal(0, WaitExit(dir).ExitCode);
        Assert.Equal(0, _rt.Run("delete", id).ExitCode);
    }

    /// <summary>
    /// An attach with <c>"replay":"log"</c> while the container writes fast (numbers, a newline every 7, so unterminated
    /// lines are pending in the shim most of the time): the log read up to the handed position, then the frames, equal
    /// what the container wrote, byte for byte (nothing lost between the two, nothing in both).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Shim_AttachReplayFromLog_LogUpToPositionThenLiveIsExactOutput(bool lean)
    {
        const int count = 30_000;
        var bundle = _rt.Bundle("sh", "-c", $"i=0; while [ $i -lt {count} ]; do printf \"$i \"; [ $((i % 7)) = 0 ] && echo; i=$((i+1)); done; echo end");
        var id = RuntimeHarness.NewId();
        var dir = _rt.NewDir("shim");
        var (shim, _) = StartShim(id, bundle, dir, lean);
        using (shim)
        {
            var log = Path.Combine(dir, "log");
            LifecycleTests.WaitFor(() => File.Exists(log) && new FileInfo(log).Length > 2000, 20_000);
            await using var client = await AttachAsync(dir, "{\"op\":\"attach\",\"replay\":\"log\"}");
            var position = await client.NextAsync();
            Assert.Equal(4, position.Type);
            using var json = JsonDocument.Parse(position.Data);
            Assert.True(json.RootElement.GetProperty("log").GetBoolean());
            var inode = json.RootElement.GetProperty("inode").GetUInt64();
            var offset = json.RootElement.GetProperty("offset").GetInt64();

            // Frames are read on meanwhile: the shim drops a client that lets its socket fill up.
            var live = client.ReadToExitAsync();

            // No rotation at the default 10 MB: the position is in "log" itself.
            Assert.True(Dashboard.Linux.Native.Sys.TryStat(log, follow: true, out var st) && st.Ino == inode, $"inode {inode} is not the log's");
            var replayed = new StringBuilder();
            using (var file = File.OpenRead(log))
            {
                var bytes = new byte[offset];
                file.ReadExactly(bytes);
                foreach (var record in Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    var parts = record.Split(' ', 4);
                    Assert.Equal("stdout", parts[1]);
                    replayed.Append(parts.Length > 3 ? parts[3] : "").Append(parts[2] == "F" ? "\n" : "");
                }
            }

            var (stdout, stderr, exit) = await live;
            var expected = new StringBuilder();
            for (var i = 0; i < count; i++)
            {
                expected.Append(i).Append(' ').Append(i % 7 == 0 ? "\n" : "");
            }

            expected.Append("end\n");
            Assert.True(stdout.Length > 0, "the container had finished before the attach: nothing was live");
            Assert.True(expected.ToString() == replayed + stdout, $"replayed {replayed.Length} + live {stdout.Length} chars, expected {expected.Length}");
            Assert.Equal("", stderr);
            Assert.Equal(0, exit.ExitCode);
        }

        Assert.Equal(0, WaitExit(dir).ExitCode);
        Assert.Equal(0, _rt.Run("delete", id).ExitCode);
    }

    private static async Task<ControlClient> AttachAsync(string dir, string line)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(dir, "ctl.sock")), TestContext.Current.CancellationToken);
        var client = new ControlClient(new NetworkStream(socket, ownsSocket: true));
        await client.Stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), TestContext.Current.CancellationToken);
        return client;
    }

    /// <summary>A control-socket client reading whole frames, with a bounded wait.</summary>
    private sealed class ControlClient(NetworkStream stream) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _timeout = CreateTimeout();

        public NetworkStream Stream { get; } = stream;

        private static CancellationTokenSource CreateTimeout()
        {
            var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            cts.CancelAfter(TimeSpan.FromSeconds(60));
            return cts;
        }

        public async Task<(byte Type, byte[] Data)> NextAsync()
        {
            var header = new byte[5];
            await Stream.ReadExactlyAsync(header, _timeout.Token);
            var data = new byte[BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1))];
            await Stream.ReadExactlyAsync(data, _timeout.Token);
            return (header[0], data);
        }

        /// <summary>Output frames until the exit frame.</summary>
        public async Task<(string Stdout, string Stderr, ExitRecord Exit)> ReadToExitAsync()
        {
            var (stdout, stderr) = (new MemoryStream(), new MemoryStream());
            while (true)
            {
                var (type, data) = await NextAsync();
                switch (type)
                {
                    case 1:
                        stdout.Write(data);
                        break;
                    case 2:
                        stderr.Write(data);
                        break;
                    case 3:
                        return (Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()), JsonSerializer.Deserialize(data, ShimJsonContext.Default.ExitRecord)!);
                    default:
                        Assert.Fail($"unexpected frame type {type}");
                        break;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            _timeout.Dispose();
            await Stream.DisposeAsync();
        }
    }

    private static byte[] Frame(byte type, ReadOnlySpan<byte> data)
    {
        var frame = new byte[5 + data.Length];
        frame[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), data.Length);
        data.CopyTo(frame.AsSpan(5));
        return frame;
    }

    private (Process Shim, ShimReady Ready) StartShim(string id, string bundle, string dir, params string[] extra) =>
        StartShim(id, bundle, dir, lean: true, extra);

    /// <summary>Starts <c>dashboard-runtime shim</c>; <paramref name="lean"/> false keeps it supervising in-process (DASHBOARD_SHIM_LEAN=0).</summary>
    private (Process Shim, ShimReady Ready) StartShim(string id, string bundle, string dir, bool lean, params string[] extra)
    {
        var psi = new ProcessStartInfo(_rt.Binary)
        {
            RedirectStandardOutput = true,
        };
        if (!lean)
        {
            psi.Environment["DASHBOARD_SHIM_LEAN"] = "0";
        }

        foreach (var a in (string[])["--root", _rt.StateRoot, "shim", "--bundle", bundle, "--log-path", Path.Combine(dir, "log"),
                     "--exit-file", Path.Combine(dir, "exit.json"), "--control-socket", Path.Combine(dir, "ctl.sock"), .. extra, id])
        {
            psi.ArgumentList.Add(a);
        }

        var shim = Process.Start(psi)!;
        var line = shim.StandardOutput.ReadLine();
        Assert.NotNull(line);
        var ready = JsonSerializer.Deserialize(line, ShimJsonContext.Default.ShimReady)!;
        Assert.True(ready.Error is null, ready.Error);
        return (shim, ready);
    }

    private static ExitRecord WaitExit(string dir)
    {
        var exitFile = Path.Combine(dir, "exit.json");
        LifecycleTests.WaitFor(() => File.Exists(exitFile), 20_000);
        return JsonSerializer.Deserialize(File.ReadAllText(exitFile), ShimJsonContext.Default.ExitRecord)!;
    }
}
