using System.Diagnostics;
using System.Globalization;
using Dashboard.Linux.Native;

namespace Dashboard.Linux.Tests.Native;

public sealed class ProcFsTests
{
    [Fact]
    public void ReadStat_OwnProcess_MatchesProcfsAsParsedByHand()
    {
        var stat = ProcFs.ReadStat(Environment.ProcessId);

        Assert.NotNull(stat);
        var text = File.ReadAllText($"/proc/{Environment.ProcessId}/stat");
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        Assert.Equal(fields[0][0], stat.Value.State);
        Assert.Equal(int.Parse(fields[1], CultureInfo.InvariantCulture), stat.Value.Ppid);
        Assert.Equal(ulong.Parse(fields[19], CultureInfo.InvariantCulture), stat.Value.StartTime);
        Assert.Equal(stat.Value.StartTime, ProcFs.StartTime(Environment.ProcessId));
    }

    [Fact]
    public void ReadStat_CommWithSpacesAndParentheses_ParsesFieldsAfterTheLastParenthesis()
    {
        // comm is the executable's name, shown verbatim: a program may be called "a) 1 (b".
        var dir = Directory.CreateTempSubdirectory("dashboard-procfs-").FullName;
        var program = Path.Combine(dir, "a) 1 (b");
        File.Copy("/bin/sleep", program);
        using var child = Process.Start(new ProcessStartInfo(program, ["30"]))!;
        try
        {
            for (var i = 0; i < 250 && File.ReadAllText($"/proc/{child.Id}/comm").Trim() != "a) 1 (b"; i++)
            {
                Thread.Sleep(20);
            }

            var stat = ProcFs.ReadStat(child.Id);
            Assert.NotNull(stat);
            Assert.Equal(Environment.ProcessId, stat.Value.Ppid);
            var text = File.ReadAllText($"/proc/{child.Id}/stat");
            Assert.StartsWith($"{child.Id} (a) 1 (b) ", text, StringComparison.Ordinal);
            Assert.Equal(ulong.Parse(text[(text.LastIndexOf(')') + 2)..].Split(' ')[19], CultureInfo.InvariantCulture), stat.Value.StartTime);
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ReadStat_GoneProcess_IsNull()
    {
        using var child = Process.Start("/bin/true")!;
        child.WaitForExit();

        Assert.Null(ProcFs.ReadStat(child.Id));
        Assert.Equal(0UL, ProcFs.StartTime(child.Id));
    }

    [Fact]
    public void OwnThreadCount_IsTheTaskCount()
    {
        // Threads of the test host come and go: equal on one of a few tries.
        var matched = false;
        for (var i = 0; i < 20 && !matched; i++)
        {
            var before = Directory.GetDirectories("/proc/self/task").Length;
            var count = ProcFs.OwnThreadCount();
            var after = Directory.GetDirectories("/proc/self/task").Length;
            matched = before == after && count == before;
        }

        Assert.True(matched);
        Assert.True(ProcFs.OwnThreadCount() >= 1);
    }
}
