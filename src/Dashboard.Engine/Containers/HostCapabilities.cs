using System.Globalization;

namespace Dashboard.Engine.Containers;

/// <summary>
/// The capabilities the engine itself may pass on: its bounding set. A privileged container gets all
/// of them (containerd's <c>WithPrivileged</c> uses the current set too), never one the host withheld
/// from the engine, which the runtime could not grant and would fail on.
/// </summary>
public static class HostCapabilities
{
    private static readonly Lazy<ulong> s_bounding = new(ReadBounding);

    /// <summary>Whether <paramref name="capability"/> (e.g. <c>CAP_SYS_ADMIN</c>, index in <see cref="SpecBuilder.AllCapabilities"/>) is in the engine's bounding set.</summary>
    public static bool InBoundingSet(string capability)
    {
        var index = SpecBuilder.AllCapabilities.ToList().IndexOf(capability);
        return index >= 0 && (s_bounding.Value & (1UL << index)) != 0;
    }

    private static ulong ReadBounding()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("CapBnd:", StringComparison.Ordinal)
                    && ulong.TryParse(line["CapBnd:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask))
                {
                    return mask;
                }
            }
        }
        catch (IOException)
        {
        }

        return ulong.MaxValue;
    }
}
