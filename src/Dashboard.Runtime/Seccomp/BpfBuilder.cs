using Dashboard.Linux.Native;

namespace Dashboard.Runtime.Seccomp;

/// <summary>
/// Builds a classic-BPF program from its last instruction to its first. Classic BPF only jumps
/// forward, so every jump target already exists when the jump is emitted and its distance is
/// known; a conditional jump farther than 255 instructions (jt/jf are 8-bit) goes through a
/// <c>ja</c> trampoline emitted right after it. A label is an instruction's index counted from
/// the end of the program.
/// </summary>
internal sealed class BpfBuilder
{
    public const ushort LdAbsW = 0x20;   // BPF_LD | BPF_W | BPF_ABS
    public const ushort AluAndK = 0x54;  // BPF_ALU | BPF_AND | BPF_K
    public const ushort Ja = 0x05;       // BPF_JMP | BPF_JA
    public const ushort JeqK = 0x15;     // BPF_JMP | BPF_JEQ | BPF_K
    public const ushort JgtK = 0x25;     // BPF_JMP | BPF_JGT | BPF_K
    public const ushort JgeK = 0x35;     // BPF_JMP | BPF_JGE | BPF_K
    public const ushort JsetK = 0x45;    // BPF_JMP | BPF_JSET | BPF_K
    public const ushort RetK = 0x06;     // BPF_RET | BPF_K

    private SockFilter[] _reversed = new SockFilter[256];
    private int _count;

    /// <summary>The label the next emitted instruction gets.</summary>
    public int Count => _count;

    public int Emit(ushort code, byte jt, byte jf, uint k)
    {
        if (_count == _reversed.Length)
        {
            Array.Resize(ref _reversed, _reversed.Length * 2);
        }

        _reversed[_count] = new SockFilter(code, jt, jf, k);
        return _count++;
    }

    public int Ret(uint action) => Emit(RetK, 0, 0, action);

    public int Load(uint offset) => Emit(LdAbsW, 0, 0, offset);

    public int And(uint mask) => Emit(AluAndK, 0, 0, mask);

    public int Jump(int target) => Emit(Ja, 0, 0, (uint)Distance(target));

    /// <summary>Emits <c>if (A op k) goto whenTrue else goto whenFalse</c>.</summary>
    public int JumpIf(ushort code, uint k, int whenTrue, int whenFalse)
    {
        while (true)
        {
            var dt = Distance(whenTrue);
            var df = Distance(whenFalse);
            if (dt <= byte.MaxValue && df <= byte.MaxValue)
            {
                return Emit(code, (byte)dt, (byte)df, k);
            }

            if (dt > byte.MaxValue)
            {
                whenTrue = Jump(whenTrue);
            }
            else
            {
                whenFalse = Jump(whenFalse);
            }
        }
    }

    public SockFilter[] ToProgram()
    {
        var program = new SockFilter[_count];
        for (var i = 0; i < _count; i++)
        {
            program[i] = _reversed[_count - 1 - i];
        }

        return program;
    }

    /// <summary>How many instructions a jump emitted now skips to reach <paramref name="target"/>.</summary>
    private int Distance(int target) => _count - target - 1;
}
