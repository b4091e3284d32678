using Dashboard.Oci.Runtime;

namespace Dashboard.Engine.Containers;

/// <summary>
/// The engine's default seccomp profile: Docker's default behaviour (moby <c>profiles/seccomp/default.json</c>,
/// as of Docker 25–28) written as our own table. Everything not listed fails with EPERM; the runtime adds
/// an ENOSYS stub for syscall numbers newer than the profile so programs fall back (runc patchbpf).
/// Deliberately left out, as Docker does: keyrings (<c>keyctl</c>, <c>add_key</c>, <c>request_key</c>: not
/// namespaced), <c>userfaultfd</c>, <c>kexec_*</c>, <c>pivot_root</c>, <c>swapon</c>/<c>swapoff</c>,
/// <c>io_uring_*</c> (a long series of kernel bugs; Docker 25 removed it), and namespace creation for
/// containers without CAP_SYS_ADMIN.
/// </summary>
public static class DefaultSeccompProfile
{
    private const ulong CloneNamespaceFlags =
        0x00020000 /* CLONE_NEWNS */ | 0x04000000 /* CLONE_NEWUTS */ | 0x08000000 /* CLONE_NEWIPC */ | 0x10000000 /* CLONE_NEWUSER */
        | 0x20000000 /* CLONE_NEWPID */ | 0x40000000 /* CLONE_NEWNET */ | 0x02000000 /* CLONE_NEWCGROUP */;

    private const uint Enosys = 38;
    private const uint Eperm = 1;
    private const ulong AfVsock = 40;

    /// <summary>Allowed for every container, whatever its capabilities (the kernel still checks capabilities itself).</summary>
    private const string Unconditional = """
        read write readv writev pread64 pwrite64 preadv preadv2 pwritev pwritev2 sendfile sendfile64 splice tee vmsplice
        copy_file_range readahead lseek _llseek close close_range dup dup2 dup3 fcntl fcntl64 flock ioctl
        open openat openat2 creat access faccessat faccessat2 stat stat64 lstat lstat64 fstat fstat64 fstatat64 newfstatat statx
        statfs statfs64 fstatfs fstatfs64 truncate truncate64 ftruncate ftruncate64 fallocate fadvise64 fadvise64_64
        fsync fdatasync sync syncfs sync_file_range cachestat
        chdir fchdir getcwd mkdir mkdirat rmdir rename renameat renameat2 link linkat unlink unlinkat symlink symlinkat
        readlink readlinkat getdents getdents64 mknod mknodat umask
        chmod fchmod fchmodat fchmodat2 chown chown32 fchown fchown32 fchownat lchown lchown32
        utime utimes utimensat utimensat_time64 futimesat
        getxattr lgetxattr fgetxattr setxattr lsetxattr fsetxattr listxattr llistxattr flistxattr removexattr lremovexattr fremovexattr
        inotify_init inotify_init1 inotify_add_watch inotify_rm_watch fanotify_mark name_to_handle_at
        brk mmap mmap2 munmap mremap mprotect madvise mincore msync mlock mlock2 mlockall munlock munlockall remap_file_pages
        membarrier memfd_create memfd_secret pkey_alloc pkey_free pkey_mprotect map_shadow_stack mseal
        execve execveat exit exit_group fork vfork wait4 waitid waitpid kill tkill tgkill
        pidfd_open pidfd_send_signal process_mrelease
        rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64
        rt_tgsigqueueinfo sigaltstack sigprocmask sigreturn signalfd signalfd4 pause restart_syscall
        getpid getppid gettid getpgid getpgrp setpgid getsid setsid set_tid_address
        getuid getuid32 geteuid geteuid32 getgid getgid32 getegid getegid32 getresuid getresuid32 getresgid getresgid32
        getgroups getgroups32 setuid setuid32 setgid setgid32 setreuid setreuid32 setregid setregid32 setresuid setresuid32
        setresgid setresgid32 setfsuid setfsuid32 setfsgid setfsgid32 setgroups setgroups32 capget capset
        getrlimit setrlimit ugetrlimit prlimit64 getrusage getpriority setpriority ioprio_get ioprio_set
        sched_yield sched_getaffinity sched_setaffinity sched_getattr sched_setattr sched_getparam sched_setparam
        sched_getscheduler sched_setscheduler sched_get_priority_max sched_get_priority_min
        sched_rr_get_interval sched_rr_get_interval_time64 getcpu
        futex futex_time64 futex_waitv futex_wait futex_wake futex_requeue set_robust_list get_robust_list rseq
        get_thread_area set_thread_area prctl seccomp landlock_add_rule landlock_create_ruleset landlock_restrict_self
        time gettimeofday clock_gettime clock_gettime64 clock_getres clock_getres_time64 clock_nanosleep clock_nanosleep_time64
        nanosleep adjtimex clock_adjtime clock_adjtime64 alarm getitimer setitimer times
        timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64
        timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64
        poll ppoll ppoll_time64 select _newselect pselect6 pselect6_time64
        epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_wait epoll_wait_old epoll_pwait epoll_pwait2 eventfd eventfd2
        io_setup io_destroy io_submit io_cancel io_getevents io_pgetevents io_pgetevents_time64
        socketpair socketcall bind connect listen accept accept4 getsockname getpeername getsockopt setsockopt shutdown
        send sendto sendmsg sendmmsg recv recvfrom recvmsg recvmmsg recvmmsg_time64
        ipc msgget msgsnd msgrcv msgctl semget semop semtimedop semtimedop_time64 semctl shmget shmat shmdt shmctl
        mq_open mq_unlink mq_notify mq_getsetattr mq_timedsend mq_timedsend_time64 mq_timedreceive mq_timedreceive_time64
        pipe pipe2 getrandom uname sysinfo
        """;

    /// <summary>Syscalls each extra capability unlocks (the capability is what the kernel checks; seccomp stops the rest).</summary>
    private static readonly (string Capability, string Names)[] s_byCapability =
    [
        ("CAP_DAC_READ_SEARCH", "open_by_handle_at"),
        ("CAP_SYS_ADMIN", "bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr move_mount "
            + "open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare"),
        ("CAP_SYS_BOOT", "reboot"),
        ("CAP_SYS_CHROOT", "chroot"),
        ("CAP_SYS_MODULE", "delete_module init_module finit_module"),
        ("CAP_SYS_PACCT", "acct"),
        ("CAP_SYS_PTRACE", "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace"),
        ("CAP_SYS_RAWIO", "iopl ioperm"),
        ("CAP_SYS_TIME", "settimeofday stime clock_settime clock_settime64"),
        ("CAP_SYS_TTY_CONFIG", "vhangup"),
        ("CAP_SYS_NICE", "get_mempolicy mbind set_mempolicy set_mempolicy_home_node"),
        ("CAP_SYSLOG", "syslog"),
        ("CAP_BPF", "bpf"),
        ("CAP_PERFMON", "perf_event_open"),
    ];

    /// <summary>Architecture-private syscalls, by Go architecture name.</summary>
    private static readonly (string[] Arches, string Names)[] s_byArch =
    [
        (["amd64", "x32"], "arch_prctl"),
        (["amd64", "x32", "x86", "386"], "modify_ldt"),
        (["amd64"], "uretprobe"),
        (["arm", "arm64"], "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls"),
        (["ppc64le"], "sync_file_range2 swapcontext"),
        (["s390", "s390x"], "s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr"),
        (["riscv64"], "riscv_flush_icache"),
    ];

    /// <summary>personality(2) personas allowed without CAP_SYS_ADMIN: PER_LINUX, UNAME26, PER_LINUX32, PER_LINUX32|UNAME26, and the query 0xffffffff.</summary>
    private static readonly ulong[] s_personalities = [0x0, 0x0008, 0x20000, 0x20008, 0xffffffff];

    /// <summary>A fresh copy of the profile (callers may not share mutable rule lists).</summary>
    public static SeccompProfile Create()
    {
        var rules = new List<SeccompRule> { Allow(Unconditional) };

        // Kernels before 4.8 let ptrace bypass seccomp (the tracer could change the syscall after the check).
        rules.Add(Allow("process_vm_readv process_vm_writev ptrace", includes: new SeccompRuleFilter { MinKernel = "4.8" }));

        // AF_VSOCK talks to the hypervisor host, outside every network namespace.
        rules.Add(Allow("socket", args: [new SeccompArg { Index = 0, Value = AfVsock, Op = "SCMP_CMP_NE" }]));
        rules.AddRange(s_personalities.Select(p => Allow("personality", args: [new SeccompArg { Index = 0, Value = p, Op = "SCMP_CMP_EQ" }])));
        rules.AddRange(s_byArch.Select(a => Allow(a.Names, includes: new SeccompRuleFilter { Arches = [.. a.Arches] })));
        rules.AddRange(s_byCapability.Select(c => Allow(c.Names, includes: new SeccompRuleFilter { Caps = [c.Capability] })));

        // Without CAP_SYS_ADMIN: threads and processes yes, new namespaces no (s390 swaps clone's first two arguments).
        rules.Add(Allow("clone", args: [new SeccompArg { Index = 0, Value = CloneNamespaceFlags, ValueTwo = 0, Op = "SCMP_CMP_MASKED_EQ" }],
            excludes: new SeccompRuleFilter { Caps = ["CAP_SYS_ADMIN"], Arches = ["s390", "s390x"] }));
        rules.Add(Allow("clone", args: [new SeccompArg { Index = 1, Value = CloneNamespaceFlags, ValueTwo = 0, Op = "SCMP_CMP_MASKED_EQ" }],
            includes: new SeccompRuleFilter { Arches = ["s390", "s390x"] }, excludes: new SeccompRuleFilter { Caps = ["CAP_SYS_ADMIN"] }));

        // clone3 passes its flags in memory, where seccomp cannot look: ENOSYS makes libc fall back to clone.
        rules.Add(new SeccompRule { Names = ["clone3"], Action = "SCMP_ACT_ERRNO", ErrnoRet = Enosys, Excludes = new SeccompRuleFilter { Caps = ["CAP_SYS_ADMIN"] } });

        return new SeccompProfile
        {
            DefaultAction = "SCMP_ACT_ERRNO",
            DefaultErrnoRet = Eperm,
            ArchMap =
            [
                new() { Architecture = "SCMP_ARCH_X86_64", SubArchitectures = ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] },
                new() { Architecture = "SCMP_ARCH_AARCH64", SubArchitectures = ["SCMP_ARCH_ARM"] },
                new() { Architecture = "SCMP_ARCH_S390X", SubArchitectures = ["SCMP_ARCH_S390"] },
                new() { Architecture = "SCMP_ARCH_PPC64LE", SubArchitectures = [] },
                new() { Architecture = "SCMP_ARCH_RISCV64", SubArchitectures = [] },
            ],
            Syscalls = rules,
        };
    }

    private static SeccompRule Allow(string names, List<SeccompArg>? args = null, SeccompRuleFilter? includes = null, SeccompRuleFilter? excludes = null) => new()
    {
        Names = [.. names.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries)],
        Action = "SCMP_ACT_ALLOW",
        Args = args,
        Includes = includes,
        Excludes = excludes,
    };
}
