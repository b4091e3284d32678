using System.Diagnostics;
using System.Text;
using Dashboard.Images.Layers;
using Dashboard.Linux.Fs;
using Dashboard.Testing;
using Dashboard.Testing.Images;

namespace Dashboard.Images.Tests.Layers;

/// <summary>
/// security.md B1–B7 as a table (ported from containerd TestBreakouts, moby/go-archive and umoci
/// tar_extract tests). Policy: entry names are clamped into the root (rooted lexical clean), link
/// and whiteout targets are resolved in-root; whatever happens, the sentinel beside the root and
/// every host path stay untouched.
/// </summary>
public sealed class LayerBreakoutTests
{
    public enum Outcome
    {
        Applies,
        Rejected,
    }

    private sealed record Case(Func<LayerTestRoot, byte[][]> Layers, Outcome Expect, Action<LayerTestRoot>? Check = null);

    private static readonly Dictionary<string, Case> s_cases = new()
    {
        // B1: traversal in names is clamped to the root.
        ["DotDotX"] = new(_ => [Tar().File("../x", "p").ToArray()], Outcome.Applies, t => AssertFile(t, "x", "p")),
        ["SlashDotDotX"] = new(_ => [Tar().File("/../x", "p").ToArray()], Outcome.Applies, t => AssertFile(t, "x", "p")),
        ["DotDotSentinel"] = new(_ => [Tar().File("../sentinel/file", "pwned").ToArray()], Outcome.Applies, t => AssertFile(t, "sentinel/file", "pwned")),
        ["NestedDotDot"] = new(_ => [Tar().File("a/../../x", "p").File("./../y", "p").File("a//..//..//z", "p").ToArray()], Outcome.Applies, t => AssertFile(t, "z", "p")),
        ["AbsoluteName"] = new(_ => [Tar().File("/abs/x", "p").ToArray()], Outcome.Applies, t => AssertFile(t, "abs/x", "p")),
        ["DotDotAsDirectory"] = new(_ => [Tar().Dir("..").Dir("x/../../..").ToArray()], Outcome.Applies),
        ["DotDotAsFile"] = new(_ => [Tar().File("x/../../..", "p").ToArray()], Outcome.Rejected),
        ["Backslashes"] = new(_ => [Tar().File("..\\..\\x", "p").File("..\u2215x", "p").ToArray()], Outcome.Applies, t => AssertFile(t, "..\\..\\x", "p")),
        ["LongComponent"] = new(_ => [Tar().File(new string('a', 4096), "p").ToArray()], Outcome.Rejected),
        ["LongPaxPath"] = new(_ => [Tar().File(string.Join('/', Enumerable.Repeat(new string('d', 250), 400)) + "/x", "p").ToArray()], Outcome.Rejected),

        // B2: a symlink planted, then written through, in one layer or two.
        ["SymlinkAbsoluteRoot"] = new(t => [Tar().Symlink("link", "/").File("link" + t.Sentinel + "/file", "pwned").ToArray()], Outcome.Applies,
            t => AssertFile(t, t.Sentinel.TrimStart('/') + "/file", "pwned")),
        ["SymlinkToHostDir"] = new(t => [Tar().Symlink("evil", t.Sentinel + "/etc").File("evil/cron.d/x", "pwned").ToArray()], Outcome.Applies),
        ["SymlinkUpAndOut"] = new(_ => [Tar().Symlink("up", "../../../../../..").File("up/sentinel/file", "pwned").File("up/x", "p").ToArray()], Outcome.Applies,
            t => AssertFile(t, "x", "p")),
        ["SymlinkTwoLayers"] = new(t => [Tar().Symlink("var/run", t.Sentinel).ToArray(), Tar().File("var/run/file", "pwned").ToArray()], Outcome.Applies,
            t => AssertFile(t, t.Sentinel.TrimStart('/') + "/file", "pwned")),
        ["SymlinkDotEntry"] = new(_ => [Tar().Symlink(".", "/").ToArray()], Outcome.Rejected),
        ["SymlinkSlashDotEntry"] = new(_ => [Tar().Symlink("/.", "/tmp").ToArray()], Outcome.Rejected),
        ["SymlinkNestedUp"] = new(_ => [Tar().Dir("a").Symlink("a/b", "../../..").File("a/b/etc/passwd", "pwned").ToArray()], Outcome.Applies,
            t => AssertFile(t, "etc/passwd", "pwned")),
        ["SymlinkDanglingOutside"] = new(t => [Tar().Symlink("link", t.Base + "/created").File("link/newfile", "p").ToArray()], Outcome.Applies),
        ["SymlinkChain50"] = new(_ => [Chain(50).File("l0/x", "p").ToArray()], Outcome.Rejected),
        ["SymlinkLoop"] = new(_ => [Tar().Symlink("a", "b").Symlink("b", "a").File("a/x", "p").ToArray()], Outcome.Rejected),
        ["RelativeEscapeBeforeAbsolute"] = new(t => [Tar().Symlink("escape", "..").Symlink("absolute", t.Sentinel).File("escape/absolute/file", "pwned").ToArray()], Outcome.Applies),
        ["SymlinkOverrideDirectory"] = new(t => [Tar().Dir("etc").Symlink("etc", t.Sentinel + "/etc").File("etc/passwd", "pwned").ToArray()], Outcome.Applies),
        ["DirectoryOverrideSymlink"] = new(t => [Tar().Symlink("etc", t.Sentinel + "/etc").Dir("etc").File("etc/passwd", "in").ToArray()], Outcome.Applies,
            t => AssertFile(t, "etc/passwd", "in")),

        // B3: hardlinks.
        ["HardlinkDotDot"] = new(_ => [Tar().Hardlink("x", "../sentinel/file").ToArray()], Outcome.Rejected),
        ["HardlinkSlashDotDot"] = new(_ => [Tar().Hardlink("x", "/../sentinel/file").ToArray()], Outcome.Rejected),
        ["HardlinkAbsoluteHost"] = new(t => [Tar().Hardlink("x", t.Sentinel + "/file").ToArray()], Outcome.Rejected),
        ["HardlinkThroughSymlink"] = new(t => [Tar().Symlink("link", t.Sentinel).Hardlink("x", "link/file").ToArray()], Outcome.Rejected),
        ["HardlinkThroughRelativeSymlink"] = new(_ => [Tar().Symlink("link", "../sentinel").Hardlink("x", "link/file").ToArray()], Outcome.Rejected),
        ["HardlinkToDirectory"] = new(_ => [Tar().Dir("d").Hardlink("x", "d").ToArray()], Outcome.Rejected),
        ["HardlinkNodeTarChain"] = new(_ => [Tar().Dir("a/b/c").Symlink("a/b/c/up", "../..").Symlink("a/b/escape", "c/up/../..").Hardlink("exfil", "a/b/escape/sentinel/file").ToArray()], Outcome.Rejected),
        ["HardlinkToSymlink"] = new(t => [Tar().Symlink("link", t.Sentinel + "/file").Hardlink("hard", "link").ToArray()], Outcome.Applies,
            t => Assert.Equal(t.Sentinel + "/file", new FileInfo(t.RootPath("hard")).LinkTarget)),
        ["HardlinkAbsoluteInRoot"] = new(_ => [Tar().File("bin/busybox", "elf").Hardlink("bin/sh", "/bin/busybox").ToArray()], Outcome.Applies,
            t => Assert.Equal(2u, FileCalls.Lstat(t.RootPath("bin/sh")).Links)),

        // B4: metadata through symlinks.
        ["ChmodThroughSymlink"] = new(t => [Tar().Symlink("link", t.Sentinel + "/perm400").File("link", "new", 0xDFF).ToArray()], Outcome.Applies,
            t => Assert.Equal(FileKind.Regular, FileCalls.Lstat(t.RootPath("link")).Kind)),
        ["HardlinkSymlinkChmod"] = new(t => [Tar().Symlink("link", t.Sentinel + "/perm400").Hardlink("hl", "link", 0xDFF).Dir("link", 0x1FF).ToArray()], Outcome.Applies),
        ["DirectoryMetadataThroughSymlinkParent"] = new(t => [Tar().Symlink("d", t.Sentinel).Dir("d/etc", 0x1FF, uid: 1234).ToArray()], Outcome.Applies),

        // B5: whiteouts.
        ["WhiteoutDotDot"] = new(_ => [Lower(), Tar().File(".wh..", string.Empty).ToArray()], Outcome.Rejected),
        ["WhiteoutEtcDotDot"] = new(_ => [Lower(), Tar().File("etc/.wh..", string.Empty).ToArray()], Outcome.Rejected),
        ["WhiteoutThreeDots"] = new(_ => [Lower(), Tar().File(".wh...", string.Empty).ToArray()], Outcome.Rejected),
        ["WhiteoutEmpty"] = new(_ => [Lower(), Tar().File(".wh.", string.Empty).ToArray()], Outcome.Rejected),
        ["WhiteoutSymlinkParent"] = new(_ => [Lower(), Tar().File("localetc/.wh.passwd", string.Empty).ToArray()], Outcome.Applies,
            t => Assert.False(File.Exists(t.RootPath("etc/passwd")))),
        ["WhiteoutSymlinkItself"] = new(_ => [Lower(), Tar().File(".wh.localetc", string.Empty).ToArray()], Outcome.Applies,
            t =>
            {
                Assert.False(Path.Exists(t.RootPath("localetc")));
                Assert.True(File.Exists(t.RootPath("etc/passwd")));
            }),
        ["WhiteoutHostSymlinkParent"] = new(t => [Tar().Symlink("hostetc", t.Sentinel + "/etc").ToArray(), Tar().File("hostetc/.wh.passwd", string.Empty).ToArray()], Outcome.Applies),
        ["WhiteoutRelativePath"] = new(_ => [Lower(), Tar().File("dne/../.wh.etc", string.Empty).ToArray()], Outcome.Applies,
            t => Assert.False(Path.Exists(t.RootPath("etc")))),
        ["WhiteoutUpAndOut"] = new(_ => [Lower(), Tar().File("../.wh.sentinel", string.Empty).File("../../.wh.root", string.Empty).ToArray()], Outcome.Applies),
        ["WhiteoutDirectoryName"] = new(_ => [Lower(), Tar().Dir(".wh.etc").ToArray()], Outcome.Applies,
            t => Assert.False(Path.Exists(t.RootPath("etc")))),
        ["OpaqueThroughHostSymlink"] = new(t => [Tar().Symlink("hostetc", t.Sentinel + "/etc").ToArray(), Tar().File("hostetc/.wh..wh..opq", string.Empty).ToArray()], Outcome.Applies),

        // B6: special files.
        ["DeviceMajorTooLarge"] = new(_ => [Tar().Device("dev/x", false, 4096, 0).ToArray()], Outcome.Rejected),
        ["DeviceMinorTooLarge"] = new(_ => [Tar().Device("dev/x", true, 8, 0x100000).ToArray()], Outcome.Rejected),
        ["FifoAsDirectory"] = new(_ => [Tar().Fifo("usr").File("usr/bin/x", "p").ToArray()], Outcome.Rejected),
        ["TrustedXattr"] = new(_ => [Tar().Dir("d", pax: new Dictionary<string, string> { ["SCHILY.xattr.trusted.overlay.opaque"] = "y" }).ToArray()], Outcome.Applies,
            t => Assert.DoesNotContain(FileCalls.ListXattrs(t.RootPath("d")).Keys, k => k.StartsWith("trusted.", StringComparison.Ordinal))),
        ["UnknownTypeflag"] = new(_ => [Tar().Raw(TestTar.Header("z", 'Z', "0")).ToArray()], Outcome.Rejected),
        ["SparseTypeflag"] = new(_ => [Tar().Raw(TestTar.Header("s", 'S', "0")).ToArray()], Outcome.Rejected),

        // B7: header bombs and truncation.
        ["PaxHeaderOver1MiB"] = new(_ => [Tar().File("x", "p", pax: new Dictionary<string, string> { ["comment"] = new string('a', 2 << 20) }).ToArray()], Outcome.Rejected),
        ["GnuLongNameOver1MiB"] = new(_ => [RawArchive(TestTar.Header("././@LongLink", 'L', Convert.ToString(2 << 20, 8)), new byte[2 << 20])], Outcome.Rejected),
        ["TruncatedEntry"] = new(_ => [RawArchive(TestTar.Header("big", '0', Convert.ToString(1 << 20, 8)), new byte[1000])], Outcome.Rejected),
        ["HugeDeclaredSize"] = new(_ => [RawArchive(TestTar.Header("big", '0', Convert.ToString(1L << 32, 8)), new byte[512])], Outcome.Rejected),
    };

    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in s_cases.Keys)
        {
            data.Add(name, false);
            data.Add(name, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Apply_HostileLayer_NeverTouchesOutsideRoot(string name, bool fallback)
    {
        Requires.Root();
        var @case = s_cases[name];
        using var t = new LayerTestRoot();
        var layers = @case.Layers(t);
        Exception? error = null;
        try
        {
            foreach (var layer in layers)
            {
                t.Apply(layer, fallback, limits: new LayerLimits { MaxUncompressedBytes = 64L << 20 });
            }
        }
        catch (ImageException e)
        {
            error = e;
        }

        t.AssertSentinelUntouched();
        t.AssertNoSharedInodes();
        Assert.False(File.Exists(Path.Combine(t.Base, "created")));
        if (@case.Expect == Outcome.Rejected)
        {
            Assert.NotNull(error);
            Assert.Equal(ImageErrorKind.InvalidSpec, ((ImageException)error).Kind);
        }
        else
        {
            Assert.Null(error);
            @case.Check?.Invoke(t);
        }
    }

    [Fact]
    public void Apply_RepeatedOpaqueMarkers_FinishesQuickly()
    {
        using var t = new LayerTestRoot();
        var lower = Tar();
        for (var i = 0; i < 2000; i++)
        {
            lower.File($"d/f{i}", string.Empty);
        }

        t.Apply(lower.ToArray());
        var upper = Tar();
        for (var i = 0; i < 100_000; i++)
        {
            upper.Add(new System.Formats.Tar.UstarTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "d/.wh..wh..opq"), 0x1A4, 0, 0);
        }

        var watch = Stopwatch.StartNew();
        t.Apply(upper.ToArray());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        Assert.Empty(Directory.EnumerateFileSystemEntries(t.RootPath("d")));
    }

    [Fact]
    public void Apply_GzipBomb_StopsAtLimit()
    {
        using var t = new LayerTestRoot();
        var tar = Tar().File("zeros", new byte[32 << 20]).ToArray();
        var gzip = TestTar.Gzip(tar, System.IO.Compression.CompressionLevel.SmallestSize);
        using var root = SafeRoot.Open(t.Root);
        using var stream = LayerApplier.Decompress(new MemoryStream(gzip), Oci.Image.LayerCompression.Gzip);
        var e = Assert.Throws<ImageException>(() => LayerApplier.Apply(root, stream, null, new LayerLimits { MaxUncompressedBytes = 1 << 20 }, TestContext.Current.CancellationToken));
        Assert.Contains("larger than the limit", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(t.RootPath("zeros")));
    }

    [Fact]
    public void Apply_TooManyEntries_Rejected()
    {
        using var t = new LayerTestRoot();
        var tar = Tar();
        for (var i = 0; i < 20; i++)
        {
            tar.File($"f{i}", string.Empty);
        }

        var e = Assert.Throws<ImageException>(() => t.Apply(tar.ToArray(), limits: new LayerLimits { MaxEntries = 10 }));
        Assert.Contains("more than 10 entries", e.Message, StringComparison.Ordinal);
    }

    private static TestTar Tar() => new();

    private static byte[] Lower() => Tar()
        .Dir("etc")
        .File("etc/passwd", "root:x:0:0")
        .File("etc/whitedout", "x")
        .Symlink("localetc", "/etc")
        .ToArray();

    private static TestTar Chain(int length)
    {
        var tar = Tar().Dir("target");
        for (var i = 0; i < length; i++)
        {
            tar.Symlink($"l{i}", i == length - 1 ? "target" : $"l{i + 1}");
        }

        return tar;
    }

    private static byte[] RawArchive(byte[] header, byte[] data) => [.. header, .. data];

    private static void AssertFile(LayerTestRoot t, string relative, string content) =>
        Assert.Equal(content, File.ReadAllText(t.RootPath(relative), Encoding.UTF8));
}
