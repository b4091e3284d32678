using System.Security.Cryptography;
using System.Text;
using Dashboard.Images.Layers;
using Dashboard.Linux.Fs;
using Dashboard.Oci;

namespace Dashboard.Images.Tests.Layers;

/// <summary>
/// A temp directory with <c>root/</c> (where layers go) and a <c>sentinel/</c> beside it that no
/// layer may change (security.md B: "a sentinel directory beside the root that must stay untouched").
/// </summary>
public sealed class LayerTestRoot : IDisposable
{
    public LayerTestRoot()
    {
        Base = Directory.CreateTempSubdirectory("dashboard-layer-").FullName;
        Root = Path.Combine(Base, "root");
        Sentinel = Path.Combine(Base, "sentinel");
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Path.Combine(Sentinel, "etc", "cron.d"));
        File.WriteAllText(Path.Combine(Sentinel, "file"), "I am a host file");
        File.WriteAllText(Path.Combine(Sentinel, "perm400"), "read only");
        File.SetUnixFileMode(Path.Combine(Sentinel, "perm400"), UnixFileMode.UserRead);
        File.WriteAllText(Path.Combine(Sentinel, "etc", "passwd"), "root:x:0:0::/root:/bin/sh\n");
        File.CreateSymbolicLink(Path.Combine(Sentinel, "link"), "file");
        SentinelBefore = Snapshot(Sentinel);
    }

    public string Base { get; }

    public string Root { get; }

    public string Sentinel { get; }

    public string SentinelBefore { get; }

    public LayerApplyResult Apply(byte[] tar, bool fallback = false, Digest? diffId = null, LayerLimits? limits = null)
    {
        using var root = SafeRoot.Open(Root, new SafeRootOptions { ForceFallback = fallback });
        return LayerApplier.Apply(root, new MemoryStream(tar), diffId, limits);
    }

    public void AssertSentinelUntouched()
    {
        Assert.Equal(SentinelBefore, Snapshot(Sentinel));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Base).Select(Path.GetFileName).Except(["root", "sentinel"]));
    }

    /// <summary>Inodes of sentinel files: no entry in the root may share one (security.md B3).</summary>
    public void AssertNoSharedInodes()
    {
        var sentinel = Walk(Sentinel).Select(p => FileCalls.Lstat(p).Inode).ToHashSet();
        foreach (var path in Walk(Root))
        {
            Assert.DoesNotContain(FileCalls.Lstat(path).Inode, sentinel);
        }
    }

    public string RootPath(string relative) => Path.Combine(Root, relative);

    /// <summary>One line per entry: path, type, mode, owner, mtime, size, content hash or link target, xattrs.</summary>
    public static string Snapshot(string directory)
    {
        var lines = new List<string>();
        foreach (var path in Walk(directory).Order(StringComparer.Ordinal))
        {
            lines.Add(Describe(directory, path, inode: false));
        }

        return string.Join('\n', lines);
    }

    public static string Describe(string directory, string path, bool inode)
    {
        var st = FileCalls.Lstat(path);
        var detail = st.Kind switch
        {
            FileKind.Regular => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))),
            FileKind.Symlink => "-> " + new FileInfo(path).LinkTarget,
            FileKind.CharDevice or FileKind.BlockDevice => $"{st.RdevMajor}:{st.RdevMinor}",
            _ => string.Empty,
        };
        var xattrs = string.Join(',', FileCalls.ListXattrs(path).OrderBy(x => x.Key, StringComparer.Ordinal)
            .Select(x => $"{x.Key}={Convert.ToHexStringLower(x.Value)}"));
        var mtime = st.Kind == FileKind.Directory ? string.Empty : st.ModifiedTime.ToUnixTimeSeconds().ToString();
        var builder = new StringBuilder();
        builder.Append(Path.GetRelativePath(directory, path)).Append(' ').Append(st.Kind).Append(' ')
            .Append(Convert.ToString(st.Permissions, 8)).Append(' ').Append(st.Uid).Append(':').Append(st.Gid).Append(' ')
            .Append(mtime).Append(' ').Append(detail).Append(' ').Append(xattrs);
        // overlayfs reports nlink 1 for merged directories; hardlink counts matter for the rest.
        if (inode && st.Kind != FileKind.Directory)
        {
            builder.Append(" links=").Append(st.Links);
        }

        return builder.ToString();
    }

    /// <summary>Every path below a directory; symlinks are listed, never entered (Directory.Enumerate* would follow them).</summary>
    public static IEnumerable<string> Walk(string directory)
    {
        foreach (var path in Directory.EnumerateFileSystemEntries(directory))
        {
            yield return path;
            if (FileCalls.Lstat(path).Kind == FileKind.Directory)
            {
                foreach (var child in Walk(path))
                {
                    yield return child;
                }
            }
        }
    }

    /// <summary>Removes a test tree without following any symlink a hostile layer left in it.</summary>
    public static void RemoveTree(string path)
    {
        using var parent = FileCalls.Open(Path.GetDirectoryName(path)!, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
        SafeRoot.RemoveAllAt(parent, Path.GetFileName(path));
    }

    public void Dispose() => RemoveTree(Base);
}
