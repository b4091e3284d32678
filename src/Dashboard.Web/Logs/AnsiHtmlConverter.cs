using System.Globalization;
using System.Text;

namespace Dashboard.Web.Logs;

/// <summary>
/// Turns one line of untrusted container output into HTML: every character of the input reaches the output
/// only through the HTML encoder, SGR colours become spans whose classes and styles we generate, and every
/// other escape sequence (OSC incl. OSC 8 links and OSC 52 clipboard writes, DCS/SOS/PM/APC strings, non-SGR
/// CSI, C0/C1 controls, bidi overrides) is dropped (security.md D8). The encoder runs on the text between
/// sequences rather than on the whole line first, so a sequence containing <c>&lt;</c> (CSI private
/// parameters) cannot be split into half-parsed text; the guarantee is the same. SGR state carries over
/// from one line to the next, as in a terminal.
/// </summary>
public sealed class AnsiHtmlConverter
{
    /// <summary>Parameters of one CSI sequence beyond this are consumed but ignored (CSI floods).</summary>
    public const int MaxSgrParameters = 64;

    private AnsiStyle _style;

    public void Reset() => _style = default;

    public string ConvertLine(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new StringBuilder(text.Length + 32);
        var emitted = default(AnsiStyle);
        var spanOpen = false;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            switch (c)
            {
                case '\x1b':
                    i = Escape(text, i + 1);
                    continue;
                case '\u009b':
                    i = Csi(text, i + 1);
                    continue;
                case '\u0090' or '\u0098' or '\u009d' or '\u009e' or '\u009f':
                    i = SkipString(text, i + 1);
                    continue;
            }

            if (IsDropped(c))
            {
                i++;
                continue;
            }

            if (!emitted.Equals(_style))
            {
                if (spanOpen)
                {
                    output.Append("</span>");
                    spanOpen = false;
                }

                if (!_style.IsDefault)
                {
                    _style.AppendOpenTag(output);
                    spanOpen = true;
                }

                emitted = _style;
            }

            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                output.Append(c).Append(text[i + 1]);
                i += 2;
                continue;
            }

            AppendEncoded(output, c);
            i++;
        }

        if (spanOpen)
        {
            output.Append("</span>");
        }

        return output.ToString();
    }

    /// <summary>The text a user sees, without any markup (for search and download).</summary>
    public static string ToPlainText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\x1b')
            {
                i = SkipEscape(text, i + 1);
                continue;
            }

            if (c == '\u009b')
            {
                i = SkipCsi(text, i + 1, out _, out _);
                continue;
            }

            if (c is '\u0090' or '\u0098' or '\u009d' or '\u009e' or '\u009f')
            {
                i = SkipString(text, i + 1);
                continue;
            }

            if (!IsDropped(c) && !char.IsSurrogate(c))
            {
                output.Append(c);
            }
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                output.Append(c).Append(text[i + 1]);
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                output.Append('\uFFFD');
            }

            i++;
        }

        return output.ToString();
    }

    private static bool IsDropped(char c) =>
        (c < 0x20 && c != '\t') || (c >= 0x7f && c < 0xa0) ||
        c is '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069') or '\u061c' or '\ufeff';

    private static void AppendEncoded(StringBuilder output, char c)
    {
        switch (c)
        {
            case '&':
                output.Append("&amp;");
                break;
            case '<':
                output.Append("&lt;");
                break;
            case '>':
                output.Append("&gt;");
                break;
            case '"':
                output.Append("&quot;");
                break;
            case '\'':
                output.Append("&#39;");
                break;
            default:
                output.Append(char.IsSurrogate(c) ? '\uFFFD' : c);
                break;
        }
    }

    private int Escape(string text, int i)
    {
        if (i < text.Length && text[i] == '[')
        {
            return Csi(text, i + 1);
        }

        return SkipEscape(text, i);
    }

    private int Csi(string text, int i)
    {
        var end = SkipCsi(text, i, out var final, out var sgrCandidate);
        if (final == 'm' && sgrCandidate)
        {
            ApplySgr(text.AsSpan(i, end - 1 - i));
        }

        return end;
    }

    /// <summary>Skips an escape sequence whose ESC is just before <paramref name="i"/> (ECMA-48 §5.3).</summary>
    private static int SkipEscape(string text, int i)
    {
        if (i >= text.Length)
        {
            return i;
        }

        var c = text[i];
        switch (c)
        {
            case '[':
                return SkipCsi(text, i + 1, out _, out _);
            case ']' or 'P' or 'X' or '^' or '_':
                return SkipString(text, i + 1);
        }

        if (c is >= ' ' and <= '/')
        {
            while (i < text.Length && text[i] is >= ' ' and <= '/')
            {
                i++;
            }

            return i < text.Length && text[i] is >= '0' and <= '~' ? i + 1 : i;
        }

        return c is >= '0' and <= '~' ? i + 1 : i;
    }

    /// <summary>Skips CSI parameters, intermediates and the final byte; a foreign character ends the sequence without consuming it.</summary>
    private static int SkipCsi(string text, int i, out char final, out bool sgrCandidate)
    {
        final = '\0';
        sgrCandidate = true;
        while (i < text.Length && text[i] is >= '0' and <= '?')
        {
            if (text[i] is not ((>= '0' and <= '9') or ';' or ':'))
            {
                sgrCandidate = false;
            }

            i++;
        }

        while (i < text.Length && text[i] is >= ' ' and <= '/')
        {
            sgrCandidate = false;
            i++;
        }

        if (i < text.Length && text[i] is >= '@' and <= '~')
        {
            final = text[i];
            return i + 1;
        }

        sgrCandidate = false;
        return i;
    }

    /// <summary>Skips an OSC/DCS/SOS/PM/APC string up to BEL or ST; an ESC that does not start ST ends it unconsumed.</summary>
    private static int SkipString(string text, int i)
    {
        while (i < text.Length)
        {
            var c = text[i];
            if (c is '\a' or '\u009c')
            {
                return i + 1;
            }

            if (c == '\x1b')
            {
                return i + 1 < text.Length && text[i + 1] == '\\' ? i + 2 : i;
            }

            i++;
        }

        return i;
    }

    private void ApplySgr(ReadOnlySpan<char> parameters)
    {
        Span<int> values = stackalloc int[MaxSgrParameters];
        Span<bool> colon = stackalloc bool[MaxSgrParameters];
        var count = 0;
        var current = -1;
        var afterColon = false;
        foreach (var c in parameters)
        {
            if (c is ';' or ':')
            {
                if (count < MaxSgrParameters)
                {
                    values[count] = current;
                    colon[count] = afterColon;
                    count++;
                }

                afterColon = c == ':';
                current = -1;
            }
            else
            {
                current = current < 0 ? c - '0' : Math.Min(current * 10 + (c - '0'), 100_000);
            }
        }

        if (count < MaxSgrParameters)
        {
            values[count] = current;
            colon[count] = afterColon;
            count++;
        }

        values = values[..count];
        colon = colon[..count];
        for (var k = 0; k < values.Length; k++)
        {
            var p = Math.Max(values[k], 0);
            switch (p)
            {
                case 0: _style = default; break;
                case 1: _style.Bold = true; break;
                case 2: _style.Dim = true; break;
                case 3: _style.Italic = true; break;
                case 4: _style.Underline = true; break;
                case 7: _style.Inverse = true; break;
                case 9: _style.Strike = true; break;
                case 21 or 22: _style.Bold = false; _style.Dim = false; break;
                case 23: _style.Italic = false; break;
                case 24: _style.Underline = false; break;
                case 27: _style.Inverse = false; break;
                case 29: _style.Strike = false; break;
                case >= 30 and <= 37: _style.Foreground = AnsiColor.Palette(p - 30); break;
                case 39: _style.Foreground = default; break;
                case >= 40 and <= 47: _style.Background = AnsiColor.Palette(p - 40); break;
                case 49: _style.Background = default; break;
                case >= 90 and <= 97: _style.Foreground = AnsiColor.Palette(p - 90 + 8); break;
                case >= 100 and <= 107: _style.Background = AnsiColor.Palette(p - 100 + 8); break;
                case 38 or 48:
                    var (color, used) = ExtendedColor(values[(k + 1)..], colon[(k + 1)..]);
                    if (p == 38)
                    {
                        _style.Foreground = color;
                    }
                    else
                    {
                        _style.Background = color;
                    }

                    k += used;
                    break;
                default:
                    // 8 (conceal) is ignored on purpose: hidden text would let output hide from the reader (D8).
                    break;
            }
        }
    }

    /// <summary>Parses <c>5;n</c>, <c>2;r;g;b</c> and the colon forms <c>5:n</c>, <c>2::r:g:b</c>.</summary>
    private static (AnsiColor Color, int Used) ExtendedColor(ReadOnlySpan<int> rest, ReadOnlySpan<bool> colon)
    {
        if (rest.IsEmpty)
        {
            return (default, 0);
        }

        switch (rest[0])
        {
            case 5 when rest.Length >= 2:
                return (rest[1] is >= 0 and <= 255 ? AnsiColor.FromIndex(rest[1]) : default, 2);
            case 2:
                // Colon form with a colour-space id: 38:2:<cs>:r:g:b (ITU T.416); without it: 38:2:r:g:b.
                var offset = colon.Length > 4 && colon[1] && colon[4] && rest.Length > 4 ? 1 : 0;
                if (rest.Length < 4 + offset)
                {
                    return (default, rest.Length);
                }

                int r = rest[1 + offset], g = rest[2 + offset], b = rest[3 + offset];
                return (r is >= 0 and <= 255 && g is >= 0 and <= 255 && b is >= 0 and <= 255 ? AnsiColor.Rgb(r, g, b) : default, 4 + offset);
            default:
                return (default, 1);
        }
    }
}

public readonly record struct AnsiColor(int Kind, int Value)
{
    public const int None = 0;
    public const int PaletteKind = 1;
    public const int RgbKind = 2;

    private static readonly int[] s_cube = [0, 95, 135, 175, 215, 255];

    public static AnsiColor Palette(int index) => new(PaletteKind, index);

    public static AnsiColor Rgb(int r, int g, int b) => new(RgbKind, (r << 16) | (g << 8) | b);

    public static AnsiColor FromIndex(int index)
    {
        if (index < 16)
        {
            return Palette(index);
        }

        if (index < 232)
        {
            var i = index - 16;
            return Rgb(s_cube[i / 36], s_cube[i / 6 % 6], s_cube[i % 6]);
        }

        var gray = 8 + ((index - 232) * 10);
        return Rgb(gray, gray, gray);
    }

    public bool IsSet => Kind != None;
}

public struct AnsiStyle : IEquatable<AnsiStyle>
{
    public AnsiColor Foreground;
    public AnsiColor Background;
    public bool Bold;
    public bool Dim;
    public bool Italic;
    public bool Underline;
    public bool Strike;
    public bool Inverse;

    public readonly bool IsDefault => Equals(default(AnsiStyle));

    public readonly bool Equals(AnsiStyle other) =>
        Foreground == other.Foreground && Background == other.Background && Bold == other.Bold && Dim == other.Dim &&
        Italic == other.Italic && Underline == other.Underline && Strike == other.Strike && Inverse == other.Inverse;

    public override readonly bool Equals(object? obj) => obj is AnsiStyle other && Equals(other);

    public override readonly int GetHashCode() => HashCode.Combine(Foreground, Background, Bold, Dim, Italic, Underline, Strike, Inverse);

    public static bool operator ==(AnsiStyle left, AnsiStyle right) => left.Equals(right);

    public static bool operator !=(AnsiStyle left, AnsiStyle right) => !left.Equals(right);

    /// <summary>Writes a span whose class and style values come only from numbers we parsed, never from input text.</summary>
    public readonly void AppendOpenTag(StringBuilder output)
    {
        var fg = Inverse ? Background : Foreground;
        var bg = Inverse ? Foreground : Background;
        var classes = new List<string>(6);
        var styles = new List<string>(2);
        AddColor(fg, "fg", "color", classes, styles);
        AddColor(bg, "bg", "background-color", classes, styles);
        if (Inverse && !fg.IsSet && !bg.IsSet)
        {
            classes.Add("ansi-inverse");
        }

        if (Bold)
        {
            classes.Add("ansi-bold");
        }

        if (Dim)
        {
            classes.Add("ansi-dim");
        }

        if (Italic)
        {
            classes.Add("ansi-italic");
        }

        if (Underline)
        {
            classes.Add("ansi-underline");
        }

        if (Strike)
        {
            classes.Add("ansi-strike");
        }

        output.Append("<span");
        if (classes.Count > 0)
        {
            output.Append(" class=\"").AppendJoin(' ', classes).Append('"');
        }

        if (styles.Count > 0)
        {
            output.Append(" style=\"").AppendJoin(';', styles).Append('"');
        }

        output.Append('>');
    }

    private static void AddColor(AnsiColor color, string prefix, string property, List<string> classes, List<string> styles)
    {
        if (color.Kind == AnsiColor.PaletteKind)
        {
            classes.Add(string.Create(CultureInfo.InvariantCulture, $"ansi-{prefix}-{color.Value}"));
        }
        else if (color.Kind == AnsiColor.RgbKind)
        {
            styles.Add(string.Create(CultureInfo.InvariantCulture, $"{property}:#{color.Value:x6}"));
        }
    }
}
