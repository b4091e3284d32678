using System.Text;
using Dashboard.Images.Layers;
using Dashboard.Linux.Fs;
using Dashboard.Oci;
using Dashboard.Oci.Image;
using Dashboard.Testing;
using Dashboard.Testing.Images;

namespace Dashboard.Images.Tests.Layers;

public sealed class LayerApplierTests : IDisposable
{
    private readonly LayerTestRoot _t = new();

    public static TheoryData<bool> Modes => new() { false, true };

    public void Dispose() => _t.Dispose();

    [Theory]
    [MemberData(nameof(Modes))]
    public void Apply_AllEntryTypes_CreatesThemWithMetadata(bool fallback)
    {
        Requires.Root();
        var tar = new TestTar()
            .Dir("bin", 0x1ED)
            .File("bin/busybox", "ELF", 0x9ED, uid: 0, gid: 0)
            .Symlink("bin/sh", "/bin/busybox")
            .Hardlink("bin/ls", "bin/busybox")
            .Dir("tmp", 0x3FF)
            .File("home/user/file", "data", 0x1A0, uid: 1000, gid: 100, pax: new Dictionary<string, string> { ["SCHILY.xattr.user.note"] = "hello" })
            .Fifo("run/fifo", 0x180)
            .Device("dev/null", block: false, 1, 3, 0x1B6)
            .Device("dev/sda", block: true, 8, 0, 0x1B0)
            .Dir("xdir", pax: new Dictionary<string, string> { ["SCHILY.xattr.user.dir"] = "d" })
            .ToArray();

        var result = _t.Apply(tar, fallback);

        Assert.Equal(Digest.Compute(tar), result.DiffId);
        var busybox = FileCalls.Lstat(_t.RootPath("bin/busybox"));
        Assert.Equal(0x9EDu, busybox.Permissions);
        Assert.Equal(2u, busybox.Links);
        Assert.Equal(busybox.Inode, FileCalls.Lstat(_t.RootPath("bin/ls")).Inode);
        Assert.Equal(TestTar.DefaultTime, busybox.ModifiedTime);
        Assert.Equal("/bin/busybox", new FileInfo(_t.RootPath("bin/sh")).LinkTarget);
        Assert.Equal(0x3FFu, FileCalls.Lstat(_t.RootPath("tmp")).Permissions);
        Assert.Equal(TestTar.DefaultTime, FileCalls.Lstat(_t.RootPath("bin")).ModifiedTime);
        var file = FileCalls.Lstat(_t.RootPath("home/user/file"));
        Assert.Equal((1000u, 100u, 0x1A0u), (file.Uid, file.Gid, file.Permissions));
        Assert.Equal("hello", Encoding.UTF8.GetString(FileCalls.ListXattrs(_t.RootPath("home/user/file"))["user.note"]));
        Assert.Equal("d", Encoding.UTF8.GetString(FileCalls.ListXattrs(_t.RootPath("xdir"))["user.dir"]));
        Assert.Equal(FileKind.Fifo, FileCalls.Lstat(_t.RootPath("run/fifo")).Kind);
        var sda = FileCalls.Lstat(_t.RootPath("dev/sda"));
        Assert.Equal((FileKind.BlockDevice, 8u, 0u), (sda.Kind, sda.RdevMajor, sda.RdevMinor));
        Assert.Equal(FileKind.CharDevice, FileCalls.Lstat(_t.RootPath("dev/null")).Kind);
        _t.AssertSentinelUntouched();
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Apply_WhiteoutsAndOpaque_DeleteOnlyLowerEntries(bool fallback)
    {
        _t.Apply(new TestTar()
            .File("etc/passwd", "root")
            .File("etc/whitedout", "x")
            .File("opq/lower", "x")
            .Dir("opq/lowerdir")
            .File("opq/lowerdir/f", "x")
            .ToArray(), fallback);

        _t.Apply(new TestTar()
            .File("etc/.wh.whitedout", string.Empty)
            .File("opq/upper", "new")
            .File("opq/.wh..wh..opq", string.Empty)
            .File("opq/.wh..wh..opq", string.Empty)
            .File("new", "n")
            .File(".wh.new", string.Empty)
            .ToArray(), fallback);

        Assert.True(File.Exists(_t.RootPath("etc/passwd")));
        Assert.False(File.Exists(_t.RootPath("etc/whitedout")));
        Assert.Equal(["upper"], Directory.EnumerateFileSystemEntries(_t.RootPath("opq")).Select(Path.GetFileName));
        Assert.True(File.Exists(_t.RootPath("new")));
        _t.AssertSentinelUntouched();
    }

    [Fact]
    public void Apply_DiffIdMismatch_Throws()
    {
        var tar = new TestTar().File("a", "b").ToArray();
        var e = Assert.Throws<ImageException>(() => _t.Apply(tar, diffId: Digest.Compute(Encoding.UTF8.GetBytes("other"))));
        Assert.Equal(ImageErrorKind.InvalidSpec, e.Kind);
        Assert.Contains("diff_id mismatch", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_Gzip_DiffIdIsOfUncompressedTar()
    {
        var tar = new TestTar().File("a", "b").ToArray();
        using var root = SafeRoot.Open(_t.Root);
        using var stream = LayerApplier.Decompress(new MemoryStream(TestTar.Gzip(tar)), LayerCompression.Gzip);
        var result = LayerApplier.Apply(root, stream, Digest.Compute(tar), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(Digest.Compute(tar), result.DiffId);
        Assert.Equal("b", File.ReadAllText(_t.RootPath("a")));
    }

    [Fact]
    public void Apply_Zstd_Unpacks()
    {
        var tar = new TestTar().File("z", "zstd").ToArray();
        using var compressor = new ZstdSharp.Compressor();
        var compressed = compressor.Wrap(tar).ToArray();
        using var root = SafeRoot.Open(_t.Root);
        using var stream = LayerApplier.Decompress(new MemoryStream(compressed), LayerCompression.Zstd);
        LayerApplier.Apply(root, stream, Digest.Compute(tar), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("zstd", File.ReadAllText(_t.RootPath("z")));
    }

    [Fact]
    public void Apply_ReplaceDirectoryWithFileAndBack_Works()
    {
        _t.Apply(new TestTar().File("x/inner", "1").Symlink("y", "x").ToArray());
        _t.Apply(new TestTar().File("x", "file now").Dir("y").ToArray());
        Assert.Equal("file now", File.ReadAllText(_t.RootPath("x")));
        Assert.Equal(FileKind.Directory, FileCalls.Lstat(_t.RootPath("y")).Kind);
    }

    [Fact]
    public void Apply_DirectoryOverExistingDirectory_KeepsContents()
    {
        _t.Apply(new TestTar().File("d/keep", "1").ToArray());
        _t.Apply(new TestTar().Dir("d", 0x1C0, uid: 5).ToArray());
        Assert.True(File.Exists(_t.RootPath("d/keep")));
        var st = FileCalls.Lstat(_t.RootPath("d"));
        Assert.Equal((0x1C0u, 5u), (st.Permissions, st.Uid));
    }
}
