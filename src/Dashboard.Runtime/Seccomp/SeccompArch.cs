using System.Runtime.InteropServices;

namespace Dashboard.Runtime.Seccomp;

/// <summary>
/// The architectures this compiler has syscall tables for: every ABI a process can use on an
/// x86_64 or aarch64 kernel. Other libseccomp architecture names are accepted and skipped.
/// </summary>
public enum SeccompArch
{
    X86_64,
    X86,
    X32,
    Aarch64,
    Arm,
}

/// <summary>Names and <c>AUDIT_ARCH_*</c> values of <see cref="SeccompArch"/>.</summary>
public static class SeccompArchs
{
    /// <summary>Every architecture name of libseccomp that runtime-spec config-linux.md lists, plus LoongArch.</summary>
    internal static readonly string[] s_allOciNames =
    [
        "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
        "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
        "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",
        "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
    ];

    /// <summary>AUDIT_ARCH_X86_64 (EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE); x32 shares it.</summary>
    public const uint AuditX86_64 = 0xC000003E;

    /// <summary>AUDIT_ARCH_I386.</summary>
    public const uint AuditI386 = 0x40000003;

    /// <summary>AUDIT_ARCH_AARCH64.</summary>
    public const uint AuditAarch64 = 0xC00000B7;

    /// <summary>AUDIT_ARCH_ARM (little-endian EABI).</summary>
    public const uint AuditArm = 0x40000028;

    /// <summary>x32 syscalls carry this bit in their number (arch/x86/include/uapi/asm/unistd.h).</summary>
    public const uint X32SyscallBit = 0x40000000;

    /// <summary>The architecture of the running process.</summary>
    public static SeccompArch Native => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => SeccompArch.X86_64,
        Architecture.Arm64 => SeccompArch.Aarch64,
        Architecture.X86 => SeccompArch.X86,
        Architecture.Arm => SeccompArch.Arm,
        var other => throw new SeccompException($"seccomp: no syscall table for the native architecture {other.ToString().ToLowerInvariant()}"),
    };

    public static string OciName(SeccompArch arch) => arch switch
    {
        SeccompArch.X86_64 => "SCMP_ARCH_X86_64",
        SeccompArch.X86 => "SCMP_ARCH_X86",
        SeccompArch.X32 => "SCMP_ARCH_X32",
        SeccompArch.Aarch64 => "SCMP_ARCH_AARCH64",
        SeccompArch.Arm => "SCMP_ARCH_ARM",
        _ => throw new ArgumentOutOfRangeException(nameof(arch)),
    };

    /// <summary>The <c>seccomp_data.arch</c> value the kernel reports for <paramref name="arch"/>.</summary>
    public static uint AuditArch(SeccompArch arch) => arch switch
    {
        SeccompArch.X86_64 or SeccompArch.X32 => AuditX86_64,
        SeccompArch.X86 => AuditI386,
        SeccompArch.Aarch64 => AuditAarch64,
        SeccompArch.Arm => AuditArm,
        _ => throw new ArgumentOutOfRangeException(nameof(arch)),
    };

    /// <summary>Whether syscall arguments are 64 bits wide (libseccomp compares only the low word on 32-bit ABIs, x32 included).</summary>
    public static bool Is64Bit(SeccompArch arch) => arch is SeccompArch.X86_64 or SeccompArch.Aarch64;

    /// <summary>Parses an OCI architecture name; false for names this compiler has no table for.</summary>
    public static bool TryParse(string name, out SeccompArch arch)
    {
        switch (name)
        {
            case "SCMP_ARCH_X86_64": arch = SeccompArch.X86_64; return true;
            case "SCMP_ARCH_X86": arch = SeccompArch.X86; return true;
            case "SCMP_ARCH_X32": arch = SeccompArch.X32; return true;
            case "SCMP_ARCH_AARCH64": arch = SeccompArch.Aarch64; return true;
            case "SCMP_ARCH_ARM": arch = SeccompArch.Arm; return true;
            default: arch = default; return false;
        }
    }

    internal static bool IsKnownOciName(string name) => Array.IndexOf(s_allOciNames, name) >= 0;
}
