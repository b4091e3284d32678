using System.Globalization;
using System.Text;

namespace Dashboard.Runtime;

/// <summary>
/// Compact JSON text with System.Text.Json's default output: strings escaped as <c>JavaScriptEncoder.Default</c>
/// does (printable ASCII passes except <c>" &amp; ' + &lt; &gt; \ `</c>; <c>\b \t \n \f \r \\</c> get their short
/// forms; everything else, non-ASCII included, becomes <c>\uXXXX</c> with upper-case hex, UTF-16 units), and times
/// as <c>Utf8JsonWriter</c> writes a DateTimeOffset (round-trip format, trailing fraction zeros dropped). A UTF-16
/// unit without its surrogate partner is written as U+FFFD, as the writer does.
/// </summary>
/// <remarks>
/// For state.json, which every <c>create</c> writes: Utf8JsonWriter's first use builds the default encoder's tables,
/// about 40 KB of allocation and a fifth of a millisecond in a process that lives 20 ms. The output is all ASCII.
/// </remarks>
internal sealed class JsonText
{
    private readonly StringBuilder _text = new(512);
    private bool _needComma;

    public JsonText StartObject(string? name = null)
    {
        Name(name);
        _text.Append('{');
        _needComma = false;
        return this;
    }

    public JsonText EndObject()
    {
        _text.Append('}');
        _needComma = true;
        return this;
    }

    /// <summary>A string member; a null value is left out, as the serializer does with its default options.</summary>
    public JsonText String(string name, string? value)
    {
        if (value is not null)
        {
            Name(name);
            Quoted(value);
            _needComma = true;
        }

        return this;
    }

    public JsonText Null(string name)
    {
        Name(name);
        _text.Append("null");
        _needComma = true;
        return this;
    }

    public JsonText Number(string name, long value)
    {
        Name(name);
        _text.Append(value.ToString(CultureInfo.InvariantCulture));
        _needComma = true;
        return this;
    }

    public JsonText Number(string name, ulong value)
    {
        Name(name);
        _text.Append(value.ToString(CultureInfo.InvariantCulture));
        _needComma = true;
        return this;
    }

    public JsonText Time(string name, DateTimeOffset value)
    {
        var text = value.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffzzz", CultureInfo.InvariantCulture);
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var end = dot + 8;
        var keep = end;
        while (keep > dot + 1 && text[keep - 1] == '0')
        {
            keep--;
        }

        // Digits, '-', ':', 'T', '.' and '+': written as they are (the writer does not escape its own time format).
        Name(name);
        _text.Append('"').Append(text.AsSpan(0, keep == dot + 1 ? dot : keep)).Append(text.AsSpan(end)).Append('"');
        _needComma = true;
        return this;
    }

    public byte[] ToUtf8() => Encoding.ASCII.GetBytes(_text.ToString());

    private void Name(string? name)
    {
        if (_needComma)
        {
            _text.Append(',');
        }

        if (name is not null)
        {
            Quoted(name);
            _text.Append(':');
        }
    }

    private void Quoted(string value)
    {
        _text.Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsSurrogate(c))
            {
                // A pair is written as its two units; a unit without its partner is invalid UTF-16, written as U+FFFD.
                if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                {
                    Hex(c);
                    Hex(value[++i]);
                }
                else
                {
                    Hex('\uFFFD');
                }

                continue;
            }

            switch (c)
            {
                case '\b': _text.Append("\\b"); break;
                case '\t': _text.Append("\\t"); break;
                case '\n': _text.Append("\\n"); break;
                case '\f': _text.Append("\\f"); break;
                case '\r': _text.Append("\\r"); break;
                case '\\': _text.Append("\\\\"); break;
                case >= ' ' and < (char)0x7F and not ('"' or '&' or '\'' or '+' or '<' or '>' or '`'):
                    _text.Append(c);
                    break;
                default:
                    Hex(c);
                    break;
            }
        }

        _text.Append('"');
    }

    private void Hex(char c) => _text.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
}
