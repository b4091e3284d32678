using System.Globalization;

namespace Dashboard.Engine.Runtime;

/// <summary>Linux signal names and numbers (signal(7), x86-64/arm64 numbering).</summary>
public static class Signals
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    private static readonly Dictionary<string, int> s_byName = new(StringComparer.Ordinal)
    {
        ["HUP"] = 1, ["INT"] = 2, ["QUIT"] = 3, ["ILL"] = 4, ["TRAP"] = 5, ["ABRT"] = 6, ["IOT"] = 6, ["BUS"] = 7,
        ["FPE"] = 8, ["KILL"] = 9, ["USR1"] = 10, ["SEGV"] = 11, ["USR2"] = 12, ["PIPE"] = 13, ["ALRM"] = 14,
        ["TERM"] = 15, ["STKFLT"] = 16, ["CHLD"] = 17, ["CONT"] = 18, ["STOP"] = 19, ["TSTP"] = 20, ["TTIN"] = 21,
        ["TTOU"] = 22, ["URG"] = 23, ["XCPU"] = 24, ["XFSZ"] = 25, ["VTALRM"] = 26, ["PROF"] = 27, ["WINCH"] = 28,
        ["IO"] = 29, ["POLL"] = 29, ["PWR"] = 30, ["SYS"] = 31,
    };

    /// <summary>Parses <c>SIGTERM</c>, <c>TERM</c>, <c>15</c> or <c>RTMIN+3</c>; throws InvalidArgument otherwise.</summary>
    public static int Parse(string text)
    {
        var s = text.Trim();
        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            return n is > 0 and <= 64 ? n : throw Invalid(text);
        }

        s = s.ToUpperInvariant();
        if (s.StartsWith("SIG", StringComparison.Ordinal))
        {
            s = s[3..];
        }

        if (s_byName.TryGetValue(s, out n))
        {
            return n;
        }

        if (s.StartsWith("RTMIN", StringComparison.Ordinal))
        {
            var offset = s.Length == 5 ? 0 : s[5] == '+' && int.TryParse(s[6..], NumberStyles.None, CultureInfo.InvariantCulture, out var o) ? o : -1;
            if (offset is >= 0 and <= 30)
            {
                return 34 + offset;
            }
        }

        throw Invalid(text);
    }

    private static EngineException Invalid(string text) => new(ErrorKind.InvalidArgument, $"invalid signal: {text}");
}
