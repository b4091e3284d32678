namespace Dashboard.Shim;

/// <summary>
/// Reads the few flat values the control protocol and cgroup counters carry (<c>{"op":"resize","height":24}</c>,
/// <c>oom_kill 3</c>) without a JSON library: the engine's requests are one-level objects of strings and numbers.
/// </summary>
internal static class ControlJson
{
    /// <summary>The string value of <paramref name="key"/> (no escapes), or empty.</summary>
    public static ReadOnlySpan<byte> String(ReadOnlySpan<byte> json, ReadOnlySpan<byte> key)
    {
        var at = ValueStart(json, key);
        if (at < 0 || at >= json.Length || json[at] != (byte)'"')
        {
            return [];
        }

        var rest = json[(at + 1)..];
        var end = rest.IndexOf((byte)'"');
        return end < 0 ? [] : rest[..end];
    }

    /// <summary>The non-negative integer value of <paramref name="key"/>, or -1.</summary>
    public static long Number(ReadOnlySpan<byte> json, ReadOnlySpan<byte> key)
    {
        var at = ValueStart(json, key);
        return at < 0 ? -1 : Digits(json[at..]);
    }

    /// <summary>The value of a <c>key value</c> line (cgroup <c>memory.events</c>, v1 <c>memory.oom_control</c>), or 0.</summary>
    public static long Counter(ReadOnlySpan<byte> text, ReadOnlySpan<byte> key)
    {
        while (text.Length > 0)
        {
            var end = text.IndexOf((byte)'\n');
            var line = end < 0 ? text : text[..end];
            if (line.Length > key.Length && line.StartsWith(key) && line[key.Length] == (byte)' ')
            {
                return Math.Max(0, Digits(line[(key.Length + 1)..]));
            }

            text = end < 0 ? [] : text[(end + 1)..];
        }

        return 0;
    }

    private static int ValueStart(ReadOnlySpan<byte> json, ReadOnlySpan<byte> key)
    {
        var offset = 0;
        while (true)
        {
            var found = json[offset..].IndexOf(key);
            if (found < 0)
            {
                return -1;
            }

            var at = offset + found;
            var after = at + key.Length;
            // The key must be a whole quoted name followed by a colon, not a value or part of a longer name.
            if (at > 0 && json[at - 1] == (byte)'"' && after < json.Length && json[after] == (byte)'"')
            {
                var i = after + 1;
                while (i < json.Length && json[i] is (byte)' ' or (byte)'\t')
                {
                    i++;
                }

                if (i < json.Length && json[i] == (byte)':')
                {
                    i++;
                    while (i < json.Length && json[i] is (byte)' ' or (byte)'\t')
                    {
                        i++;
                    }

                    return i;
                }
            }

            offset = at + 1;
        }
    }

    private static long Digits(ReadOnlySpan<byte> text)
    {
        long n = 0;
        var any = false;
        foreach (var c in text)
        {
            if (c is < (byte)'0' or > (byte)'9' || n > long.MaxValue / 10 - 10)
            {
                break;
            }

            n = (n * 10) + (c - '0');
            any = true;
        }

        return any ? n : -1;
    }
}
