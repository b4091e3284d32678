using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Dashboard.Engine.Networking;

/// <summary>An IPv4 prefix (<c>10.89.1.0/24</c>) with the arithmetic IPAM needs.</summary>
public readonly record struct Ipv4Network(uint Address, int Prefix)
{
    public uint Mask => Prefix == 0 ? 0 : uint.MaxValue << (32 - Prefix);

    public uint First => Address & Mask;

    public uint Last => First | ~Mask;

    public static Ipv4Network Parse(string cidr)
    {
        if (!TryParse(cidr, out var n))
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid CIDR address: {cidr}");
        }

        return n;
    }

    public static bool TryParse(string? cidr, out Ipv4Network network)
    {
        network = default;
        var slash = cidr?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (cidr is null || slash < 0
            || !int.TryParse(cidr.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix is < 0 or > 32
            || !TryParseAddress(cidr[..slash], out var address))
        {
            return false;
        }

        network = new Ipv4Network(address, prefix);
        return true;
    }

    public static bool TryParseAddress(string text, out uint address)
    {
        address = 0;
        if (!IPAddress.TryParse(text, out var ip) || ip.AddressFamily != AddressFamily.InterNetwork || text.Count(c => c == '.') != 3)
        {
            return false;
        }

        address = BinaryPrimitives.ReadUInt32BigEndian(ip.GetAddressBytes());
        return true;
    }

    public static string Format(uint address)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, address);
        return new IPAddress(bytes).ToString();
    }

    /// <summary>The network itself (host bits cleared).</summary>
    public Ipv4Network Canonical => new(First, Prefix);

    public bool Contains(uint address) => (address & Mask) == First;

    public bool Overlaps(Ipv4Network other) => First <= other.Last && other.First <= Last;

    public override string ToString() => Format(First) + "/" + Prefix.ToString(CultureInfo.InvariantCulture);

    /// <summary>IPv4 routes of the host (<c>/proc/net/route</c>) as interface and prefix, the default route left out.</summary>
    public static IReadOnlyList<(string Interface, Ipv4Network Network)> HostRoutes(string path = "/proc/net/route")
    {
        var result = new List<(string, Ipv4Network)>();
        if (!File.Exists(path))
        {
            return result;
        }

        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var f = line.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (f.Length < 8
                || !uint.TryParse(f[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var dest)
                || !uint.TryParse(f[7], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask))
            {
                continue;
            }

            // The kernel prints the network-order word with %08X, so on little-endian hosts the bytes read reversed.
            if (BitConverter.IsLittleEndian)
            {
                dest = BinaryPrimitives.ReverseEndianness(dest);
                mask = BinaryPrimitives.ReverseEndianness(mask);
            }

            var prefix = System.Numerics.BitOperations.PopCount(mask);
            if (prefix > 0)
            {
                result.Add((f[0], new Ipv4Network(dest, prefix)));
            }
        }

        return result;
    }
}
