using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Dashboard.Web.Tests.Identity;

/// <summary>The test's own TOTP (RFC 6238 over RFC 4226 HOTP, HMAC-SHA1, 30 s steps), independent of Identity's.</summary>
internal static class Rfc6238
{
    public static string Code(byte[] key, DateTimeOffset time, int digits = 6, int stepSeconds = 30)
    {
        var counter = (ulong)(time.ToUnixTimeSeconds() / stepSeconds);
        Span<byte> message = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(message, counter);
#pragma warning disable CA5350 // RFC 6238 authenticator apps use HMAC-SHA1; the test must match them.
        var hash = HMACSHA1.HashData(key, message);
#pragma warning restore CA5350

        // RFC 4226 section 5.3 dynamic truncation.
        var offset = hash[^1] & 0x0f;
        var binary = ((hash[offset] & 0x7f) << 24) | (hash[offset + 1] << 16) | (hash[offset + 2] << 8) | hash[offset + 3];
        var modulus = (int)Math.Pow(10, digits);
        return (binary % modulus).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(digits, '0');
    }

    /// <summary>RFC 4648 base32 (the authenticator key format); spaces and case ignored.</summary>
    public static byte[] Base32Decode(string text)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var clean = text.Replace(" ", "", StringComparison.Ordinal).TrimEnd('=').ToUpperInvariant();
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in clean)
        {
            var value = alphabet.IndexOf(c, StringComparison.Ordinal);
            Assert.True(value >= 0, $"not base32: {c}");
            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                bytes.Add((byte)(buffer >> bits));
                buffer &= (1 << bits) - 1;
            }
        }

        return [.. bytes];
    }

    /// <summary>A code for the current step that is not the one just used (Identity refuses a replayed code).</summary>
    public static string Current(string base32Key) => Code(Base32Decode(base32Key), DateTimeOffset.UtcNow);
}
