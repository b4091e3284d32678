using Dashboard.Linux.Native;

namespace Dashboard.Linux.Tests.Native;

public sealed class FdRangeTests
{
    // Just below the fd limit, far above what the test host uses: CloseFromExcept closes everything from the first fd up.
    private static readonly int First = SoftFdLimit() - 150;

    [Fact]
    public void CloseFromExcept_KeepsOnlyTheListedFdsFromFirstUp()
    {
        var source = Sys.Open("/dev/null", OpenFlags.O_RDONLY);
        var below = Sys.Dup3(source, First - 1, cloexec: true);
        try
        {
            for (var fd = First; fd < First + 6; fd++)
            {
                Sys.Dup3(source, fd, cloexec: true);
            }

            Sys.Dup3(source, First + 100, cloexec: true);

            FdRange.CloseFromExcept(First, [First + 1, First + 4, First - 5, -1]);

            Assert.True(IsOpen(below), "below the first fd nothing is touched");
            Assert.Equal([First + 1, First + 4], Enumerable.Range(First, 101).Where(IsOpen));
        }
        finally
        {
            foreach (var fd in new[] { source, below, First + 1, First + 4 })
            {
                Sys.Close(fd);
            }
        }
    }

    [Fact]
    public void CloseFromExcept_NothingKept_ClosesTheWholeRange()
    {
        var source = Sys.Open("/dev/null", OpenFlags.O_RDONLY);
        try
        {
            Sys.Dup3(source, First + 10, cloexec: true);
            Sys.Dup3(source, First + 20, cloexec: true);

            FdRange.CloseFromExcept(First, []);

            Assert.False(IsOpen(First + 10));
            Assert.False(IsOpen(First + 20));
        }
        finally
        {
            Sys.Close(source);
        }
    }

    private static int SoftFdLimit()
    {
        var line = File.ReadAllLines("/proc/self/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        return int.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static bool IsOpen(int fd)
    {
        try
        {
            Sys.Fcntl(fd, OpenFlags.F_GETFD, 0);
            return true;
        }
        catch (SyscallException)
        {
            return false;
        }
    }
}
