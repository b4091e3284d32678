using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Init;

namespace Dashboard.Runtime.Tests.Integration;

/// <summary>The run.dashboard.init annotation (Docker's --init): init stays PID 1, reaps orphans, forwards signals, passes the status on.</summary>
[Trait("Requires", "root")]
public sealed class InitTests : IDisposable
{
    private readonly RuntimeHarness _rt = new();

    public void Dispose() => _rt.Dispose();

    private string Bundle(bool init, params string[] args) => _rt.Bundle(spec =>
    {
        spec.Process!.Args = [.. args];
        if (init)
        {
            spec.Annotations = new Dictionary<string, string> { [ContainerInit.InitAnnotation] = "true" };
        }
    });

    // The inner shell backgrounds a sleep and exits at once, so the sleep is orphaned and re-parented
    // to PID 1; the outer shell then execs a long sleep. Without an init that sleep is PID 1 and
    // never reaps, so the orphan stays a zombie.
    private const string OrphanScript = "sh -c 'sleep 0.1 & exit 0'; exec sleep 30";

    /// <summary>
    /// The number of Z states in the container once the orphan (it sleeps 0.1 s) no longer runs and the count is
    /// <paramref name="expected"/>, or the last count after 20 s: under load the orphan may exit late, and an init
    /// reaps it a moment after it exits; a zombie nobody reaps stays.
    /// </summary>
    private int Zombies(string id, int expected)
    {
        const string Count = "if cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' | grep -q 'sleep 0[.]1'; then echo running; fi; cat /proc/[0-9]*/stat 2>/dev/null | grep -c ') Z ' || true";
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var result = _rt.Run("exec", id, "sh", "-c", Count);
            Assert.Equal(0, result.ExitCode);
            var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var zombies = int.Parse(lines[^1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            if ((lines.Length == 1 && zombies == expected) || DateTime.UtcNow > deadline)
            {
                return zombies;
            }

            Thread.Sleep(100);
        }
    }

    [Fact]
    public void Init_ReapsOrphanedZombies()
    {
        var id = RuntimeHarness.NewId();
        Assert.Equal(0, _rt.Run("run", "-d", "--bundle", Bundle(true, "sh", "-c", OrphanScript), id).ExitCode);
        Assert.Equal(0, Zombies(id, expected: 0));
        var pid1 = _rt.Run("exec", id, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '").Stdout;
        Assert.DoesNotContain("sleep", pid1, StringComparison.Ordinal);
        Assert.Equal(0, _rt.Run("delete", "-f", id).ExitCode);

        // The same container without the annotation keeps the zombie: the test above shows the init at work.
        var control = RuntimeHarness.NewId();
        Assert.Equal(0, _rt.Run("run", "-d", "--bundle", Bundle(false, "sh", "-c", OrphanScript), control).ExitCode);
        Assert.Equal(1, Zombies(control, expected: 1));
        Assert.Equal(0, _rt.Run("delete", "-f", control).ExitCode);
    }

    [Fact]
    public async Task Init_ForwardsSigtermToTheChild()
    {
        var id = RuntimeHarness.NewId();
        var bundle = Bundle(true, "sh", "-c", "trap 'exit 42' TERM; echo $$ > /tmp/pid; while true; do sleep 0.05; done");
        var run = Task.Run(() => _rt.Run("run", "--bundle", bundle, id), TestContext.Current.CancellationToken);
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !File.Exists(Path.Combine(bundle, "rootfs/tmp/pid")) && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }

        Assert.NotEqual("1", File.ReadAllText(Path.Combine(bundle, "rootfs/tmp/pid")).Trim());
        Assert.Equal(0, _rt.Run("kill", id, "TERM").ExitCode);
        var result = await run.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.Equal(42, result.ExitCode);
    }

    [Theory]
    [InlineData("exit 7", 7)]
    [InlineData("kill -9 $$", 137)]
    [InlineData("kill -15 $$", 143)]
    public void Init_PropagatesTheExitStatus(string script, int expected)
    {
        Assert.Equal(expected, _rt.RunContainer(Bundle(true, "sh", "-c", script)).ExitCode);
    }

    [Fact]
    public void Init_ReexecMode_ReapsAndPropagates()
    {
        using var rt = new RuntimeHarness(RuntimeHarness.FindPublishedRuntime());
        var bundle = rt.Bundle(spec =>
        {
            spec.Process!.Args = ["sh", "-c", "sh -c 'sleep 0.05 & exit 0'; sleep 0.3; n=$(cat /proc/[0-9]*/stat 2>/dev/null | grep -c ') Z '); exit $((n + 3))"];
            spec.Annotations = new Dictionary<string, string> { [ContainerInit.InitAnnotation] = "true" };
        });
        Assert.Equal(3, rt.RunContainer(bundle).ExitCode);
    }
}
