using Dashboard.Images.Layers;
using Dashboard.Linux.Fs;
using Dashboard.Oci;

namespace Dashboard.Engine.Archive;

/// <summary>One line of <c>GET /containers/{id}/changes</c>: Kind 0 modified, 1 added, 2 deleted.</summary>
public sealed record ChangeView(string Path, int Kind);

/// <summary>
/// A container's changes against its image, read from its overlay upper directory: a char device
/// 0:0 is a whiteout (deleted), a path the image's layers also have is modified, anything else is
/// added (overlayfs whiteout and opaque-directory format, Documentation/filesystems/overlayfs.rst).
/// </summary>
public static class ContainerChanges
{
    public static List<ChangeView> Compute(string containerDirectory, LayerStore layers)
    {
        var upper = Path.Combine(containerDirectory, "upper");
        var result = new List<ChangeView>();
        if (!Directory.Exists(upper))
        {
            return result;
        }

        var layersFile = Path.Combine(containerDirectory, Images.ImageService.RootfsLayersFile);
        var chainIds = File.Exists(layersFile) ? File.ReadAllLines(layersFile).Where(l => l.Length > 0).Select(Digest.Parse).ToList() : [];
        var lowers = layers.GetLowerDirectories(chainIds);
        using var root = FileCalls.Open(upper, FileCalls.O_PATH | FileCalls.O_DIRECTORY);
        Walk(root, "", lowers, result);
        return result;
    }

    private static void Walk(Microsoft.Win32.SafeHandles.SafeFileHandle dir, string prefix, IReadOnlyList<string> lowers, List<ChangeView> result)
    {
        foreach (var name in SafeRoot.ListNames(dir).Order(StringComparer.Ordinal))
        {
            var path = prefix + "/" + name;
            var st = FileCalls.StatAt(dir, name);
            if (st is { Kind: FileKind.CharDevice, RdevMajor: 0, RdevMinor: 0 })
            {
                result.Add(new ChangeView(path, 2));
                continue;
            }

            result.Add(new ChangeView(path, InLowers(lowers, path) ? 0 : 1));
            if (st.Kind == FileKind.Directory)
            {
                using var sub = FileCalls.OpenAt(dir, name, FileCalls.O_PATH | FileCalls.O_DIRECTORY | FileCalls.O_NOFOLLOW);
                Walk(sub, path, lowers, result);
            }
        }
    }

    private static bool InLowers(IReadOnlyList<string> lowers, string path)
    {
        foreach (var lower in lowers)
        {
            using var root = SafeRoot.Open(lower);
            if (root.Lstat(path) is not null)
            {
                return true;
            }
        }

        return false;
    }
}
