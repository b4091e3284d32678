using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Seccomp;
using static Dashboard.Runtime.Tests.Seccomp.SeccompTestProfiles;
using OciSeccomp = Dashboard.Oci.Runtime.Seccomp;

namespace Dashboard.Runtime.Tests.Seccomp;

public class SeccompCompilerTests
{
    private const int GetPid = 39;      // x86_64
    private const int GetPpid = 110;    // x86_64
    private const int Uname = 63;       // x86_64
    private const int Openat2 = 437;    // x86_64, the highest syscall in several profiles below

    private static readonly ulong[] s_boundaries =
    [
        0, 1, 2, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF, 0x1_0000_0000, 0x1_0000_0001, 0x1_FFFF_FFFF,
        0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0xFFFF_FFFF_0000_0000, 0xFFFF_FFFF_FFFF_FFFE, ulong.MaxValue,
    ];

    [Theory]
    [InlineData("SCMP_ACT_ALLOW", Allow)]
    [InlineData("SCMP_ACT_KILL", KillThread)]
    [InlineData("SCMP_ACT_KILL_THREAD", KillThread)]
    [InlineData("SCMP_ACT_KILL_PROCESS", KillProcess)]
    [InlineData("SCMP_ACT_TRAP", Trap)]
    [InlineData("SCMP_ACT_LOG", Log)]
    [InlineData("SCMP_ACT_ERRNO", 0x00050001u)]
    [InlineData("SCMP_ACT_TRACE", 0x7ff00001u)]
    public void Compile_DefaultAction_AppliesToUnlistedSyscalls(string action, uint expected)
    {
        var profile = Profile(action, Rule(action == "SCMP_ACT_ALLOW" ? "SCMP_ACT_ERRNO" : "SCMP_ACT_ALLOW", "openat2"));

        var program = Compile(profile);

        Assert.Equal(expected, Run(program, GetPid));
        Assert.Equal(action == "SCMP_ACT_ALLOW" ? RetErrno(1) : Allow, Run(program, Openat2));
    }

    [Fact]
    public void Compile_ErrnoRet_UsesRuleAndDefaultValues()
    {
        var profile = Profile(
            "SCMP_ACT_ERRNO",
            new SeccompSyscall { Names = ["uname"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 99 },
            Rule("SCMP_ACT_ERRNO", "getppid"),
            new SeccompSyscall { Names = ["getpid"], Action = "SCMP_ACT_TRACE", ErrnoRet = 7 },
            Rule("SCMP_ACT_ALLOW", "openat2"));
        profile.DefaultErrnoRet = 13;

        var program = Compile(profile);

        Assert.Equal(RetErrno(99), Run(program, Uname));
        Assert.Equal(RetErrno(1), Run(program, GetPpid));
        Assert.Equal(Trace(7), Run(program, GetPid));
        Assert.Equal(RetErrno(13), Run(program, 0));
    }

    [Fact]
    public void Compile_ErrnoRetAbove16Bits_KeepsTheLow16BitsAsLibseccomp()
    {
        var profile = Profile("SCMP_ACT_ALLOW", new SeccompSyscall { Names = ["getpid"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 0x1_0005 });

        Assert.Equal(RetErrno(5), Run(Compile(profile), GetPid));
    }

    [Theory]
    [InlineData("SCMP_CMP_EQ")]
    [InlineData("SCMP_CMP_NE")]
    [InlineData("SCMP_CMP_LT")]
    [InlineData("SCMP_CMP_LE")]
    [InlineData("SCMP_CMP_GT")]
    [InlineData("SCMP_CMP_GE")]
    public void Compile_Comparison_IsUnsigned64BitAtWordBoundaries(string op)
    {
        foreach (var value in s_boundaries)
        {
            var program = Compile(Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid", Arg(2, op, value)), Rule("SCMP_ACT_ALLOW", "openat2")));
            foreach (var arg in s_boundaries)
            {
                var holds = op switch
                {
                    "SCMP_CMP_EQ" => arg == value,
                    "SCMP_CMP_NE" => arg != value,
                    "SCMP_CMP_LT" => arg < value,
                    "SCMP_CMP_LE" => arg <= value,
                    "SCMP_CMP_GT" => arg > value,
                    _ => arg >= value,
                };
                var actual = Run(program, GetPid, 0, 0, arg);
                Assert.True((holds ? Allow : RetErrno(1)) == actual, $"{op} arg=0x{arg:x} value=0x{value:x}: got 0x{actual:x8}");
            }
        }
    }

    [Fact]
    public void Compile_MaskedEq_ComparesMaskedArgumentWithValueTwo()
    {
        (ulong Mask, ulong Datum)[] cases =
        [
            (0x7E020000, 0), (0xFF, 0x12), (0xFFFF_FFFF_0000_0000, 0x1_0000_0000), (0x1_0000_0001, 0x1_0000_0000),
            (ulong.MaxValue, ulong.MaxValue), (0xF0, 0x0F),
        ];
        foreach (var (mask, datum) in cases)
        {
            var program = Compile(Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid", Arg(0, "SCMP_CMP_MASKED_EQ", mask, datum)), Rule("SCMP_ACT_ALLOW", "openat2")));
            foreach (var arg in s_boundaries.Concat<ulong>([0x12UL, 0x1012, 0x1_0000_0012, 0x20000, 0x10000000, 0x1_0000_0000, 0x3_0000_0001]))
            {
                var expected = (arg & mask) == datum ? Allow : RetErrno(1);
                Assert.True(expected == Run(program, GetPid, arg), $"mask=0x{mask:x} datum=0x{datum:x} arg=0x{arg:x}");
            }
        }
    }

    [Fact]
    public void Compile_ArgsOfOneRule_AreAllRequired()
    {
        var program = Compile(Profile(
            "SCMP_ACT_ERRNO",
            Rule("SCMP_ACT_ALLOW", "getpid", Arg(0, "SCMP_CMP_EQ", 1), Arg(1, "SCMP_CMP_GT", 10), Arg(5, "SCMP_CMP_NE", 0x1_0000_0000)),
            Rule("SCMP_ACT_ALLOW", "openat2")));

        Assert.Equal(Allow, Run(program, GetPid, 1, 11, 0, 0, 0, 0));
        Assert.Equal(RetErrno(1), Run(program, GetPid, 2, 11, 0, 0, 0, 0));
        Assert.Equal(RetErrno(1), Run(program, GetPid, 1, 10, 0, 0, 0, 0));
        Assert.Equal(RetErrno(1), Run(program, GetPid, 1, 11, 0, 0, 0, 0x1_0000_0000));
        Assert.Equal(Allow, Run(program, GetPid, 1, 0x1_0000_0000, 0, 0, 0, 0x1_0000_0001));
    }

    [Fact]
    public void Compile_TwoConditionsOnOneArgument_AreBothRequired()
    {
        var program = Compile(Profile(
            "SCMP_ACT_ERRNO",
            Rule("SCMP_ACT_ALLOW", "getpid", Arg(0, "SCMP_CMP_GE", 10), Arg(0, "SCMP_CMP_LT", 20)),
            Rule("SCMP_ACT_ALLOW", "openat2")));

        Assert.Equal(RetErrno(1), Run(program, GetPid, 9));
        Assert.Equal(Allow, Run(program, GetPid, 10));
        Assert.Equal(Allow, Run(program, GetPid, 19));
        Assert.Equal(RetErrno(1), Run(program, GetPid, 20));
    }

    [Fact]
    public void Compile_SeveralRulesForOneSyscall_AreAlternatives()
    {
        var profile = DockerDefault();
        var program = Compile(profile);
        var personality = SyscallTable.Lookup(SeccompArch.X86_64, "personality");

        foreach (var allowed in new ulong[] { 0, 8, 0x20000, 0x20008, 0xFFFFFFFF })
        {
            Assert.Equal(Allow, Run(program, personality, allowed));
        }

        foreach (var denied in new ulong[] { 1, 0x400000, 0x1_0000_0000, 0x1_FFFF_FFFF })
        {
            Assert.Equal(RetErrno(1), Run(program, personality, denied));
        }
    }

    [Fact]
    public void Compile_ConditionalRules_ComeBeforeTheUnconditionalAction()
    {
        var program = Compile(Profile(
            "SCMP_ACT_ERRNO",
            Rule("SCMP_ACT_ALLOW", "getpid"),
            Rule("SCMP_ACT_KILL_PROCESS", "getpid", Arg(0, "SCMP_CMP_EQ", 40)),
            new SeccompSyscall { Names = ["getpid"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 22, Args = [Arg(0, "SCMP_CMP_EQ", 38)] },
            Rule("SCMP_ACT_ALLOW", "openat2")));

        Assert.Equal(Allow, Run(program, GetPid, 2));
        Assert.Equal(KillProcess, Run(program, GetPid, 40));
        Assert.Equal(RetErrno(22), Run(program, GetPid, 38));
    }

    [Fact]
    public void Compile_RuleWithTheDefaultAction_IsDroppedAsLibseccompDoes()
    {
        var program = Compile(Profile(
            "SCMP_ACT_ERRNO",
            Rule("SCMP_ACT_ERRNO", "getpid", Arg(0, "SCMP_CMP_EQ", 1)),
            Rule("SCMP_ACT_ALLOW", "getpid")));

        Assert.Equal(Allow, Run(program, GetPid, 1));
    }

    [Fact]
    public void Compile_ConflictingUnconditionalRules_FirstAppliesWithWarning()
    {
        var result = SeccompCompiler.Compile(Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid"), Rule("SCMP_ACT_KILL", "getpid")), SeccompArch.X86_64);

        Assert.Equal(Allow, Run(result.Instructions, GetPid));
        Assert.Contains(result.Warnings, w => w.Contains("\"getpid\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0xC0000028u)]
    [InlineData(AuditAarch64)]
    [InlineData(AuditArm)]
    [InlineData(0u)]
    public void Compile_UnlistedArchitecture_KillsTheThread(uint arch)
    {
        var program = Compile(Profile("SCMP_ACT_ALLOW", Rule("SCMP_ACT_ERRNO", "getpid")));

        Assert.Equal(KillThread, BpfInterpreter.Run(program, new SeccompData(GetPid, arch)));
        Assert.Equal(KillThread, BpfInterpreter.Run(program, new SeccompData(1, arch)));
    }

    [Fact]
    public void Compile_ListedArchitecture_UsesItsOwnSyscallNumbers()
    {
        var profile = Profile("SCMP_ACT_ALLOW", Rule("SCMP_ACT_ERRNO", "getpid"));
        profile.Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"];

        var program = Compile(profile);

        Assert.Equal(RetErrno(1), BpfInterpreter.Run(program, new SeccompData(20, AuditI386)));
        Assert.Equal(Allow, BpfInterpreter.Run(program, new SeccompData(GetPid, AuditI386)));
        Assert.Equal(RetErrno(1), BpfInterpreter.Run(program, new SeccompData(GetPid, AuditX86_64)));
        Assert.Equal(KillThread, BpfInterpreter.Run(program, new SeccompData(20, AuditAarch64)));
    }

    [Fact]
    public void Compile_NativeArchitecture_IsFilteredEvenWhenNotListed()
    {
        var profile = Profile("SCMP_ACT_ALLOW", Rule("SCMP_ACT_ERRNO", "getpid"));
        profile.Architectures = ["SCMP_ARCH_X86"];

        var program = Compile(profile);

        Assert.Equal(RetErrno(1), BpfInterpreter.Run(program, new SeccompData(GetPid, AuditX86_64)));
        Assert.Equal(RetErrno(1), BpfInterpreter.Run(program, new SeccompData(20, AuditI386)));
    }

    [Fact]
    public void Compile_Aarch64Native_ChecksAarch64AndArmNumbers()
    {
        var profile = Profile("SCMP_ACT_ALLOW", Rule("SCMP_ACT_ERRNO", "getpid", "openat"));
        profile.Architectures = ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"];

        var program = SeccompCompiler.Compile(profile, SeccompArch.Aarch64).Instructions;
        BpfInterpreter.Validate(program);

        Assert.Equal(RetErrno(1), BpfInterpreter.Run(program, new SeccompData(172, AuditAarch64)));
        Assert.Equal(RetErrno(1), BpfInterpreter.Run(program, new SeccompData(56, AuditAarch64)));
        Assert.Equal(Allow, BpfInterpreter.Run(program, new SeccompData(GetPid, AuditAarch64)));
        Assert.Equal(RetErrno(1), BpfInterpreter.Run(program, new SeccompData(20, AuditArm)));
        Assert.Equal(RetErrno(1), BpfInterpreter.Run(program, new SeccompData(322, AuditArm)));
        Assert.Equal(KillThread, BpfInterpreter.Run(program, new SeccompData(GetPid, AuditX86_64)));
    }

    [Fact]
    public void Compile_X32CallWithoutX32Listed_KillsTheThread()
    {
        var program = Compile(Profile("SCMP_ACT_ALLOW", Rule("SCMP_ACT_ERRNO", "getpid")));

        Assert.Equal(KillThread, Run(program, (int)(X32Bit | GetPid)));
        Assert.Equal(KillThread, Run(program, (int)(X32Bit | 1)));
    }

    [Fact]
    public void Compile_X32Listed_UsesX32Numbers()
    {
        var profile = Profile("SCMP_ACT_ALLOW", Rule("SCMP_ACT_ERRNO", "getpid", "rt_sigaction"));
        profile.Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"];

        var program = Compile(profile);

        Assert.Equal(RetErrno(1), Run(program, (int)(X32Bit | GetPid)));
        Assert.Equal(RetErrno(1), Run(program, (int)(X32Bit | 512)));
        Assert.Equal(Allow, Run(program, (int)(X32Bit | 13)));
        Assert.Equal(RetErrno(1), Run(program, 13));
        Assert.Equal(RetErrno(1), Run(program, GetPid));
    }

    [Fact]
    public void Compile_SyscallMinusOne_GetsTheDefaultActionOnX86_64()
    {
        var program = Compile(Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid")));

        Assert.Equal(RetErrno(1), Run(program, -1));
    }

    [Fact]
    public void Compile_SyscallAboveProfileMaximum_GetsEnosys()
    {
        var program = Compile(Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid", "openat2")));

        Assert.Equal(RetErrno(1), Run(program, 436));
        Assert.Equal(Allow, Run(program, Openat2));
        Assert.Equal(RetErrno(38), Run(program, Openat2 + 1));
        Assert.Equal(RetErrno(38), Run(program, 1000));
        Assert.Equal(RetErrno(38), Run(program, 0x3FFFFFFF));
    }

    [Fact]
    public void Compile_EnosysMaximum_CountsRulesOfEveryAction()
    {
        var program = Compile(Profile("SCMP_ACT_KILL_PROCESS", Rule("SCMP_ACT_ALLOW", "getpid"), Rule("SCMP_ACT_KILL_PROCESS", "openat2")));

        Assert.Equal(KillProcess, Run(program, 436));
        Assert.Equal(KillProcess, Run(program, Openat2));
        Assert.Equal(RetErrno(38), Run(program, Openat2 + 1));
    }

    [Theory]
    [InlineData("SCMP_ACT_ALLOW")]
    [InlineData("SCMP_ACT_LOG")]
    [InlineData("SCMP_ACT_TRACE")]
    public void Compile_PermissiveDefault_HasNoEnosysStub(string action)
    {
        var program = Compile(Profile(action, Rule("SCMP_ACT_KILL", "getpid")));
        var expected = action == "SCMP_ACT_TRACE" ? Trace(1) : action == "SCMP_ACT_LOG" ? Log : Allow;

        Assert.Equal(expected, Run(program, 1000));
    }

    [Fact]
    public void Compile_EnosysStubPerArchitecture_UsesThatArchitecturesMaximum()
    {
        var profile = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid", "socket", "rt_sigaction"));
        profile.Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"];

        var program = Compile(profile);

        // x86_64: socket 41 is the highest; i386: socket 359; x32: rt_sigaction 512.
        Assert.Equal(RetErrno(38), Run(program, 42));
        Assert.Equal(RetErrno(1), BpfInterpreter.Run(program, new SeccompData(42, AuditI386)));
        Assert.Equal(RetErrno(38), BpfInterpreter.Run(program, new SeccompData(360, AuditI386)));
        Assert.Equal(RetErrno(1), Run(program, (int)(X32Bit | 42)));
        Assert.Equal(Allow, Run(program, (int)(X32Bit | 512)));
        Assert.Equal(RetErrno(38), Run(program, (int)(X32Bit | 513)));
    }

    [Fact]
    public void Compile_DefaultErrnoIsEnosys_NeedsNoStub()
    {
        var profile = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid"));
        profile.DefaultErrnoRet = 38;

        Assert.Equal(RetErrno(38), Run(Compile(profile), 1));
    }

    [Fact]
    public void Compile_DockerDefault_AllowsItsListAndDeniesTheRest()
    {
        var profile = DockerDefault();

        var result = SeccompCompiler.Compile(profile, SeccompArch.X86_64);
        var program = result.Instructions;
        BpfInterpreter.Validate(program);

        // Runs of consecutive allowed numbers are tested as ranges, for x86_64, i386 and x32 alike.
        Assert.InRange(program.Length, 100, 1000);
        Assert.Empty(result.Warnings);

        var allowed = new HashSet<int>();
        foreach (var name in profile.Syscalls![0].Names)
        {
            var nr = SyscallTable.Lookup(SeccompArch.X86_64, name);
            if (nr >= 0)
            {
                allowed.Add(nr);
                Assert.True(Allow == Run(program, nr), $"{name} ({nr}) is not allowed");
            }
        }

        Assert.True(allowed.Count > 300, $"only {allowed.Count} names resolved on x86_64");
        var max = 0;
        foreach (var nr in allowed)
        {
            max = Math.Max(max, nr);
        }

        for (var nr = 0; nr <= max + 20; nr++)
        {
            if (allowed.Contains(nr) || nr is 41 or 56 or 135 or 435)
            {
                continue;
            }

            Assert.True((nr > max ? RetErrno(38) : RetErrno(1)) == Run(program, nr), $"syscall {nr}");
        }

        Assert.Equal(RetErrno(38), Run(program, 435));
        Assert.Equal(Allow, Run(program, 41, 2));
        Assert.Equal(RetErrno(1), Run(program, 41, 40));
        Assert.Equal(Allow, Run(program, 56, 0x01200011));
        Assert.Equal(RetErrno(1), Run(program, 56, 0x10000000));
        Assert.Equal(RetErrno(1), Run(program, 56, 0x20000));
        Assert.Equal(RetErrno(1), BpfInterpreter.Run(program, new SeccompData(SyscallTable.Lookup(SeccompArch.X86, "mount"), AuditI386)));
        Assert.Equal(Allow, BpfInterpreter.Run(program, new SeccompData(SyscallTable.Lookup(SeccompArch.X86, "socketcall"), AuditI386)));
        Assert.Equal(Allow, Run(program, (int)(X32Bit | 0)));
        Assert.Equal(RetErrno(1), Run(program, (int)(X32Bit | 165)));
    }

    [Fact]
    public void Compile_SeveralHundredDistinctActions_JumpsOver255Instructions()
    {
        var names = DockerDefault().Syscalls![0].Names.Where(n => SyscallTable.Lookup(SeccompArch.X86_64, n) >= 0).ToList();
        var rules = new List<SeccompSyscall>();
        for (var i = 0; i < names.Count; i++)
        {
            rules.Add(new SeccompSyscall { Names = [names[i]], Action = "SCMP_ACT_ERRNO", ErrnoRet = (uint)(100 + i) });
        }

        var profile = Profile("SCMP_ACT_ALLOW", [.. rules]);
        profile.Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"];
        var program = Compile(profile);

        Assert.True(names.Count > 300);
        Assert.Contains(program, i => i.Code == 0x05 && i.K > 255);
        for (var i = 0; i < names.Count; i++)
        {
            Assert.Equal(RetErrno(100 + i), Run(program, SyscallTable.Lookup(SeccompArch.X86_64, names[i])));
            var x32 = SyscallTable.Lookup(SeccompArch.X32, names[i]);
            if (x32 >= 0)
            {
                Assert.Equal(RetErrno(100 + i), Run(program, x32));
            }

            var i386 = SyscallTable.Lookup(SeccompArch.X86, names[i]);
            if (i386 >= 0)
            {
                Assert.Equal(RetErrno(100 + i), BpfInterpreter.Run(program, new SeccompData(i386, AuditI386)));
            }
        }

        Assert.Equal(Allow, Run(program, SyscallTable.Lookup(SeccompArch.X86_64, "mount")));
    }

    [Fact]
    public void Compile_DockerDefault_DispatchesInFewInstructions()
    {
        var program = Compile(DockerDefault());

        var worst = 0;
        for (var nr = 0; nr < 470; nr++)
        {
            BpfInterpreter.Run(program, new SeccompData(nr, AuditX86_64, 0x01200011), out var executed);
            worst = Math.Max(worst, executed);
        }

        Assert.InRange(worst, 1, 40);
    }

    [Fact]
    public void Compile_LongConditionalBlock_JumpsThroughTrampolines()
    {
        var rules = new List<SeccompSyscall>();
        for (var i = 0; i < 120; i++)
        {
            rules.Add(Rule("SCMP_ACT_ALLOW", "ioctl", Arg(1, "SCMP_CMP_EQ", 0x5400UL + (ulong)i), Arg(2, "SCMP_CMP_LE", 0x1_0000_0000)));
        }

        rules.Add(Rule("SCMP_ACT_ALLOW", "getpid", "read", "write", "openat2"));
        var program = Compile(Profile("SCMP_ACT_ERRNO", [.. rules]));

        Assert.True(program.Length > 1000);
        Assert.Contains(program, i => i.Code == 0x05);
        Assert.Equal(Allow, Run(program, 16, 0, 0x5400, 5));
        Assert.Equal(Allow, Run(program, 16, 0, 0x5400 + 119, 0x1_0000_0000));
        Assert.Equal(RetErrno(1), Run(program, 16, 0, 0x5400 + 119, 0x1_0000_0001));
        Assert.Equal(RetErrno(1), Run(program, 16, 0, 0x5400 + 120, 0));
        Assert.Equal(Allow, Run(program, GetPid));
        Assert.Equal(Allow, Run(program, 0));
        Assert.Equal(RetErrno(1), Run(program, 2));
    }

    [Fact]
    public void Compile_ProgramOverTheKernelLimit_IsRefused()
    {
        var rules = new List<SeccompSyscall>();
        for (var i = 0; i < 900; i++)
        {
            rules.Add(Rule("SCMP_ACT_ALLOW", "ioctl", Arg(1, "SCMP_CMP_EQ", 0x1_0000_0000UL + (ulong)i)));
        }

        var ex = Assert.Throws<SeccompException>(() => SeccompCompiler.Compile(Profile("SCMP_ACT_ERRNO", [.. rules]), SeccompArch.X86_64));
        Assert.Contains("4096", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_ThirtyTwoBitArchitecture_ComparesTheLowWord()
    {
        var profile = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid", Arg(0, "SCMP_CMP_EQ", 5)), Rule("SCMP_ACT_ALLOW", "openat2"));
        profile.Architectures = ["SCMP_ARCH_X86"];

        var program = Compile(profile);

        Assert.Equal(Allow, BpfInterpreter.Run(program, new SeccompData(20, AuditI386, 5)));
        Assert.Equal(RetErrno(1), BpfInterpreter.Run(program, new SeccompData(20, AuditI386, 6)));
        Assert.Equal(RetErrno(1), BpfInterpreter.Run(program, new SeccompData(GetPid, AuditX86_64, 0x1_0000_0005)));
    }

    [Fact]
    public void Compile_UnknownSyscallName_IsSkippedWithWarning()
    {
        var result = SeccompCompiler.Compile(Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid", "no_such_syscall", "breakpoint", "chown32")), SeccompArch.X86_64);

        var warning = Assert.Single(result.Warnings);
        Assert.Equal("seccomp: unknown syscall \"no_such_syscall\" skipped", warning);
        Assert.Equal(Allow, Run(result.Instructions, GetPid));
    }

    [Fact]
    public void Compile_ArchitectureWithoutTable_IsSkippedWithWarning()
    {
        var profile = Profile("SCMP_ACT_ALLOW", Rule("SCMP_ACT_ERRNO", "getpid"));
        profile.Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_PPC64LE"];

        var result = SeccompCompiler.Compile(profile, SeccompArch.X86_64);

        Assert.Contains(result.Warnings, w => w.Contains("SCMP_ARCH_PPC64LE", StringComparison.Ordinal));
        Assert.Equal(KillThread, BpfInterpreter.Run(result.Instructions, new SeccompData(GetPid, 0xC0000015)));
    }

    [Theory]
    [InlineData("SCMP_ACT_FOO", "SCMP_CMP_EQ", 0u, "seccomp: unknown action \"SCMP_ACT_FOO\"")]
    [InlineData("SCMP_ACT_ALLOW", "SCMP_CMP_FOO", 0u, "seccomp: unknown operator \"SCMP_CMP_FOO\"")]
    [InlineData("SCMP_ACT_ALLOW", "", 0u, "seccomp: unknown operator \"\"")]
    [InlineData("SCMP_ACT_ALLOW", "SCMP_CMP_EQ", 6u, "seccomp: syscalls[0]: argument index 6 out of range (0-5)")]
    [InlineData("", "SCMP_CMP_EQ", 0u, "seccomp: syscalls[0].action is required")]
    public void Compile_InvalidRule_ThrowsClearError(string action, string op, uint index, string message)
    {
        var profile = Profile("SCMP_ACT_ERRNO", Rule(action, "getpid", Arg(index, op, 1)));

        var ex = Assert.Throws<SeccompException>(() => SeccompCompiler.Compile(profile, SeccompArch.X86_64));

        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Compile_InvalidProfiles_ThrowClearErrors()
    {
        AssertError("seccomp: syscalls[1]: names must contain at least one entry", Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "read"), Rule("SCMP_ACT_ALLOW")));
        AssertError("seccomp: syscalls[0]: empty syscall name", Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "read", "")));
        AssertError("seccomp: defaultAction is required", Profile(""));
        AssertError("seccomp: unknown action \"SCMP_ACT_NOPE\"", Profile("SCMP_ACT_NOPE"));
        AssertError("seccomp: SCMP_ACT_NOTIFY cannot be the default action", Profile("SCMP_ACT_NOTIFY"));

        var withArch = Profile("SCMP_ACT_ALLOW");
        withArch.Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"];
        AssertError("seccomp: unknown architecture \"SCMP_ARCH_Z80\"", withArch);

        var withFlag = Profile("SCMP_ACT_ALLOW");
        withFlag.Flags = ["SECCOMP_FILTER_FLAG_NOPE"];
        AssertError("seccomp: unknown flag \"SECCOMP_FILTER_FLAG_NOPE\"", withFlag);

        var errnoOnAllow = Profile("SCMP_ACT_ERRNO", new SeccompSyscall { Names = ["read"], Action = "SCMP_ACT_ALLOW", ErrnoRet = 1 });
        AssertError("seccomp: errnoRet is not supported by action \"SCMP_ACT_ALLOW\"", errnoOnAllow);

        var defaultErrnoOnKill = Profile("SCMP_ACT_KILL");
        defaultErrnoOnKill.DefaultErrnoRet = 1;
        AssertError("seccomp: defaultErrnoRet is not supported by action \"SCMP_ACT_KILL\"", defaultErrnoOnKill);

        AssertError("seccomp: SCMP_ACT_NOTIFY is used but listenerPath is not set", Profile("SCMP_ACT_ALLOW", Rule("SCMP_ACT_NOTIFY", "mknod")));

        var metadataOnly = Profile("SCMP_ACT_ALLOW");
        metadataOnly.ListenerMetadata = "x";
        AssertError("seccomp: listenerMetadata is set but listenerPath is not", metadataOnly);
    }

    [Fact]
    public void Compile_Flags_MapToSeccompFlags()
    {
        var profile = Profile("SCMP_ACT_ALLOW", Rule("SCMP_ACT_ERRNO", "getpid"));
        profile.Flags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"];

        var result = SeccompCompiler.Compile(profile, SeccompArch.X86_64);

        Assert.Equal(SeccompFilterFlags.Tsync | SeccompFilterFlags.Log | SeccompFilterFlags.SpecAllow, result.Flags);
        Assert.False(result.HasListener);
        Assert.Contains(result.Warnings, w => w.Contains("WAIT_KILLABLE_RECV", StringComparison.Ordinal));
    }

    [Fact]
    public void Compile_NotifyRule_RequestsAListener()
    {
        var profile = Profile("SCMP_ACT_ALLOW", Rule("SCMP_ACT_NOTIFY", "mknodat"));
        profile.ListenerPath = "/run/agent.sock";
        profile.Flags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"];

        var result = SeccompCompiler.Compile(profile, SeccompArch.X86_64);

        Assert.True(result.HasListener);
        Assert.Equal(SeccompFilterFlags.NewListener | SeccompFilterFlags.Tsync | SeccompFilterFlags.TsyncEsrch | SeccompFilterFlags.WaitKillableRecv, result.Flags);
        Assert.Equal(Notify, Run(result.Instructions, 259));
    }

    [Fact]
    public void Compile_NoSyscalls_AppliesTheDefaultToEverything()
    {
        var program = Compile(new OciSeccomp { DefaultAction = "SCMP_ACT_ERRNO" });

        Assert.Equal(RetErrno(1), Run(program, 0));
        Assert.Equal(RetErrno(1), Run(program, 435));
        Assert.Equal(KillThread, BpfInterpreter.Run(program, new SeccompData(0, AuditI386)));
    }

    [Fact]
    public void Compile_FromConfigJson_ReadsArgsAndErrno()
    {
        const string json = """
            {"ociVersion":"1.2.1","linux":{"seccomp":{
              "defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
              "syscalls":[{"names":["uname"],"action":"SCMP_ACT_ERRNO","errnoRet":99,
                           "args":[{"index":0,"value":18446744073709551615,"op":"SCMP_CMP_NE"}]}]}}}
            """;

        var program = Compile(RuntimeJson.ParseSpec(json).Linux!.Seccomp!);

        Assert.Equal(RetErrno(99), Run(program, Uname, 0x7000));
        Assert.Equal(Allow, Run(program, Uname, ulong.MaxValue));
    }

    [Fact]
    public void Compile_SameProfileTwice_GivesTheSameProgram()
    {
        Assert.Equal(Compile(DockerDefault()), Compile(DockerDefault()));
    }

    private static void AssertError(string message, OciSeccomp profile)
    {
        var ex = Assert.Throws<SeccompException>(() => SeccompCompiler.Compile(profile, SeccompArch.X86_64));
        Assert.Equal(message, ex.Message);
    }

    private static SockFilter[] Compile(OciSeccomp profile)
    {
        var program = SeccompCompiler.Compile(profile, SeccompArch.X86_64).Instructions;
        BpfInterpreter.Validate(program);
        return program;
    }

    private static uint Run(SockFilter[] program, int nr, params ulong[] args) =>
        BpfInterpreter.Run(program, new SeccompData(nr, AuditX86_64, args));
}
