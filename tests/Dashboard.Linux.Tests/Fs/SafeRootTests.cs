using Dashboard.Linux.Fs;

namespace Dashboard.Linux.Tests.Fs;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SafeRootTests : IDisposable
{
    private readonly string _base;
    private readonly string _root;
    private readonly string _outside;

    public SafeRootTests()
    {
        _base = Directory.CreateTempSubdirectory("dashboard-saferoot-").FullName;
        _root = Path.Combine(_base, "root");
        _outside = Path.Combine(_base, "outside");
        Directory.CreateDirectory(_root);
        Directory.CreateDirectory(_outside);
        File.WriteAllText(Path.Combine(_outside, "secret"), "host");
        Directory.CreateDirectory(Path.Combine(_root, "etc"));
        File.WriteAllText(Path.Combine(_root, "etc", "passwd"), "in-root");
    }

    public static TheoryData<bool> Modes => new() { false, true };

    public void Dispose() => Directory.Delete(_base, recursive: true);

    [Fact]
    public void Clean_EscapingPaths_StayRooted()
    {
        Assert.Equal("x", SafeRoot.Clean("../x"));
        Assert.Equal("x", SafeRoot.Clean("/../x"));
        Assert.Equal("x", SafeRoot.Clean("a//..//..//x"));
        Assert.Equal(string.Empty, SafeRoot.Clean("x/../../.."));
        Assert.Equal("a/b", SafeRoot.Clean("./a/./b/"));
        Assert.Throws<SyscallException>(() => SafeRoot.Clean("a\0b"));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Open_AbsoluteSymlink_ResolvesInsideRoot(bool fallback)
    {
        File.CreateSymbolicLink(Path.Combine(_root, "link"), "/etc");
        using var root = Open(fallback);
        using var handle = root.Open("link/passwd", FileCalls.O_RDONLY);
        Assert.Equal("in-root", ReadAll(handle));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Open_DotDotSymlinkChain_StaysInRoot(bool fallback)
    {
        Directory.CreateDirectory(Path.Combine(_root, "a", "b"));
        File.CreateSymbolicLink(Path.Combine(_root, "a", "b", "up"), "../../../../../..");
        using var root = Open(fallback);
        using var handle = root.Open("a/b/up/etc/passwd", FileCalls.O_RDONLY);
        Assert.Equal("in-root", ReadAll(handle));
        Assert.Throws<SyscallException>(() => root.Open("a/b/up/outside/secret", FileCalls.O_RDONLY));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Open_SymlinkLoop_ThrowsEloop(bool fallback)
    {
        File.CreateSymbolicLink(Path.Combine(_root, "a"), "b");
        File.CreateSymbolicLink(Path.Combine(_root, "b"), "a");
        using var root = Open(fallback);
        var e = Assert.Throws<SyscallException>(() => root.Open("a/x", FileCalls.O_RDONLY));
        Assert.Equal(Errno.ELOOP, e.Errno);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Open_NoFollowFinalSymlink_OpensLinkItself(bool fallback)
    {
        File.CreateSymbolicLink(Path.Combine(_root, "link"), "/etc/passwd");
        using var root = Open(fallback);
        using var handle = root.Open("link", FileCalls.O_PATH | FileCalls.O_NOFOLLOW);
        Assert.Equal(FileKind.Symlink, FileCalls.Stat(handle).Kind);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Open_CreateThroughDanglingAbsoluteSymlink_CreatesInsideRoot(bool fallback)
    {
        File.CreateSymbolicLink(Path.Combine(_root, "evil"), Path.Combine(_outside, "created"));
        using var root = Open(fallback);
        Assert.ThrowsAny<SyscallException>(() => root.Open("evil", FileCalls.O_WRONLY | FileCalls.O_CREAT, 0x1A4).Dispose());
        Assert.False(File.Exists(Path.Combine(_outside, "created")));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void MkdirAll_ThroughSymlinkToHostPath_CreatesInsideRoot(bool fallback)
    {
        File.CreateSymbolicLink(Path.Combine(_root, "var"), _outside);
        using var root = Open(fallback);
        using (root.MkdirAll("var/run/x", 0x1ED))
        {
        }

        Assert.False(Directory.Exists(Path.Combine(_outside, "run")));
        Assert.True(Directory.Exists(Path.Combine(_root, _outside.TrimStart('/'), "run", "x")));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void MkdirAll_Existing_ReturnsDirectory(bool fallback)
    {
        using var root = Open(fallback);
        using var handle = root.MkdirAll("etc", 0x1ED);
        Assert.Equal(FileKind.Directory, FileCalls.Stat(handle).Kind);
        using var created = root.MkdirAll("a/b/c", 0x1C0);
        Assert.Equal(0x1C0u, FileCalls.Stat(created).Permissions);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void OpenParent_EscapingName_ClampedToRoot(bool fallback)
    {
        using var root = Open(fallback);
        using var parent = root.OpenParent("../../outside/secret", out var name, createDirectories: true);
        Assert.Equal("secret", name);
        Assert.True(Directory.Exists(Path.Combine(_root, "outside")));
        Assert.Equal("host", File.ReadAllText(Path.Combine(_outside, "secret")));
    }

    [Fact]
    public void LchmodAt_Symlink_TargetUnchanged()
    {
        var victim = Path.Combine(_outside, "secret");
        File.SetUnixFileMode(victim, UnixFileMode.UserRead);
        File.CreateSymbolicLink(Path.Combine(_root, "link"), victim);
        using var root = SafeRoot.Open(_root);
        FileCalls.LchmodAt(root.Handle, "link", 0xDFF);
        FileCalls.LchownAt(root.Handle, "link", 1234, 1234);
        Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(victim));
        Assert.Equal(0u, FileCalls.Lstat(victim).Uid);
    }

    [Fact]
    public void LchmodAt_RegularFile_SetsSpecialBits()
    {
        using var root = SafeRoot.Open(_root);
        using var etc = root.Open("etc", FileCalls.O_PATH | FileCalls.O_DIRECTORY);
        FileCalls.LchmodAt(etc, "passwd", 0xDED);
        Assert.Equal(0xDEDu, FileCalls.Lstat(Path.Combine(_root, "etc", "passwd")).Permissions);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void RemoveAll_SymlinkToOutside_RemovesOnlyLink(bool fallback)
    {
        File.CreateSymbolicLink(Path.Combine(_root, "etc", "host"), _outside);
        using var root = Open(fallback);
        root.RemoveAll("etc");
        Assert.False(Directory.Exists(Path.Combine(_root, "etc")));
        Assert.True(File.Exists(Path.Combine(_outside, "secret")));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Lstat_ThroughSymlinkedParent_ReportsInRootObject(bool fallback)
    {
        File.CreateSymbolicLink(Path.Combine(_root, "localetc"), "/etc");
        using var root = Open(fallback);
        var status = root.Lstat("localetc/passwd");
        Assert.NotNull(status);
        Assert.Equal(FileKind.Regular, status.Value.Kind);
        Assert.Null(root.Lstat("missing/x"));
    }

    [Fact]
    public void Open_ForceFallback_DoesNotUseOpenat2()
    {
        using var root = SafeRoot.Open(_root, new SafeRootOptions { ForceFallback = true });
        Assert.False(root.UsesOpenat2);
    }

    [Fact]
    public void MakeDev_LargeNumbers_MatchGlibcEncoding()
    {
        Assert.Equal(0x0000_0000_0000_0801UL, FileCalls.MakeDev(8, 1));
        Assert.Equal(0x0000_0000_FFFF_FFFFUL, FileCalls.MakeDev(0xFFF, 0xFFFFF));
    }

    private SafeRoot Open(bool fallback) => SafeRoot.Open(_root, new SafeRootOptions { ForceFallback = fallback });

    private static string ReadAll(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        using var stream = new FileStream(handle, FileAccess.Read);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
