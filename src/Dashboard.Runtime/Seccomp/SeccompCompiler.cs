using Dashboard.Linux;
using Dashboard.Linux.Native;
using OciSeccomp = Dashboard.Oci.Runtime.Seccomp;

namespace Dashboard.Runtime.Seccomp;

/// <summary>
/// Compiles the runtime-spec seccomp object (config-linux.md "Seccomp") to a classic-BPF program
/// with the semantics of runc + libseccomp:
/// <list type="bullet">
/// <item>the architecture in <c>seccomp_data.arch</c> must be the native one or a listed one, else the
/// thread is killed (libseccomp's bad-arch action); on x86_64, x32 calls (nr has bit 30) are checked
/// against the x32 table and refused unless SCMP_ARCH_X32 is listed;</item>
/// <item>several <c>args</c> of one rule must all hold; several rules for one syscall are tried in
/// order, conditional rules before an unconditional one; a syscall that matches none gets the
/// default action;</item>
/// <item>rules whose action equals the default action are dropped (libseccomp refuses them and
/// runc skips them);</item>
/// <item>as runc's patchbpf, a syscall numbered above the highest one the profile names for that
/// architecture gets ENOSYS instead of a denying default action, so programs fall back from
/// syscalls newer than the profile (clone3 → clone);</item>
/// <item>64-bit arguments are compared unsigned on both 32-bit halves; 32-bit ABIs compare the low half.</item>
/// </list>
/// No reflection and no LINQ: this runs in the NativeAOT container init.
/// </summary>
public static class SeccompCompiler
{
    public const uint SECCOMP_RET_KILL_PROCESS = 0x80000000;
    public const uint SECCOMP_RET_KILL_THREAD = 0x00000000;
    public const uint SECCOMP_RET_TRAP = 0x00030000;
    public const uint SECCOMP_RET_ERRNO = 0x00050000;
    public const uint SECCOMP_RET_USER_NOTIF = 0x7fc00000;
    public const uint SECCOMP_RET_TRACE = 0x7ff00000;
    public const uint SECCOMP_RET_LOG = 0x7ffc0000;
    public const uint SECCOMP_RET_ALLOW = 0x7fff0000;

    /// <summary>libseccomp's default bad-architecture action (SCMP_ACT_KILL, i.e. kill the thread).</summary>
    public const uint BadArchAction = SECCOMP_RET_KILL_THREAD;

    /// <summary>How many syscalls a leaf of the dispatch tree tests one after another.</summary>
    private const int LeafSize = 4;

    // struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6] (little endian).
    private const uint OffsetNr = 0;
    private const uint OffsetArch = 4;
    private const uint OffsetArgs = 16;

    /// <summary>Compiles <paramref name="profile"/> for the architecture of this process.</summary>
    public static SeccompProgram Compile(OciSeccomp profile) => Compile(profile, SeccompArchs.Native);

    /// <summary>Compiles <paramref name="profile"/> for a kernel whose native architecture is <paramref name="nativeArch"/>.</summary>
    /// <exception cref="SeccompException">The profile is invalid.</exception>
    public static SeccompProgram Compile(OciSeccomp profile, SeccompArch nativeArch)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var warnings = new List<string>();

        var defaultKind = ParseActionKind(profile.DefaultAction, "defaultAction");
        if (defaultKind == ActionKind.Notify)
        {
            throw new SeccompException("seccomp: SCMP_ACT_NOTIFY cannot be the default action");
        }

        var defaultAction = ActionValue(defaultKind, profile.DefaultErrnoRet, profile.DefaultAction, "defaultErrnoRet");

        if (!string.IsNullOrEmpty(profile.ListenerMetadata) && string.IsNullOrEmpty(profile.ListenerPath))
        {
            throw new SeccompException("seccomp: listenerMetadata is set but listenerPath is not");
        }

        var rules = ParseRules(profile, warnings, out var usesNotify);
        if (usesNotify && string.IsNullOrEmpty(profile.ListenerPath))
        {
            throw new SeccompException("seccomp: SCMP_ACT_NOTIFY is used but listenerPath is not set");
        }

        var flags = ParseFlags(profile.Flags, usesNotify, warnings);
        var archs = ResolveArchitectures(profile.Architectures, nativeArch, warnings);

        // runc patchbpf generatePatch: no stub for permissive defaults or when the default is ENOSYS already.
        var enosysStub = defaultKind is not (ActionKind.Allow or ActionKind.Log or ActionKind.Trace)
            && defaultAction != (SECCOMP_RET_ERRNO | Errno.ENOSYS);

        var context = new Context(new BpfBuilder(), defaultAction, enosysStub, warnings);
        var program = Emit(context, archs, rules);
        if (program.Length > SeccompFilter.MaxInstructions)
        {
            throw new SeccompException($"seccomp: the filter needs {program.Length} instructions, more than the kernel's limit of {SeccompFilter.MaxInstructions}");
        }

        return new SeccompProgram(program, flags, warnings);
    }

    private static SockFilter[] Emit(Context c, List<SeccompArch> archs, List<Rule> rules)
    {
        var b = c.Builder;

        // One section per seccomp_data.arch value; x86_64 and x32 share AUDIT_ARCH_X86_64.
        var audits = new List<uint>(archs.Count);
        var hasX86_64 = archs.Contains(SeccompArch.X86_64);
        var hasX32 = archs.Contains(SeccompArch.X32);
        foreach (var arch in archs)
        {
            var audit = SeccompArchs.AuditArch(arch);
            if (!audits.Contains(audit))
            {
                audits.Add(audit);
            }
        }

        var sectionLabels = new int[audits.Count];
        for (var i = audits.Count - 1; i >= 0; i--)
        {
            var audit = audits[i];
            if (audit == SeccompArchs.AuditX86_64)
            {
                var high = hasX32 ? EmitArchBody(c, SeccompArch.X32, rules) : b.Ret(BadArchAction);
                // nr -1 is how a tracer skips a syscall; libseccomp lets it reach the default action.
                var highLabel = b.JumpIf(BpfBuilder.JeqK, uint.MaxValue, b.Ret(c.DefaultAction), high);
                var low = hasX86_64 ? EmitArchBody(c, SeccompArch.X86_64, rules) : b.Ret(BadArchAction);
                b.JumpIf(BpfBuilder.JgeK, SeccompArchs.X32SyscallBit, highLabel, low);
            }
            else
            {
                EmitArchBody(c, ArchOfAudit(archs, audit), rules);
            }

            sectionLabels[i] = b.Load(OffsetNr);
        }

        var next = b.Ret(BadArchAction);
        for (var i = audits.Count - 1; i >= 0; i--)
        {
            next = b.JumpIf(BpfBuilder.JeqK, audits[i], sectionLabels[i], next);
        }

        b.Load(OffsetArch);
        return b.ToProgram();
    }

    private static SeccompArch ArchOfAudit(List<SeccompArch> archs, uint audit)
    {
        foreach (var arch in archs)
        {
            if (SeccompArchs.AuditArch(arch) == audit)
            {
                return arch;
            }
        }

        throw new InvalidOperationException("audit arch without architecture");
    }

    /// <summary>The checks of one ABI, entered with the syscall number in A.</summary>
    private static int EmitArchBody(Context c, SeccompArch arch, List<Rule> rules)
    {
        var entries = BuildEntries(c, arch, rules, out var maxNr);
        var is64 = SeccompArchs.Is64Bit(arch);
        var segments = BuildSegments(entries);
        var dispatch = segments.Length == 0 ? c.Builder.Ret(c.DefaultAction) : EmitTree(c, segments, 0, segments.Length, is64);
        if (!c.EnosysStub || maxNr < 0)
        {
            return dispatch;
        }

        var enosys = c.Builder.Ret(SECCOMP_RET_ERRNO | Errno.ENOSYS);
        return c.Builder.JumpIf(BpfBuilder.JgtK, (uint)maxNr, enosys, dispatch);
    }

    /// <summary>The syscalls of <paramref name="arch"/> that have rules, sorted by number.</summary>
    private static Entry[] BuildEntries(Context c, SeccompArch arch, List<Rule> rules, out long maxNr)
    {
        maxNr = -1;
        var byNr = new Dictionary<int, Entry>();
        foreach (var rule in rules)
        {
            foreach (var name in rule.Names)
            {
                var nr = SyscallTable.Lookup(arch, name);
                if (nr < 0)
                {
                    continue;
                }

                // runc's findLastSyscalls counts every named syscall, whatever its action.
                if (nr > maxNr && !(arch == SeccompArch.Arm && nr >= SyscallTable.ArmPrivateBase))
                {
                    maxNr = nr;
                }

                if (rule.Action == c.DefaultAction)
                {
                    continue;
                }

                if (!byNr.TryGetValue(nr, out var entry))
                {
                    entry = new Entry(nr);
                    byNr.Add(nr, entry);
                }

                if (rule.Conditions.Length > 0)
                {
                    (entry.Conditional ??= []).Add(rule);
                }
                else if (entry.Unconditional is null)
                {
                    entry.Unconditional = rule.Action;
                }
                else if (entry.Unconditional != rule.Action && !c.ConflictWarned.Contains(name))
                {
                    c.ConflictWarned.Add(name);
                    c.Warnings.Add($"seccomp: syscall \"{name}\" has several unconditional rules with different actions; the first one applies");
                }
            }
        }

        var entries = new Entry[byNr.Count];
        byNr.Values.CopyTo(entries, 0);
        Array.Sort(entries, static (x, y) => x.Nr.CompareTo(y.Nr));
        return entries;
    }

    /// <summary>
    /// Runs of consecutive syscall numbers with the same unconditional action become one range
    /// (a Docker-like allow list has a few dozen runs instead of ~330 numbers); a syscall with
    /// conditional rules is a segment of its own.
    /// </summary>
    private static Segment[] BuildSegments(Entry[] entries)
    {
        var segments = new List<Segment>(entries.Length);
        foreach (var entry in entries)
        {
            if (entry.Conditional is null && segments.Count > 0)
            {
                var last = segments[^1];
                if (last.Rules is null && last.Action == entry.Unconditional && last.Hi == entry.Nr - 1)
                {
                    segments[^1] = last with { Hi = entry.Nr };
                    continue;
                }
            }

            segments.Add(new Segment(entry.Nr, entry.Nr, entry.Conditional is null ? null : entry, entry.Unconditional ?? 0));
        }

        return [.. segments];
    }

    /// <summary>A binary search over the segments, with short linear leaves.</summary>
    private static int EmitTree(Context c, Segment[] segments, int lo, int hi, bool is64)
    {
        if (hi - lo <= LeafSize)
        {
            return EmitLeaf(c, segments, lo, hi, is64);
        }

        var mid = lo + ((hi - lo) / 2);
        var right = EmitTree(c, segments, mid, hi, is64);
        var left = EmitTree(c, segments, lo, mid, is64);
        return c.Builder.JumpIf(BpfBuilder.JgeK, (uint)segments[mid].Lo, right, left);
    }

    /// <summary>
    /// Tests the segments in ascending order: a number above a segment moves on to the next one,
    /// a number inside it takes its action, a number below it (a gap) takes the default action.
    /// </summary>
    private static int EmitLeaf(Context c, Segment[] segments, int lo, int hi, bool is64)
    {
        var b = c.Builder;
        Span<int> blocks = stackalloc int[LeafSize];
        Span<uint> sharedActions = stackalloc uint[LeafSize];
        Span<int> sharedLabels = stackalloc int[LeafSize];
        var shared = 0;

        for (var i = hi - 1; i >= lo; i--)
        {
            var segment = segments[i];
            if (segment.Rules is null)
            {
                var found = sharedActions[..shared].IndexOf(segment.Action);
                if (found < 0)
                {
                    sharedActions[shared] = segment.Action;
                    sharedLabels[shared] = b.Ret(segment.Action);
                    found = shared++;
                }

                blocks[i - lo] = sharedLabels[found];
            }
            else
            {
                blocks[i - lo] = EmitRules(c, segment.Rules, is64);
            }
        }

        var fallback = b.Ret(c.DefaultAction);
        var next = fallback;
        for (var i = hi - 1; i >= lo; i--)
        {
            var segment = segments[i];
            if (segment.Lo == segment.Hi)
            {
                next = b.JumpIf(BpfBuilder.JeqK, (uint)segment.Lo, blocks[i - lo], next);
            }
            else
            {
                var inside = b.JumpIf(BpfBuilder.JgeK, (uint)segment.Lo, blocks[i - lo], fallback);
                next = b.JumpIf(BpfBuilder.JgtK, (uint)segment.Hi, next, inside);
            }
        }

        return next;
    }

    /// <summary>Conditional rules in profile order, then the unconditional action or the default.</summary>
    private static int EmitRules(Context c, Entry entry, bool is64)
    {
        var b = c.Builder;
        var next = b.Ret(entry.Unconditional ?? c.DefaultAction);
        var conditional = entry.Conditional!;
        for (var j = conditional.Count - 1; j >= 0; j--)
        {
            var rule = conditional[j];
            var pass = b.Ret(rule.Action);
            for (var k = rule.Conditions.Length - 1; k >= 0; k--)
            {
                pass = EmitCompare(b, rule.Conditions[k], pass, next, is64);
            }

            next = pass;
        }

        return next;
    }

    /// <summary>
    /// Tests one argument against a value, unsigned as libseccomp does: on 64-bit ABIs the high
    /// words decide unless equal, then the low words; MASKED_EQ compares (arg &amp; value) with valueTwo.
    /// </summary>
    private static int EmitCompare(BpfBuilder b, Condition cond, int pass, int fail, bool is64)
    {
        var lowOffset = OffsetArgs + (8 * cond.Index);
        var highOffset = lowOffset + 4;
        var vlo = (uint)cond.Value;
        var vhi = (uint)(cond.Value >> 32);

        int low;
        switch (cond.Op)
        {
            case CompareOp.Eq:
                low = b.JumpIf(BpfBuilder.JeqK, vlo, pass, fail);
                break;
            case CompareOp.Ne:
                low = b.JumpIf(BpfBuilder.JeqK, vlo, fail, pass);
                break;
            case CompareOp.Gt:
                low = b.JumpIf(BpfBuilder.JgtK, vlo, pass, fail);
                break;
            case CompareOp.Ge:
                low = b.JumpIf(BpfBuilder.JgeK, vlo, pass, fail);
                break;
            case CompareOp.Lt:
                low = b.JumpIf(BpfBuilder.JgeK, vlo, fail, pass);
                break;
            case CompareOp.Le:
                low = b.JumpIf(BpfBuilder.JgtK, vlo, fail, pass);
                break;
            default:
                low = b.JumpIf(BpfBuilder.JeqK, (uint)cond.ValueTwo, pass, fail);
                b.And(vlo);
                break;
        }

        low = b.Load(lowOffset);
        if (!is64)
        {
            return low;
        }

        switch (cond.Op)
        {
            case CompareOp.Eq:
                b.JumpIf(BpfBuilder.JeqK, vhi, low, fail);
                break;
            case CompareOp.Ne:
                b.JumpIf(BpfBuilder.JeqK, vhi, low, pass);
                break;
            case CompareOp.Gt:
            case CompareOp.Ge:
                b.JumpIf(BpfBuilder.JgtK, vhi, pass, b.JumpIf(BpfBuilder.JeqK, vhi, low, fail));
                break;
            case CompareOp.Lt:
            case CompareOp.Le:
                b.JumpIf(BpfBuilder.JgtK, vhi, fail, b.JumpIf(BpfBuilder.JeqK, vhi, low, pass));
                break;
            default:
                b.JumpIf(BpfBuilder.JeqK, (uint)(cond.ValueTwo >> 32), low, fail);
                b.And(vhi);
                break;
        }

        return b.Load(highOffset);
    }

    private static List<Rule> ParseRules(OciSeccomp profile, List<string> warnings, out bool usesNotify)
    {
        usesNotify = false;
        var syscalls = profile.Syscalls;
        var rules = new List<Rule>(syscalls?.Count ?? 0);
        if (syscalls is null)
        {
            return rules;
        }

        List<string>? warned = null;
        for (var i = 0; i < syscalls.Count; i++)
        {
            var syscall = syscalls[i] ?? throw new SeccompException($"seccomp: syscalls[{i}] is null");
            if (syscall.Names is null || syscall.Names.Count == 0)
            {
                throw new SeccompException($"seccomp: syscalls[{i}]: names must contain at least one entry");
            }

            var names = new string[syscall.Names.Count];
            for (var n = 0; n < names.Length; n++)
            {
                var name = syscall.Names[n];
                if (string.IsNullOrEmpty(name))
                {
                    throw new SeccompException($"seccomp: syscalls[{i}]: empty syscall name");
                }

                if (!SyscallTable.IsKnown(name) && (warned ??= []).IndexOf(name) < 0)
                {
                    warned.Add(name);
                    warnings.Add($"seccomp: unknown syscall \"{name}\" skipped");
                }

                names[n] = name;
            }

            var kind = ParseActionKind(syscall.Action, $"syscalls[{i}].action");
            usesNotify |= kind == ActionKind.Notify;
            var action = ActionValue(kind, syscall.ErrnoRet, syscall.Action, "errnoRet");

            var args = syscall.Args;
            var conditions = args is null || args.Count == 0 ? [] : new Condition[args.Count];
            for (var a = 0; a < conditions.Length; a++)
            {
                var arg = args![a] ?? throw new SeccompException($"seccomp: syscalls[{i}].args[{a}] is null");
                if (arg.Index > 5)
                {
                    throw new SeccompException($"seccomp: syscalls[{i}]: argument index {arg.Index} out of range (0-5)");
                }

                conditions[a] = new Condition(arg.Index, ParseOp(arg.Op), arg.Value, arg.ValueTwo);
            }

            rules.Add(new Rule(names, action, conditions));
        }

        return rules;
    }

    private static List<SeccompArch> ResolveArchitectures(List<string>? listed, SeccompArch native, List<string> warnings)
    {
        // libseccomp's seccomp_init always includes the native architecture.
        var archs = new List<SeccompArch>(4) { native };
        if (listed is null)
        {
            return archs;
        }

        foreach (var name in listed)
        {
            if (SeccompArchs.TryParse(name ?? "", out var arch))
            {
                if (!archs.Contains(arch))
                {
                    archs.Add(arch);
                }
            }
            else if (name is not null && SeccompArchs.IsKnownOciName(name))
            {
                warnings.Add($"seccomp: no syscall table for architecture \"{name}\"; its processes get the bad-architecture action");
            }
            else
            {
                throw new SeccompException($"seccomp: unknown architecture \"{name}\"");
            }
        }

        return archs;
    }

    private static SeccompFilterFlags ParseFlags(List<string>? names, bool usesNotify, List<string> warnings)
    {
        var flags = SeccompFilterFlags.None;
        if (names is not null)
        {
            foreach (var name in names)
            {
                var flag = SeccompSupport.ParseFlag(name ?? "");
                if (flag == SeccompFilterFlags.None)
                {
                    throw new SeccompException($"seccomp: unknown flag \"{name}\"");
                }

                flags |= flag;
            }
        }

        if (usesNotify)
        {
            flags |= SeccompFilterFlags.NewListener;
            if ((flags & SeccompFilterFlags.Tsync) != 0)
            {
                // The kernel refuses TSYNC with NEW_LISTENER unless a sync failure is reported as ESRCH (libseccomp does the same).
                flags |= SeccompFilterFlags.TsyncEsrch;
            }
        }
        else if ((flags & SeccompFilterFlags.WaitKillableRecv) != 0)
        {
            flags &= ~SeccompFilterFlags.WaitKillableRecv;
            warnings.Add("seccomp: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored: no rule uses SCMP_ACT_NOTIFY");
        }

        return flags;
    }

    private static ActionKind ParseActionKind(string? action, string field) => action switch
    {
        "SCMP_ACT_KILL" or "SCMP_ACT_KILL_THREAD" => ActionKind.KillThread,
        "SCMP_ACT_KILL_PROCESS" => ActionKind.KillProcess,
        "SCMP_ACT_TRAP" => ActionKind.Trap,
        "SCMP_ACT_ERRNO" => ActionKind.Errno,
        "SCMP_ACT_TRACE" => ActionKind.Trace,
        "SCMP_ACT_ALLOW" => ActionKind.Allow,
        "SCMP_ACT_LOG" => ActionKind.Log,
        "SCMP_ACT_NOTIFY" => ActionKind.Notify,
        null or "" => throw new SeccompException($"seccomp: {field} is required"),
        _ => throw new SeccompException($"seccomp: unknown action \"{action}\""),
    };

    /// <summary>
    /// The SECCOMP_RET_* value. runtime-spec: errnoRet is for SCMP_ACT_ERRNO and SCMP_ACT_TRACE, "when
    /// the action doesn't support an errno, the runtime MUST print an error and fail"; absent, it is EPERM.
    /// </summary>
    private static uint ActionValue(ActionKind kind, uint? errnoRet, string action, string field)
    {
        if (errnoRet is not null && kind is not (ActionKind.Errno or ActionKind.Trace))
        {
            throw new SeccompException($"seccomp: {field} is not supported by action \"{action}\"");
        }

        var data = (errnoRet ?? Errno.EPERM) & 0xffff;
        return kind switch
        {
            ActionKind.KillThread => SECCOMP_RET_KILL_THREAD,
            ActionKind.KillProcess => SECCOMP_RET_KILL_PROCESS,
            ActionKind.Trap => SECCOMP_RET_TRAP,
            ActionKind.Errno => SECCOMP_RET_ERRNO | data,
            ActionKind.Trace => SECCOMP_RET_TRACE | data,
            ActionKind.Allow => SECCOMP_RET_ALLOW,
            ActionKind.Log => SECCOMP_RET_LOG,
            _ => SECCOMP_RET_USER_NOTIF,
        };
    }

    private static CompareOp ParseOp(string? op) => op switch
    {
        "SCMP_CMP_NE" => CompareOp.Ne,
        "SCMP_CMP_LT" => CompareOp.Lt,
        "SCMP_CMP_LE" => CompareOp.Le,
        "SCMP_CMP_EQ" => CompareOp.Eq,
        "SCMP_CMP_GE" => CompareOp.Ge,
        "SCMP_CMP_GT" => CompareOp.Gt,
        "SCMP_CMP_MASKED_EQ" => CompareOp.MaskedEq,
        _ => throw new SeccompException($"seccomp: unknown operator \"{op}\""),
    };

    private enum ActionKind
    {
        KillThread,
        KillProcess,
        Trap,
        Errno,
        Trace,
        Allow,
        Log,
        Notify,
    }

    private enum CompareOp
    {
        Ne,
        Lt,
        Le,
        Eq,
        Ge,
        Gt,
        MaskedEq,
    }

    private readonly record struct Condition(uint Index, CompareOp Op, ulong Value, ulong ValueTwo);

    private sealed record Rule(string[] Names, uint Action, Condition[] Conditions);

    /// <summary>Syscalls <c>Lo..Hi</c> with one unconditional action, or one syscall with conditional <see cref="Rules"/>.</summary>
    private readonly record struct Segment(int Lo, int Hi, Entry? Rules, uint Action);

    private sealed class Entry(int nr)
    {
        public int Nr { get; } = nr;

        public List<Rule>? Conditional { get; set; }

        public uint? Unconditional { get; set; }
    }

    private sealed class Context(BpfBuilder builder, uint defaultAction, bool enosysStub, List<string> warnings)
    {
        public BpfBuilder Builder { get; } = builder;

        public uint DefaultAction { get; } = defaultAction;

        public bool EnosysStub { get; } = enosysStub;

        public List<string> Warnings { get; } = warnings;

        public List<string> ConflictWarned { get; } = [];
    }
}
