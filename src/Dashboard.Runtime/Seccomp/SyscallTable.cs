namespace Dashboard.Runtime.Seccomp;

/// <summary>
/// Syscall name to number, per architecture, from the kernel's UAPI headers
/// (SyscallTable.g.cs, made by gen-syscall-tables.sh). x32 numbers include the x32 bit.
/// </summary>
public static partial class SyscallTable
{
    private static readonly SeccompArch[] s_all = [SeccompArch.X86_64, SeccompArch.X86, SeccompArch.X32, SeccompArch.Aarch64, SeccompArch.Arm];

    /// <summary>ARM's private syscalls (breakpoint, cacheflush, set_tls, …) live at 0x0f0000 and up.</summary>
    internal const int ArmPrivateBase = 0x0f0000;

    /// <summary>The number of <paramref name="name"/> on <paramref name="arch"/>, or -1 if that ABI has no such syscall.</summary>
    public static int Lookup(SeccompArch arch, string name) => arch switch
    {
        SeccompArch.X86_64 => X86_64(name),
        SeccompArch.X86 => X86(name),
        SeccompArch.X32 => X32(name),
        SeccompArch.Aarch64 => Aarch64(name),
        SeccompArch.Arm => Arm(name),
        _ => -1,
    };

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
}
