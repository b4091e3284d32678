using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;

namespace Dashboard.Engine.Hosting;

/// <summary>The peer of a unix socket connection as the kernel reports it (SO_PEERCRED, unix(7)).</summary>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid)
{
    private const int SOL_SOCKET = 1;
    private const int SO_PEERCRED = 17;

    /// <summary>Reads <c>struct ucred { pid_t pid; uid_t uid; gid_t gid; }</c> from a connected unix socket.</summary>
    public static PeerCredentials FromSocket(Socket socket)
    {
        Span<byte> ucred = stackalloc byte[12];
        var length = socket.GetRawSocketOption(SOL_SOCKET, SO_PEERCRED, ucred);
        if (length != 12)
        {
            throw new EngineException(ErrorKind.Internal, $"getsockopt SO_PEERCRED: short read ({length} bytes)");
        }

        return new PeerCredentials(
            BinaryPrimitives.ReadInt32LittleEndian(ucred),
            BinaryPrimitives.ReadUInt32LittleEndian(ucred[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(ucred[8..]));
    }
}

/// <summary>
/// Who may talk to the engine: root, the engine's own user, and members of the socket group
/// (primary group from SO_PEERCRED, supplementary groups from /proc/PID/status). The socket's
/// 0660 mode already says so; this check also holds if the mode is widened by mistake (security.md D9).
/// </summary>
public sealed class PeerPolicy
{
    private readonly uint _engineUid;
    private readonly uint? _groupId;
    private readonly string _procRoot;

    public PeerPolicy(uint engineUid, uint? groupId, string procRoot = "/proc")
    {
        _engineUid = engineUid;
        _groupId = groupId;
        _procRoot = procRoot;
    }

    public uint? GroupId => _groupId;

    public bool IsAllowed(PeerCredentials peer)
    {
        if (peer.Uid == 0 || peer.Uid == _engineUid)
        {
            return true;
        }

        if (_groupId is not { } gid)
        {
            return false;
        }

        return peer.Gid == gid || SupplementaryGroups(peer.Pid).Contains(gid);
    }

    private HashSet<uint> SupplementaryGroups(int pid)
    {
        var result = new HashSet<uint>();
        try
        {
            foreach (var line in File.ReadLines(Path.Combine(_procRoot, pid.ToString(CultureInfo.InvariantCulture), "status")))
            {
                if (!line.StartsWith("Groups:", StringComparison.Ordinal))
                {
                    continue;
                }

                foreach (var part in line["Groups:".Length..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
                {
                    if (uint.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var g))
                    {
                        result.Add(g);
                    }
                }

                break;
            }
        }
        catch (IOException)
        {
            // The peer exited: it gets no more than its primary group.
        }
        catch (UnauthorizedAccessException)
        {
        }

        return result;
    }

    /// <summary>Looks a group up in an /etc/group-format file.</summary>
    public static uint? LookupGroup(string name, string groupFile = "/etc/group")
    {
        if (!File.Exists(groupFile))
        {
            return null;
        }

        foreach (var line in File.ReadLines(groupFile))
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[0] == name
                && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
            {
                return gid;
            }
        }

        return null;
    }
}
