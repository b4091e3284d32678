using System.Runtime.InteropServices;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Seccomp;
using Dashboard.Testing;
using static Dashboard.Runtime.Tests.Seccomp.SeccompTestProfiles;
using OciSeccomp = Dashboard.Oci.Runtime.Seccomp;

namespace Dashboard.Runtime.Tests.Seccomp;

/// <summary>
/// Compiles the same profile with our compiler and with libseccomp (as runc does: rules added by
/// name, rules equal to the default skipped) and runs both programs over the same inputs. Only
/// inputs at or below the profile's highest syscall are compared, since above it runc's ENOSYS
/// patch, not libseccomp, decides.
/// </summary>
public unsafe partial class LibseccompDifferentialTests
{
    private const string Lib = "libseccomp.so.2";
    private const uint ScmpArchX32 = 0x4000003E;

    private static readonly ulong[] s_args =
    [
        0, 1, 8, 38, 40, 0x20000, 0x20008, 0x01200011, 0x7E020000, 0x10000000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF,
        0x1_0000_0000, 0x1_0000_0001, 0x1_FFFF_FFFF, 0xFFFF_FFFF_0000_0000, ulong.MaxValue,
    ];

    [Fact]
    public void DockerDefault_MatchesLibseccomp()
    {
        RequireLibseccomp();
        var profile = DockerDefault();

        AssertSameDecisions(profile, argIndex: 0);
    }

    [Fact]
    public void ComparisonOperators_MatchLibseccomp()
    {
        RequireLibseccomp();
        var rules = new List<SeccompSyscall>();
        string[] names =
        [
            "getpid", "getppid", "gettid", "getuid", "getgid", "geteuid", "getegid", "sync", "pause", "getpgrp",
            "setsid", "vhangup", "munlockall", "sched_yield", "times", "umask", "alarm", "dup", "close", "fsync",
            "fdatasync", "fchdir", "brk", "getsid", "getpgid", "setuid", "setgid", "personality", "setfsuid", "setfsgid",
        ];
        string[] ops = ["SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_GT", "SCMP_CMP_GE"];
        ulong[] values = [0, 0xFFFFFFFF, 0x1_0000_0000, 0x1_0000_0001, 0x7FFFFFFF];
        var n = 0;
        foreach (var op in ops)
        {
            foreach (var value in values)
            {
                rules.Add(new SeccompSyscall { Names = [names[n]], Action = "SCMP_ACT_ERRNO", ErrnoRet = (uint)(100 + n), Args = [Arg(1, op, value)] });
                n++;
            }
        }

        rules.Add(new SeccompSyscall { Names = ["uname"], Action = "SCMP_ACT_TRAP", Args = [Arg(3, "SCMP_CMP_MASKED_EQ", 0xFFFF_0000_0000_00FF, 0x1_0000_0000_0008)] });
        rules.Add(new SeccompSyscall { Names = ["read"], Action = "SCMP_ACT_LOG", Args = [Arg(0, "SCMP_CMP_EQ", 1), Arg(2, "SCMP_CMP_GT", 0xFFFFFFFF)] });
        var profile = Profile("SCMP_ACT_ALLOW", [.. rules]);
        profile.Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"];

        AssertSameDecisions(profile, argIndex: 0);
        AssertSameDecisions(profile, argIndex: 1);
        AssertSameDecisions(profile, argIndex: 3);
        AssertSameDecisions(profile, argIndex: 2);
    }

    [Theory]
    [InlineData(SeccompArch.X86_64, 0xC000003Eu)]
    [InlineData(SeccompArch.X86, 0x40000003u)]
    [InlineData(SeccompArch.X32, ScmpArchX32)]
    [InlineData(SeccompArch.Aarch64, 0xC00000B7u)]
    [InlineData(SeccompArch.Arm, 0x40000028u)]
    public void SyscallTable_AgreesWithLibseccomp(SeccompArch arch, uint token)
    {
        RequireLibseccomp();
        var differences = new List<string>();
        var compared = 0;
        foreach (var name in SyscallTable.Names(arch))
        {
            // Negative numbers are libseccomp's pseudo-syscalls (multiplexed or absent on this ABI); -1 is a name it does not know yet.
            var theirs = seccomp_syscall_resolve_name_arch(token, name);
            if (theirs >= 0)
            {
                compared++;
                if (theirs != SyscallTable.Lookup(arch, name))
                {
                    differences.Add($"{name}: ours {SyscallTable.Lookup(arch, name)}, libseccomp {theirs}");
                }
            }
        }

        var first = arch == SeccompArch.X32 ? (int)X32Bit : 0;
        for (var nr = first; nr < first + 1024; nr++)
        {
            var name = seccomp_syscall_resolve_num_arch(token, nr);
            if (name != 0)
            {
                var text = Marshal.PtrToStringUTF8(name)!;
                Marshal.FreeHGlobal(name);
                if (SyscallTable.Lookup(arch, text) < 0)
                {
                    differences.Add($"{text} ({nr}) missing");
                }
            }
        }

        Assert.True(compared > 300, $"only {compared} names compared");
        Assert.True(differences.Count == 0, string.Join('\n', differences));
    }

    private static void AssertSameDecisions(OciSeccomp profile, int argIndex)
    {
        profile = WithoutNamesLibseccompLacks(profile);
        var ours = SeccompCompiler.Compile(profile, SeccompArch.X86_64).Instructions;
        var theirs = CompileWithLibseccomp(profile);
        BpfInterpreter.Validate(ours);
        BpfInterpreter.Validate(theirs);

        var mismatches = new List<string>();
        (SeccompArch Arch, uint Audit, uint Bit)[] abis =
        [
            (SeccompArch.X86_64, AuditX86_64, 0),
            (SeccompArch.X86, AuditI386, 0),
            (SeccompArch.X32, AuditX86_64, X32Bit),
        ];
        foreach (var (arch, audit, bit) in abis)
        {
            var listed = arch == SeccompArch.X86_64 || profile.Architectures?.Contains(SeccompArchs.OciName(arch)) == true;
            var max = listed ? MaxNamed(profile, arch) - (int)bit : 600;
            for (var nr = 0; nr <= max; nr++)
            {
                foreach (var arg in s_args)
                {
                    var args = new ulong[6];
                    args[argIndex] = arg;
                    var data = new SeccompData((int)(bit | (uint)nr), audit, args);
                    var a = BpfInterpreter.Run(ours, data);
                    var b = BpfInterpreter.Run(theirs, data);
                    if (a != b && mismatches.Count < 20)
                    {
                        mismatches.Add($"{arch} nr={nr} arg{argIndex}=0x{arg:x}: ours 0x{a:x8}, libseccomp 0x{b:x8}");
                    }
                }
            }
        }

        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));
    }

    /// <summary>The Debian libseccomp may predate the newest syscalls (mseal, listmount, …): leave those out on both sides.</summary>
    private static OciSeccomp WithoutNamesLibseccompLacks(OciSeccomp profile)
    {
        var copy = new OciSeccomp { DefaultAction = profile.DefaultAction, DefaultErrnoRet = profile.DefaultErrnoRet, Architectures = profile.Architectures, Syscalls = [] };
        foreach (var rule in profile.Syscalls ?? [])
        {
            var names = rule.Names.Where(n => seccomp_syscall_resolve_name(n) != -1).ToList();
            if (names.Count > 0)
            {
                copy.Syscalls.Add(new SeccompSyscall { Names = names, Action = rule.Action, ErrnoRet = rule.ErrnoRet, Args = rule.Args });
            }
        }

        return copy;
    }

    private static int MaxNamed(OciSeccomp profile, SeccompArch arch)
    {
        var max = -1;
        foreach (var rule in profile.Syscalls ?? [])
        {
            foreach (var name in rule.Names)
            {
                max = Math.Max(max, SyscallTable.Lookup(arch, name));
            }
        }

        return max;
    }

    /// <summary>What runc's libcontainer/seccomp does with libseccomp, without the ENOSYS patch.</summary>
    private static SockFilter[] CompileWithLibseccomp(OciSeccomp profile)
    {
        var ctx = seccomp_init(Action(profile.DefaultAction, profile.DefaultErrnoRet));
        Assert.NotEqual(0, ctx);
        try
        {
            foreach (var arch in profile.Architectures ?? [])
            {
                var token = arch switch
                {
                    "SCMP_ARCH_X86_64" => AuditX86_64,
                    "SCMP_ARCH_X86" => AuditI386,
                    "SCMP_ARCH_X32" => ScmpArchX32,
                    _ => throw new InvalidOperationException(arch),
                };
                var rc = seccomp_arch_add(ctx, token);
                Assert.True(rc == 0 || rc == -Linux.Errno.EEXIST, $"seccomp_arch_add {arch}: {rc}");
            }

            foreach (var rule in profile.Syscalls ?? [])
            {
                var action = Action(rule.Action, rule.ErrnoRet);
                var cmps = new ScmpArgCmp[rule.Args?.Count ?? 0];
                for (var i = 0; i < cmps.Length; i++)
                {
                    var arg = rule.Args![i];
                    cmps[i] = new ScmpArgCmp { Arg = arg.Index, Op = Op(arg.Op), DatumA = arg.Value, DatumB = arg.ValueTwo };
                }

                foreach (var name in rule.Names)
                {
                    var nr = seccomp_syscall_resolve_name(name);
                    if (nr == -1)
                    {
                        continue;
                    }

                    fixed (ScmpArgCmp* p = cmps)
                    {
                        var rc = seccomp_rule_add_array(ctx, action, nr, (uint)cmps.Length, p);
                        Assert.True(rc == 0 || rc == -Linux.Errno.EACCES, $"seccomp_rule_add_array {name}: {rc}");
                    }
                }
            }

            var path = Path.Combine(Path.GetTempPath(), $"dashboard-test-bpf-{Guid.NewGuid():N}");
            try
            {
                using (var file = File.Open(path, FileMode.CreateNew, FileAccess.ReadWrite))
                {
                    Assert.Equal(0, seccomp_export_bpf(ctx, (int)file.SafeFileHandle.DangerousGetHandle()));
                }

                var bytes = File.ReadAllBytes(path);
                return MemoryMarshal.Cast<byte, SockFilter>(bytes).ToArray();
            }
            finally
            {
                File.Delete(path);
            }
        }
        finally
        {
            seccomp_release(ctx);
        }
    }

    private static uint Action(string action, uint? errnoRet) => action switch
    {
        "SCMP_ACT_ALLOW" => Allow,
        "SCMP_ACT_ERRNO" => RetErrno((int)(errnoRet ?? 1)),
        "SCMP_ACT_TRAP" => Trap,
        "SCMP_ACT_LOG" => Log,
        "SCMP_ACT_KILL" => KillThread,
        _ => throw new InvalidOperationException(action),
    };

    private static int Op(string op) => op switch
    {
        "SCMP_CMP_NE" => 1,
        "SCMP_CMP_LT" => 2,
        "SCMP_CMP_LE" => 3,
        "SCMP_CMP_EQ" => 4,
        "SCMP_CMP_GE" => 5,
        "SCMP_CMP_GT" => 6,
        "SCMP_CMP_MASKED_EQ" => 7,
        _ => throw new InvalidOperationException(op),
    };

    private static void RequireLibseccomp()
    {
        if (!NativeLibrary.TryLoad(Lib, out var handle))
        {
            Requires.Unmet($"needs {Lib} (Debian libseccomp2, a dependency of runc)");
        }

        NativeLibrary.Free(handle);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ScmpArgCmp
    {
        public uint Arg;
        public int Op;
        public ulong DatumA;
        public ulong DatumB;
    }

    [LibraryImport(Lib)]
    private static partial nint seccomp_init(uint defaultAction);

    [LibraryImport(Lib)]
    private static partial int seccomp_arch_add(nint ctx, uint arch);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int seccomp_syscall_resolve_name(string name);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int seccomp_syscall_resolve_name_arch(uint arch, string name);

    /// <summary>Returns a malloc'd string the caller frees, or NULL.</summary>
    [LibraryImport(Lib)]
    private static partial nint seccomp_syscall_resolve_num_arch(uint arch, int nr);

    [LibraryImport(Lib)]
    private static partial int seccomp_rule_add_array(nint ctx, uint action, int syscall, uint count, ScmpArgCmp* args);

    [LibraryImport(Lib)]
    private static partial int seccomp_export_bpf(nint ctx, int fd);

    [LibraryImport(Lib)]
    private static partial void seccomp_release(nint ctx);
}
