using Dashboard.Linux.Fs;

namespace Dashboard.Linux.Tests.Fs;

public sealed class SmallFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-smallfiles-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(0)]
    [InlineData(17)]
    [InlineData(4096)]
    [InlineData(4097)]
    [InlineData(100_000)]
    public void WriteThenRead_RoundTripsAnySize(int size)
    {
        var data = new byte[size];
        new Random(size).NextBytes(data);
        var path = Path.Combine(_dir, "f");

        SmallFiles.WriteAllBytes(path, data);

        Assert.Equal(data, SmallFiles.ReadAllBytes(path));
        Assert.Equal(data, File.ReadAllBytes(path));
    }

    [Fact]
    public void WriteAllBytes_TruncatesAnExistingFile()
    {
        var path = Path.Combine(_dir, "f");
        File.WriteAllText(path, "a much longer earlier content");

        SmallFiles.WriteAllBytes(path, "short"u8);

        Assert.Equal("short", File.ReadAllText(path));
    }

    [Fact]
    public void ReadAllText_ProcfsFile_ReadsPastItsZeroSize()
    {
        Assert.Equal(File.ReadAllText("/proc/self/mountinfo").Length > 0, SmallFiles.ReadAllText("/proc/self/mountinfo").Length > 0);
        Assert.Contains(" / ", SmallFiles.ReadAllText("/proc/self/mountinfo"), StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_TryReadReturnsEnoent_ReadThrowsNamingThePath()
    {
        var path = Path.Combine(_dir, "missing");

        Assert.Equal(Errno.ENOENT, SmallFiles.TryReadAllBytes(path, out var data));
        Assert.Empty(data);
        var e = Assert.Throws<SyscallException>(() => SmallFiles.ReadAllBytes(path));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Equal(Errno.ENOTDIR, SmallFiles.TryReadAllBytes(Path.Combine(WriteFile("plain"), "x"), out _));
    }

    [Fact]
    public void Rename_ReplacesTheTarget()
    {
        var from = WriteFile("from", "new");
        var to = WriteFile("to", "old");

        SmallFiles.Rename(from, to);

        Assert.False(File.Exists(from));
        Assert.Equal("new", File.ReadAllText(to));
        Assert.Equal(Errno.ENOENT, Assert.Throws<SyscallException>(() => SmallFiles.Rename(from, to)).Errno);
    }

    private string WriteFile(string name, string text = "")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }
}
