using Dashboard.Linux.Fs;
using Dashboard.Testing;
using Dashboard.Testing.Images;

namespace Dashboard.Images.Tests.Layers;

/// <summary>
/// The applier reuses the last entry's resolved directory for the entries after it; these layers
/// change what a directory path resolves to between such entries.
/// </summary>
public sealed class LayerApplierParentCacheTests : IDisposable
{
    private readonly LayerTestRoot _t = new();

    public static TheoryData<bool> Modes => new() { false, true };

    public void Dispose() => _t.Dispose();

    [Theory]
    [MemberData(nameof(Modes))]
    public void Apply_DirectoryReplacedBySymlinkBetweenItsEntries_LaterEntriesFollowTheSymlinkInRoot(bool fallback)
    {
        var tar = new TestTar()
            .Dir("b")
            .Dir("a")
            .File("a/x", "x")
            .Symlink("a", "/b")
            .File("a/y", "y")
            .ToArray();

        _t.Apply(tar, fallback);

        Assert.Equal(FileKind.Symlink, FileCalls.Lstat(_t.RootPath("a")).Kind);
        Assert.Equal("y", File.ReadAllText(_t.RootPath("b/y")));
        Assert.False(File.Exists(_t.RootPath("b/x")));
        _t.AssertSentinelUntouched();
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Apply_SymlinkToOutsideReplacesDirectoryBetweenItsEntries_NothingLandsOutside(bool fallback)
    {
        var tar = new TestTar()
            .Dir("d")
            .File("d/one", "1")
            .Symlink("d", "../../sentinel")
            .File("d/file", "overwritten?")
            .File("d/two", "2")
            .ToArray();

        _t.Apply(tar, fallback);

        // "../../sentinel" resolves to /sentinel inside the root.
        Assert.Equal("2", File.ReadAllText(_t.RootPath("sentinel/two")));
        _t.AssertSentinelUntouched();
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Apply_WhiteoutOfTheDirectoryBetweenItsEntries_LaterEntriesRecreateIt(bool fallback)
    {
        _t.Apply(new TestTar().Dir("d").File("d/lower", "l").ToArray(), fallback);

        _t.Apply(new TestTar()
            .File("e/first", "1")
            .File(".wh.d", string.Empty)
            .File("e/second", "2")
            .File("d/new", "n")
            .ToArray(), fallback);

        Assert.False(File.Exists(_t.RootPath("d/lower")));
        Assert.Equal("n", File.ReadAllText(_t.RootPath("d/new")));
        Assert.Equal("2", File.ReadAllText(_t.RootPath("e/second")));
        _t.AssertSentinelUntouched();
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Apply_FilesWithMixedOwnersInOneDirectory_EachGetsItsOwner(bool fallback)
    {
        Requires.Root();
        _t.Apply(new TestTar()
            .Dir("d")
            .File("d/root", "r", uid: 0, gid: 0)
            .File("d/user", "u", uid: 1000, gid: 100)
            .File("d/root2", "r", uid: 0, gid: 0)
            .File("d/group", "g", uid: 0, gid: 42)
            .File("d/existing", "old", uid: 1000, gid: 1000)
            .File("d/existing", "new", uid: 0, gid: 0)
            .Dir("sgid", 0x5ED, uid: 0, gid: 50)
            .File("sgid/root", "r", uid: 0, gid: 0)
            .ToArray(), fallback);

        (uint, uint) Owner(string path)
        {
            var st = FileCalls.Lstat(_t.RootPath(path));
            return (st.Uid, st.Gid);
        }

        Assert.Equal((0u, 0u), Owner("d/root"));
        Assert.Equal((1000u, 100u), Owner("d/user"));
        Assert.Equal((0u, 0u), Owner("d/root2"));
        Assert.Equal((0u, 42u), Owner("d/group"));
        Assert.Equal((0u, 0u), Owner("d/existing"));
        Assert.Equal("new", File.ReadAllText(_t.RootPath("d/existing")));

        // The directory's setgid would give a new file group 50; the entry says 0.
        Assert.Equal((0u, 0u), Owner("sgid/root"));
    }
}
