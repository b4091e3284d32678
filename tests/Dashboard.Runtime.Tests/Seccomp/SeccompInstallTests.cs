using System.Runtime.InteropServices;
using Dashboard.Linux;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Seccomp;
using Dashboard.Testing;
using static Dashboard.Runtime.Tests.Seccomp.SeccompTestProfiles;

namespace Dashboard.Runtime.Tests.Seccomp;

/// <summary>
/// Loads compiled filters into the real kernel. Filters and no_new_privs are per thread, so each
/// test installs on a fresh thread that does only raw syscalls and then ends; the test thread
/// checks it was not affected.
/// </summary>
public partial class SeccompInstallTests
{
    private const long PRIO_PROCESS = 0;

    [Fact]
    public void Install_ErrnoRules_DenyOnTheFilteredThreadOnly()
    {
        Requires.Root();
        var native = SeccompArchs.Native;
        var profile = Profile(
            "SCMP_ACT_ALLOW",
            new SeccompSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 13 },
            new SeccompSyscall { Names = ["uname"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 99 },
            new SeccompSyscall { Names = ["getpriority"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 42, Args = [Arg(0, "SCMP_CMP_EQ", 7)] },
            new SeccompSyscall { Names = ["getpriority"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 43, Args = [Arg(1, "SCMP_CMP_EQ", 0x1_0000_0000)] });
        var program = SeccompCompiler.Compile(profile);
        var dir = Path.Combine(Path.GetTempPath(), $"dashboard-test-seccomp-{Guid.NewGuid():N}");
        var uname = SyscallTable.Lookup(native, "uname");
        var getpriority = SyscallTable.Lookup(native, "getpriority");
        var buffer = new byte[390 * 2];

        // Warm up JIT and P/Invoke stubs before the filter is in place.
        Assert.Equal(0, RawSyscall(uname, buffer).Result);
        Assert.True(RawSyscall(getpriority, PRIO_PROCESS, 0).Result >= 0);

        var results = OnFilteredThread(program, () => new
        {
            Mode = SeccompFilter.GetMode(),
            Uname = RawSyscall(uname, buffer),
            Which7 = RawSyscall(getpriority, 7, 0),
            Who64 = RawSyscall(getpriority, PRIO_PROCESS, 0x1_0000_0000),
            Allowed = RawSyscall(getpriority, PRIO_PROCESS, 0),
            Mkdir = Record.Exception(() => Directory.CreateDirectory(dir)),
        });

        try
        {
            Assert.Equal(2, results.Mode);
            Assert.Equal((-1L, 99), results.Uname);
            Assert.Equal((-1L, 42), results.Which7);
            Assert.Equal((-1L, 43), results.Who64);
            Assert.True(results.Allowed.Result >= 0, $"getpriority errno {results.Allowed.Errno}");
            Assert.IsType<UnauthorizedAccessException>(results.Mkdir);
            Assert.False(Directory.Exists(dir));

            Assert.Equal(0, SeccompFilter.GetMode());
            Assert.Equal(0, RawSyscall(uname, buffer).Result);
            Assert.Equal(Errno.EINVAL, RawSyscall(getpriority, 7, 0).Errno);
            Directory.CreateDirectory(dir);
            Assert.True(Directory.Exists(dir));
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir);
            }
        }
    }

    [Fact]
    public void Install_DockerDefault_DeniesWithEpermAndNewSyscallsWithEnosys()
    {
        Requires.Root();
        Assert.SkipUnless(RuntimeInformation.ProcessArchitecture == Architecture.X64, "the profile lists x86 architectures");
        var program = SeccompCompiler.Compile(DockerDefault());
        var acct = SyscallTable.Lookup(SeccompArch.X86_64, "acct");
        var clone3 = SyscallTable.Lookup(SeccompArch.X86_64, "clone3");
        var socket = SyscallTable.Lookup(SeccompArch.X86_64, "socket");
        var close = SyscallTable.Lookup(SeccompArch.X86_64, "close");
        var getpid = SyscallTable.Lookup(SeccompArch.X86_64, "getpid");
        var missing = Marshal.StringToHGlobalAnsi("/nonexistent-dashboard-test/acct");
        try
        {
            Assert.Equal(Errno.ENOENT, RawSyscall(acct, missing, 0).Errno);
            Assert.Equal(Errno.EINVAL, RawSyscall(clone3, 0, 0).Errno);

            var results = OnFilteredThread(program, () =>
            {
                var unix = RawSyscall(socket, 1, 1, 0);
                if (unix.Result >= 0)
                {
                    RawSyscall(close, unix.Result, 0);
                }

                return new
                {
                    Pid = RawSyscall(getpid, 0, 0),
                    Acct = RawSyscall(acct, missing, 0),
                    Clone3 = RawSyscall(clone3, 0, 0),
                    Unassigned = RawSyscall(1000, 0, 0),
                    Vsock = RawSyscall(socket, 40, 1, 0),
                    Unix = unix,
                };
            });

            Assert.Equal(Environment.ProcessId, results.Pid.Result);
            Assert.Equal((-1L, Errno.EPERM), results.Acct);
            Assert.Equal((-1L, Errno.ENOSYS), results.Clone3);
            Assert.Equal((-1L, Errno.ENOSYS), results.Unassigned);
            Assert.Equal((-1L, Errno.EPERM), results.Vsock);
            Assert.True(results.Unix.Result >= 0, $"socket(AF_UNIX) errno {results.Unix.Errno}");

            Assert.Equal(Errno.ENOENT, RawSyscall(acct, missing, 0).Errno);
            Assert.Equal(Errno.EINVAL, RawSyscall(clone3, 0, 0).Errno);
        }
        finally
        {
            Marshal.FreeHGlobal(missing);
        }
    }

    [Fact]
    public void Install_ProgramTheKernelRefuses_ThrowsSyscallException()
    {
        Requires.Root();
        SockFilter[] outOfRange = [new(0x05, 0, 0, 5), new(0x06, 0, 0, SeccompCompiler.SECCOMP_RET_ALLOW)];

        var error = OnFilteredThread(null, () => Record.Exception(() => SeccompFilter.Install(outOfRange, SeccompFilterFlags.None)));

        var ex = Assert.IsType<SyscallException>(error);
        Assert.Equal(Errno.EINVAL, ex.Errno);
        Assert.Equal("seccomp: invalid argument", ex.Message);
    }

    [Fact]
    public void SupportedFlags_ThisKernel_KnowsTheSpecFlags()
    {
        var features = SeccompSupport.Describe();

        Assert.True(features.Enabled);
        Assert.Contains("SECCOMP_FILTER_FLAG_TSYNC", features.SupportedFlags!);
        Assert.Contains("SECCOMP_FILTER_FLAG_LOG", features.SupportedFlags!);
        Assert.Contains("SECCOMP_FILTER_FLAG_SPEC_ALLOW", features.SupportedFlags!);
        Assert.Equal(SeccompSupport.KnownFlags, features.KnownFlags);
        Assert.Equal(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"], features.Archs);
        Assert.Equal(7, features.Operators!.Count);
        Assert.Contains("SCMP_ACT_KILL_PROCESS", features.Actions!);
        Assert.Contains("SCMP_ACT_NOTIFY", features.Actions!);
        Assert.False(SeccompFilter.IsSupported((SeccompFilterFlags)(1u << 20)));
        Assert.True(SeccompFilter.IsActionAvailable(SeccompCompiler.SECCOMP_RET_KILL_PROCESS));
    }

    /// <summary>Runs <paramref name="probe"/> on a new thread after setting no_new_privs and installing <paramref name="program"/> there.</summary>
    private static T OnFilteredThread<T>(SeccompProgram? program, Func<T> probe)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                SeccompFilter.SetNoNewPrivileges();
                program?.Install();
                result = probe();
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "the filtered thread hung");
        if (failure is not null)
        {
            throw new InvalidOperationException("the filtered thread failed", failure);
        }

        return result;
    }

    private static unsafe (long Result, int Errno) RawSyscall(int nr, byte[] buffer)
    {
        fixed (byte* p = buffer)
        {
            return RawSyscall(nr, (nint)p, 0);
        }
    }

    private static (long Result, int Errno) RawSyscall(int nr, long a1, long a2, long a3 = 0)
    {
        var rc = syscall(nr, (nint)a1, (nint)a2, (nint)a3);
        return rc < 0 ? (rc, Marshal.GetLastPInvokeError()) : (rc, 0);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, nint a1, nint a2, nint a3);
}
