using System.Globalization;
using System.Text.Json;
using Dashboard.Engine.Store;
using Dashboard.Engine.Tests.Fakes;
using Dashboard.Testing;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Stats;

public sealed class StatsApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DockerStatsNoStream_BusyContainer_SaneCpuAndMemory()
    {
        Requires.Tool("docker");
        await using var real = await RealEngine.StartAsync();
        await real.RunAsync("busy", ["sh", "-c", "while :; do :; done"], ct: Ct);
        var (code, stdout, stderr) = await real.DockerAsync(null, "stats", "--no-stream", "--format", "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}", "busy");
        Assert.True(code == 0, stderr);
        var parts = stdout.Trim().Split('|');
        Assert.Equal("busy", parts[0]);
        var cpu = double.Parse(parts[1].TrimEnd('%'), CultureInfo.InvariantCulture);
        Assert.InRange(cpu, 5, 205); // a busy loop on a shared 2-core machine
        Assert.Matches(@"^[0-9.]+[KMG]iB / [0-9.]+[KMGT]iB$", parts[2]);
        Assert.DoesNotContain("0B /", parts[2], StringComparison.Ordinal);
        Assert.Equal("1", parts[3]);
    }

    [Fact]
    public async Task DotNetStatsStream_TwoSamples_PreCpuIsPreviousReading()
    {
        await using var real = await RealEngine.StartAsync();
        var id = await real.RunAsync("st2", ["sleep", "300"], ct: Ct);
        var samples = new List<ContainerStatsResponse>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(20));
        var progress = new Progress(s =>
        {
            lock (samples)
            {
                samples.Add(s);
                if (samples.Count == 3)
                {
                    cts.Cancel();
                }
            }
        });
        try
        {
            await real.Client.Containers.GetContainerStatsAsync(id, new ContainerStatsParameters { Stream = true }, progress, cts.Token);
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
        }

        lock (samples)
        {
            Assert.True(samples.Count >= 3, $"{samples.Count} samples");
            Assert.Equal(samples[1].CPUStats!.CPUUsage!.TotalUsage, samples[2].PreCPUStats!.CPUUsage!.TotalUsage);
            Assert.Equal(samples[1].Read, samples[2].PreRead);
            Assert.InRange((samples[2].Read - samples[1].Read).TotalSeconds, 0.5, 3);
            Assert.True(samples[2].MemoryStats!.Usage > 0);
            Assert.Equal("/st2", samples[2].Name);
        }
    }

    private sealed class Progress(Action<ContainerStatsResponse> report) : IProgress<ContainerStatsResponse>
    {
        public void Report(ContainerStatsResponse value) => report(value);
    }

    [Fact]
    public async Task History_StoredRollups_MergedToStep()
    {
        await using var engine = await TestEngine.StartAsync();
        var created = await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Cmd = ["true"] }, Ct);
        var store = engine.Manager.Store;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var start = now - (now % 60) - 600;
        var points = Enumerable.Range(0, 12).Select(i => new StatsSample(created.ID, 10, start + (i * 10), 5_000_000_000, 0, 100 + i, 1000, 10, 2, 0, 0, 7, 9)).ToList();
        await store.AddStatsAsync(points, Ct);

        using var http = RawHttp.Create(engine.Socket);
        var json = await http.GetStringAsync($"/dashboard/stats/{created.ID[..12]}?from={start}&to={start + 119}&step=30", Ct);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(10, root.GetProperty("Resolution").GetInt32());
        Assert.Equal(30, root.GetProperty("Step").GetInt32());
        var samples = root.GetProperty("Samples").EnumerateArray().ToList();
        Assert.Equal(4, samples.Count);
        Assert.Equal(start, samples[0].GetProperty("Time").GetInt64());
        Assert.Equal(50.0, samples[0].GetProperty("CpuPercent").GetDouble(), 3); // 3 x 5 s of CPU in 30 s
        Assert.Equal(21, samples[1].GetProperty("NetRx").GetInt64());
        Assert.Equal(101, samples[0].GetProperty("MemoryUsage").GetInt64());

        var bad = await http.GetAsync($"/dashboard/stats/{created.ID}?from={start}&to={start - 5}", Ct);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
    }
}
