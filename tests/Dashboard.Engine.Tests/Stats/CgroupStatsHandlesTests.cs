using Dashboard.Engine.Stats;

namespace Dashboard.Engine.Tests.Stats;

/// <summary>The reader's kept-open control files (issue 4 bench c): re-read in place, closed when the container goes.</summary>
public sealed class CgroupStatsHandlesTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "dsh-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Write(string relative, string text)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private CgroupStatsFiles NewV2Reader()
    {
        Write("cg/cgroup.controllers", "cpu memory pids io\n");
        Write("proc/stat", "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 100 0 50 800 50 0 0 0 0 0\n");
        Write("cg/a/memory.current", "4096\n");
        Write("cg/a/pids.current", "2\n");
        return new CgroupStatsFiles(Path.Combine(_root, "cg"), Path.Combine(_root, "proc"));
    }

    [Fact]
    public void Read_SecondRound_SeesRewrittenFileThroughKeptHandle()
    {
        using var files = NewV2Reader();
        Assert.Equal(4096UL, files.Read("/a", 0, DateTimeOffset.UnixEpoch).MemoryUsage);
        Write("cg/a/memory.current", "123456789\n");
        Write("cg/a/pids.current", "7\n");
        var s = files.Read("/a", 0, DateTimeOffset.UnixEpoch.AddSeconds(1));
        Assert.Equal((123_456_789UL, 7UL), (s.MemoryUsage, s.Pids));
        Assert.Equal(1, files.OpenContainerCount);
    }

    [Fact]
    public void Retain_GoneContainer_HandlesClosedAndFileDeletable()
    {
        using var files = NewV2Reader();
        Write("cg/b/memory.current", "1\n");
        files.Read("/a", 0, DateTimeOffset.UnixEpoch);
        files.Read("/b", 0, DateTimeOffset.UnixEpoch);
        files.Retain([("/a", 0)]);
        Assert.Equal(1, files.OpenContainerCount);
        Directory.Delete(Path.Combine(_root, "cg", "b"), recursive: true);
        Assert.Equal(4096UL, files.Read("/a", 0, DateTimeOffset.UnixEpoch.AddSeconds(1)).MemoryUsage);
    }

    [Fact]
    public void Read_NewPidSameCgroup_ReadsAfresh()
    {
        using var files = NewV2Reader();
        files.Read("/a", 10, DateTimeOffset.UnixEpoch);
        Write("cg/a/memory.current", "8192\n");
        Assert.Equal(8192UL, files.Read("/a", 11, DateTimeOffset.UnixEpoch.AddSeconds(1)).MemoryUsage);
        files.Retain([("/a", 11)]);
        Assert.Equal(1, files.OpenContainerCount);
    }
}
