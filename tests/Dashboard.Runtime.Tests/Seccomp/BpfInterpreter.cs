using Dashboard.Linux.Native;

namespace Dashboard.Runtime.Tests.Seccomp;

/// <summary>The kernel's <c>struct seccomp_data</c>, as the filter sees it (little endian).</summary>
internal sealed record SeccompData(int Nr, uint Arch, params ulong[] Args)
{
    public ulong InstructionPointer { get; init; } = 0x401000;

    public uint Word(uint offset)
    {
        ulong Arg(int i) => i < Args.Length ? Args[i] : 0;
        return offset switch
        {
            0 => unchecked((uint)Nr),
            4 => Arch,
            8 => (uint)InstructionPointer,
            12 => (uint)(InstructionPointer >> 32),
            >= 16 and < 64 when offset % 4 == 0 => (offset - 16) % 8 == 0
                ? (uint)Arg((int)(offset - 16) / 8)
                : (uint)(Arg((int)(offset - 20) / 8) >> 32),
            _ => throw new InvalidOperationException($"load outside seccomp_data at offset {offset}"),
        };
    }
}

/// <summary>
/// A classic-BPF interpreter with the checks the kernel applies to seccomp programs
/// (bpf_check_classic + seccomp_check_filter): forward jumps inside the program, a return at the
/// end, aligned loads inside seccomp_data, and only the instructions seccomp allows.
/// </summary>
internal static class BpfInterpreter
{
    private static readonly HashSet<ushort> s_allowed =
    [
        0x20, // ld  [k]            BPF_LD|BPF_W|BPF_ABS
        0x00, // ld  #k             BPF_LD|BPF_IMM
        0x01, // ldx #k             BPF_LDX|BPF_IMM
        0x60, // ld  M[k]           BPF_LD|BPF_MEM
        0x61, // ldx M[k]           BPF_LDX|BPF_MEM
        0x02, // st  M[k]
        0x03, // stx M[k]
        0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c, 0x84, 0x94, 0x9c, 0xa4, 0xac, // ALU
        0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d, // JMP
        0x06, 0x16, // ret k, ret a
        0x07, 0x87, // tax, txa
    ];

    public static void Validate(SockFilter[] program)
    {
        Assert.InRange(program.Length, 1, SeccompFilter.MaxInstructions);
        for (var pc = 0; pc < program.Length; pc++)
        {
            var insn = program[pc];
            Assert.True(s_allowed.Contains(insn.Code), $"instruction {pc} has code 0x{insn.Code:x2}, which seccomp refuses");
            if (insn.Code == 0x20)
            {
                Assert.True(insn.K < 64 && insn.K % 4 == 0, $"instruction {pc} loads offset {insn.K}");
            }

            if (insn.Code == 0x05)
            {
                Assert.True(pc + 1 + (long)insn.K < program.Length, $"instruction {pc} jumps out of the program");
            }
            else if ((insn.Code & 0x07) == 0x05)
            {
                Assert.True(pc + 1 + insn.Jt < program.Length && pc + 1 + insn.Jf < program.Length, $"instruction {pc} jumps out of the program");
            }
        }

        Assert.True((program[^1].Code & 0x07) == 0x06, "the program does not end with a return");
    }

    public static uint Run(SockFilter[] program, SeccompData data) => Run(program, data, out _);

    public static uint Run(SockFilter[] program, SeccompData data, out int executed)
    {
        uint a = 0, x = 0;
        var mem = new uint[16];
        executed = 0;
        var pc = 0;
        while (true)
        {
            if (pc >= program.Length)
            {
                throw new InvalidOperationException("ran off the end of the program");
            }

            var insn = program[pc++];
            executed++;
            var k = insn.K;
            switch (insn.Code)
            {
                case 0x20: a = data.Word(k); break;
                case 0x00: a = k; break;
                case 0x01: x = k; break;
                case 0x60: a = mem[k]; break;
                case 0x61: x = mem[k]; break;
                case 0x02: mem[k] = a; break;
                case 0x03: mem[k] = x; break;
                case 0x07: x = a; break;
                case 0x87: a = x; break;
                case 0x06: return k;
                case 0x16: return a;
                case 0x05: pc += (int)k; break;
                default:
                    if ((insn.Code & 0x07) == 0x04)
                    {
                        a = Alu(insn.Code, a, (insn.Code & 0x08) != 0 ? x : k);
                    }
                    else if ((insn.Code & 0x07) == 0x05)
                    {
                        var operand = (insn.Code & 0x08) != 0 ? x : k;
                        var taken = (insn.Code & 0xf0) switch
                        {
                            0x10 => a == operand,
                            0x20 => a > operand,
                            0x30 => a >= operand,
                            0x40 => (a & operand) != 0,
                            _ => throw new InvalidOperationException($"bad jump 0x{insn.Code:x2}"),
                        };
                        pc += taken ? insn.Jt : insn.Jf;
                    }
                    else
                    {
                        throw new InvalidOperationException($"unsupported instruction 0x{insn.Code:x2}");
                    }

                    break;
            }
        }
    }

    private static uint Alu(ushort code, uint a, uint operand) => (code & 0xf0) switch
    {
        0x00 => a + operand,
        0x10 => a - operand,
        0x20 => a * operand,
        0x30 => a / operand,
        0x40 => a | operand,
        0x50 => a & operand,
        0x60 => a << (int)operand,
        0x70 => a >> (int)operand,
        0x80 => (uint)-(int)a,
        0x90 => a % operand,
        0xa0 => a ^ operand,
        _ => throw new InvalidOperationException($"bad alu 0x{code:x2}"),
    };
}
