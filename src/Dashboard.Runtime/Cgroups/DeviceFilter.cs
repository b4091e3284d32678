using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Cgroups;

/// <summary>
/// Compiles a device allow-list into a BPF_PROG_TYPE_CGROUP_DEVICE program, the cgroup v2 form of
/// v1's devices.allow/deny. The program sees <c>struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }</c>
/// (access_type = access &lt;&lt; 16 | type) and returns 1 to allow, 0 to deny.
/// Semantics match the v1 writes: start from deny-all, later rules win, a rule over every device with
/// all access resets the default.
/// </summary>
internal static class DeviceFilter
{
    public const int DevBlock = 1;
    public const int DevChar = 2;
    public const int AccMknod = 1;
    public const int AccRead = 2;
    public const int AccWrite = 4;

    // struct bpf_insn opcodes (include/uapi/linux/bpf.h, bpf_common.h).
    private const byte LdxMemW = 0x61;
    private const byte Alu32AndK = 0x54;
    private const byte Alu32RshK = 0x74;
    private const byte Alu64MovX = 0xbf;
    private const byte Alu64MovK = 0xb7;
    private const byte JneK = 0x55;
    private const byte JneX = 0x5d;
    private const byte Exit = 0x95;

    /// <summary>Each element is one struct bpf_insn (code, dst|src&lt;&lt;4, off, imm) in little-endian order.</summary>
    public static ulong[] Compile(IReadOnlyList<DeviceCgroup> rules)
    {
        var defaultAllow = false;
        var effective = new List<DeviceCgroup>();
        foreach (var rule in rules)
        {
            _ = CgroupDeviceRules.ToV1Lines(rule);
            if (IsEverything(rule))
            {
                // Like writing "a" to devices.allow/deny: everything before it no longer matters.
                effective.Clear();
                defaultAllow = rule.Allow;
                continue;
            }

            effective.Add(rule);
        }

        var program = new List<ulong>
        {
            // r2 = type, r3 = access, r4 = major, r5 = minor.
            Insn(LdxMemW, 2, 1, 0, 0),
            Insn(Alu32AndK, 2, 0, 0, 0xFFFF),
            Insn(LdxMemW, 3, 1, 0, 0),
            Insn(Alu32RshK, 3, 0, 0, 16),
            Insn(LdxMemW, 4, 1, 4, 0),
            Insn(LdxMemW, 5, 1, 8, 0),
        };

        // The last matching rule decides, so test the rules from the end.
        for (var i = effective.Count - 1; i >= 0; i--)
        {
            program.AddRange(Block(effective[i]));
        }

        program.Add(Insn(Alu64MovK, 0, 0, 0, defaultAllow ? 1 : 0));
        program.Add(Insn(Exit, 0, 0, 0, 0));
        return [.. program];
    }

    /// <summary>Runs a compiled program the way the kernel would, for tests and self-checks.</summary>
    public static bool Evaluate(ulong[] program, int type, int access, uint major, uint minor)
    {
        var r = new ulong[11];
        var ctx = new uint[] { (uint)((access << 16) | type), major, minor };
        for (var pc = 0; pc < program.Length; pc++)
        {
            var insn = program[pc];
            var code = (byte)insn;
            var dst = (int)((insn >> 8) & 0xF);
            var src = (int)((insn >> 12) & 0xF);
            var off = (short)(insn >> 16);
            var imm = (int)(insn >> 32);
            switch (code)
            {
                case LdxMemW: r[dst] = ctx[off / 4]; break;
                case Alu32AndK: r[dst] = (uint)r[dst] & (uint)imm; break;
                case Alu32RshK: r[dst] = (uint)r[dst] >> imm; break;
                case Alu64MovX: r[dst] = r[src]; break;
                case Alu64MovK: r[dst] = (ulong)(long)imm; break;
                case JneK: if (r[dst] != (ulong)(long)imm) { pc += off; } break;
                case JneX: if (r[dst] != r[src]) { pc += off; } break;
                case Exit: return r[0] == 1;
                default: throw new InvalidOperationException($"opcode 0x{code:x2}");
            }
        }

        throw new InvalidOperationException("program fell off its end");
    }

    private static bool IsEverything(DeviceCgroup rule) =>
        rule.Type is null or "" or "a" && rule.Major is null or < 0 && rule.Minor is null or < 0
        && (string.IsNullOrEmpty(rule.Access) || rule.Access.Length == 3);

    private static List<ulong> Block(DeviceCgroup rule)
    {
        // Jumps are emitted with off = 0 and patched to "skip the rest of this block".
        var block = new List<ulong>();
        var jumps = new List<int>();
        var type = rule.Type is "b" ? DevBlock : rule.Type is "c" ? DevChar : 0;
        if (type != 0)
        {
            jumps.Add(block.Count);
            block.Add(Insn(JneK, 2, 0, 0, type));
        }

        var access = AccessMask(rule.Access);
        if (access != (AccMknod | AccRead | AccWrite))
        {
            // Every requested bit must be in the rule: (req & allowed) == req.
            block.Add(Insn(Alu64MovX, 1, 3, 0, 0));
            block.Add(Insn(Alu32AndK, 1, 0, 0, access));
            jumps.Add(block.Count);
            block.Add(Insn(JneX, 1, 3, 0, 0));
        }

        if (rule.Major is >= 0)
        {
            jumps.Add(block.Count);
            block.Add(Insn(JneK, 4, 0, 0, checked((int)rule.Major.Value)));
        }

        if (rule.Minor is >= 0)
        {
            jumps.Add(block.Count);
            block.Add(Insn(JneK, 5, 0, 0, checked((int)rule.Minor.Value)));
        }

        block.Add(Insn(Alu64MovK, 0, 0, 0, rule.Allow ? 1 : 0));
        block.Add(Insn(Exit, 0, 0, 0, 0));
        foreach (var at in jumps)
        {
            var skip = (short)(block.Count - at - 1);
            block[at] = (block[at] & ~0xFFFF_0000UL) | ((ulong)(ushort)skip << 16);
        }

        return block;
    }

    private static int AccessMask(string? access)
    {
        if (string.IsNullOrEmpty(access))
        {
            return AccMknod | AccRead | AccWrite;
        }

        var mask = 0;
        foreach (var c in access)
        {
            mask |= c switch { 'm' => AccMknod, 'r' => AccRead, 'w' => AccWrite, _ => 0 };
        }

        return mask;
    }

    private static ulong Insn(byte code, int dst, int src, short off, int imm) =>
        code | ((ulong)(byte)((src << 4) | dst) << 8) | ((ulong)(ushort)off << 16) | ((ulong)(uint)imm << 32);
}
