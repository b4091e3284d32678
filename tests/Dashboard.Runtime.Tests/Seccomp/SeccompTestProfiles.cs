using System.Runtime.CompilerServices;
using Dashboard.Oci.Runtime;
using OciSeccomp = Dashboard.Oci.Runtime.Seccomp;

namespace Dashboard.Runtime.Tests.Seccomp;

/// <summary>Profiles and expected results shared by the seccomp tests.</summary>
internal static class SeccompTestProfiles
{
    public const uint Allow = 0x7fff0000;
    public const uint KillThread = 0;
    public const uint KillProcess = 0x80000000;
    public const uint Trap = 0x00030000;
    public const uint Log = 0x7ffc0000;
    public const uint Notify = 0x7fc00000;

    public const uint AuditX86_64 = 0xC000003E;
    public const uint AuditI386 = 0x40000003;
    public const uint AuditAarch64 = 0xC00000B7;
    public const uint AuditArm = 0x40000028;
    public const uint X32Bit = 0x40000000;

    public static uint RetErrno(int errno) => 0x00050000u | (uint)errno;

    public static uint Trace(int data) => 0x7ff00000u | (uint)data;

    public static OciSeccomp Profile(string defaultAction, params SeccompSyscall[] syscalls) => new()
    {
        DefaultAction = defaultAction,
        Syscalls = [.. syscalls],
    };

    public static SeccompSyscall Rule(string action, params string[] names) => new() { Names = [.. names], Action = action };

    public static SeccompSyscall Rule(string action, string name, params SeccompArg[] args) =>
        new() { Names = [name], Action = action, Args = [.. args] };

    public static SeccompArg Arg(uint index, string op, ulong value, ulong valueTwo = 0) =>
        new() { Index = index, Op = op, Value = value, ValueTwo = valueTwo };

    /// <summary>A profile shaped like Docker's default (written for these tests): ~360 allowed names, conditional socket/personality/clone, clone3 → ENOSYS.</summary>
    public static OciSeccomp DockerDefault()
    {
        var json = File.ReadAllText(Path.Combine(SourceDirectory(), "docker-default.json"));
        var spec = RuntimeJson.ParseSpec("{\"ociVersion\":\"1.2.1\",\"linux\":{\"seccomp\":" + json + "}}");
        return spec.Linux!.Seccomp!;
    }

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
