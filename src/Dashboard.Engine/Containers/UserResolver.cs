using System.Globalization;

namespace Dashboard.Engine.Containers;

/// <summary>
/// Resolves Docker's <c>User</c> (<c>name</c>, <c>uid</c>, <c>uid:gid</c>, <c>name:group</c>) against the
/// image's <c>/etc/passwd</c> and <c>/etc/group</c>. Those files are untrusted: a symlink among them is
/// refused instead of being followed onto the host (security.md A10, B10).
/// </summary>
public static class UserResolver
{
    public static (uint Uid, uint Gid, List<uint> Additional) Resolve(string user, string rootfs)
    {
        if (user.Length == 0)
        {
            return (0, 0, []);
        }

        var colon = user.IndexOf(':', StringComparison.Ordinal);
        var userPart = colon < 0 ? user : user[..colon];
        var groupPart = colon < 0 ? null : user[(colon + 1)..];
        uint uid;
        uint gid = 0;
        string? userName = null;
        if (TryNumber(userPart, out uid))
        {
            var entry = ReadDb(rootfs, "passwd").FirstOrDefault(f => f.Length >= 4 && f[2] == userPart);
            if (entry is not null && TryNumber(entry[3], out var g))
            {
                gid = g;
                userName = entry[0];
            }
        }
        else
        {
            var entry = ReadDb(rootfs, "passwd").FirstOrDefault(f => f.Length >= 4 && f[0] == userPart)
                ?? throw new EngineException(ErrorKind.InvalidArgument, $"unable to find user {userPart}: no matching entries in passwd file");
            if (!TryNumber(entry[2], out uid) || !TryNumber(entry[3], out gid))
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid passwd entry for user {userPart}");
            }

            userName = userPart;
        }

        if (groupPart is not null)
        {
            gid = TryNumber(groupPart, out var g) ? g : ResolveGroup(groupPart, rootfs);
        }

        var additional = new List<uint>();
        if (userName is not null && groupPart is null)
        {
            foreach (var f in ReadDb(rootfs, "group"))
            {
                if (f.Length >= 4 && f[3].Split(',').Contains(userName) && TryNumber(f[2], out var g) && g != gid)
                {
                    additional.Add(g);
                }
            }
        }

        return (uid, gid, additional);
    }

    public static uint ResolveGroup(string group, string rootfs)
    {
        var entry = ReadDb(rootfs, "group").FirstOrDefault(f => f.Length >= 3 && f[0] == group);
        return entry is not null && TryNumber(entry[2], out var gid)
            ? gid
            : throw new EngineException(ErrorKind.InvalidArgument, $"unable to find group {group}: no matching entries in group file");
    }

    private static bool TryNumber(string text, out uint value) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static List<string[]> ReadDb(string rootfs, string name)
    {
        var etc = new DirectoryInfo(Path.Combine(rootfs, "etc"));
        var file = new FileInfo(Path.Combine(etc.FullName, name));
        if (!etc.Exists || etc.LinkTarget is not null || !file.Exists || file.LinkTarget is not null || file.Length > 16 * 1024 * 1024)
        {
            return [];
        }

        return File.ReadLines(file.FullName).Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split(':')).ToList();
    }
}
