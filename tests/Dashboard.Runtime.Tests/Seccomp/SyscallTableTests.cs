using Dashboard.Runtime.Seccomp;

namespace Dashboard.Runtime.Tests.Seccomp;

public class SyscallTableTests
{
    [Theory]
    [InlineData(SeccompArch.X86_64, 370)]
    [InlineData(SeccompArch.X86, 440)]
    [InlineData(SeccompArch.X32, 360)]
    [InlineData(SeccompArch.Aarch64, 320)]
    [InlineData(SeccompArch.Arm, 420)]
    public void Count_EveryArchitecture_IsComplete(SeccompArch arch, int atLeast)
    {
        Assert.True(SyscallTable.Count(arch) >= atLeast, $"{arch}: {SyscallTable.Count(arch)}");
    }

    [Theory]
    [InlineData(SeccompArch.X86_64, "read", 0)]
    [InlineData(SeccompArch.X86_64, "getpid", 39)]
    [InlineData(SeccompArch.X86_64, "clone", 56)]
    [InlineData(SeccompArch.X86_64, "pivot_root", 155)]
    [InlineData(SeccompArch.X86_64, "pidfd_send_signal", 424)]
    [InlineData(SeccompArch.X86_64, "io_uring_setup", 425)]
    [InlineData(SeccompArch.X86_64, "io_uring_register", 427)]
    [InlineData(SeccompArch.X86_64, "pidfd_open", 434)]
    [InlineData(SeccompArch.X86_64, "clone3", 435)]
    [InlineData(SeccompArch.X86_64, "close_range", 436)]
    [InlineData(SeccompArch.X86_64, "openat2", 437)]
    [InlineData(SeccompArch.X86_64, "pidfd_getfd", 438)]
    [InlineData(SeccompArch.X86_64, "landlock_create_ruleset", 444)]
    [InlineData(SeccompArch.X86_64, "landlock_restrict_self", 446)]
    [InlineData(SeccompArch.X86_64, "futex_waitv", 449)]
    [InlineData(SeccompArch.X86_64, "mseal", 462)]
    [InlineData(SeccompArch.X86_64, "file_setattr", 469)]
    [InlineData(SeccompArch.X86, "getpid", 20)]
    [InlineData(SeccompArch.X86, "socketcall", 102)]
    [InlineData(SeccompArch.X86, "socket", 359)]
    [InlineData(SeccompArch.X86, "clone3", 435)]
    [InlineData(SeccompArch.X32, "read", 0x40000000)]
    [InlineData(SeccompArch.X32, "rt_sigaction", 0x40000000 + 512)]
    [InlineData(SeccompArch.X32, "execve", 0x40000000 + 520)]
    [InlineData(SeccompArch.Aarch64, "openat", 56)]
    [InlineData(SeccompArch.Aarch64, "getpid", 172)]
    [InlineData(SeccompArch.Aarch64, "clone3", 435)]
    [InlineData(SeccompArch.Arm, "socket", 281)]
    [InlineData(SeccompArch.Arm, "set_tls", 0x0f0005)]
    public void Lookup_KnownSyscall_ReturnsKernelNumber(SeccompArch arch, string name, int nr)
    {
        Assert.Equal(nr, SyscallTable.Lookup(arch, name));
    }

    [Theory]
    [InlineData(SeccompArch.X86_64, "socketcall")]
    [InlineData(SeccompArch.X86_64, "chown32")]
    [InlineData(SeccompArch.X32, "uselib")]
    [InlineData(SeccompArch.X32, "map_shadow_stack")]
    [InlineData(SeccompArch.Aarch64, "open")]
    [InlineData(SeccompArch.Aarch64, "fork")]
    [InlineData(SeccompArch.X86_64, "")]
    [InlineData(SeccompArch.X86_64, "no_such_syscall")]
    public void Lookup_SyscallTheAbiLacks_ReturnsMinusOne(SeccompArch arch, string name)
    {
        Assert.Equal(-1, SyscallTable.Lookup(arch, name));
    }

    [Fact]
    public void IsKnown_NameOfAnyArchitecture_IsTrue()
    {
        Assert.True(SyscallTable.IsKnown("breakpoint"));
        Assert.True(SyscallTable.IsKnown("socketcall"));
        Assert.True(SyscallTable.IsKnown("epoll_ctl_old"));
        Assert.False(SyscallTable.IsKnown("SYS_read"));
    }
}
