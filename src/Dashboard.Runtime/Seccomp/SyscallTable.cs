using System.Text;

namespace Dashboard.Runtime.Seccomp;

/// <summary>
/// Syscall name to number, per architecture, from the kernel's UAPI headers
/// (SyscallTable.g.cs, made by gen-syscall-tables.sh). x32 numbers include the x32 bit.
/// The tables are constant data; each architecture's dictionary is built on first use.
/// </summary>
public static partial class SyscallTable
{
    private static readonly SeccompArch[] s_all = [SeccompArch.X86_64, SeccompArch.X86, SeccompArch.X32, SeccompArch.Aarch64, SeccompArch.Arm];
    private static readonly Dictionary<string, int>?[] s_maps = new Dictionary<string, int>?[s_all.Length];

    /// <summary>ARM's private syscalls (breakpoint, cacheflush, set_tls, …) live at 0x0f0000 and up.</summary>
    internal const int ArmPrivateBase = 0x0f0000;

    /// <summary>The number of <paramref name="name"/> on <paramref name="arch"/>, or -1 if that ABI has no such syscall.</summary>
    public static int Lookup(SeccompArch arch, string name) =>
        name is not null && Map(arch).TryGetValue(name, out var nr) ? nr : -1;

    /// <summary>Whether any architecture with a table knows <paramref name="name"/>.</summary>
    public static bool IsKnown(string name)
    {
        foreach (var arch in s_all)
        {
            if (Lookup(arch, name) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>How many syscalls <paramref name="arch"/> has in the table.</summary>
    public static int Count(SeccompArch arch) => Map(arch).Count;

    /// <summary>Every syscall name of <paramref name="arch"/>.</summary>
    internal static IEnumerable<string> Names(SeccompArch arch) => Map(arch).Keys;

    private static Dictionary<string, int> Map(SeccompArch arch)
    {
        var index = (int)arch;
        if ((uint)index >= (uint)s_maps.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(arch));
        }

        return Volatile.Read(ref s_maps[index]) ?? Build(arch);
    }

    private static Dictionary<string, int> Build(SeccompArch arch)
    {
        var names = arch switch
        {
            SeccompArch.X86_64 => X86_64Names,
            SeccompArch.X86 => X86Names,
            SeccompArch.X32 => X32Names,
            SeccompArch.Aarch64 => Aarch64Names,
            _ => ArmNames,
        };
        var numbers = arch switch
        {
            SeccompArch.X86_64 => X86_64Numbers,
            SeccompArch.X86 => X86Numbers,
            SeccompArch.X32 => X32Numbers,
            SeccompArch.Aarch64 => Aarch64Numbers,
            _ => ArmNumbers,
        };

        var map = new Dictionary<string, int>(numbers.Length, StringComparer.Ordinal);
        var start = 0;
        var next = 0;
        for (var i = 0; i < names.Length; i++)
        {
            if (names[i] == 0)
            {
                map[Encoding.ASCII.GetString(names[start..i])] = numbers[next++];
                start = i + 1;
            }
        }

        Volatile.Write(ref s_maps[(int)arch], map);
        return map;
    }
}
