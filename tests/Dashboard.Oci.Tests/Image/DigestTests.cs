using System.Text;
using Dashboard.Oci;

namespace Dashboard.Oci.Tests.Image;

public sealed class DigestTests
{
    private const string Hex64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    public static TheoryData<string> BadDigests => new()
    {
        "sha256:../../../../etc/passwd",
        "sha256:" + Hex64 + "/x",
        "sha256:%2e%2e",
        "sha256:" + Hex64.ToUpperInvariant(),
        "sha256",
        "sha256:" + new string('a', 1 << 20),
        "sha256:" + Hex64[..63],
        "md5:d41d8cd98f00b204e9800998ecf8427e",
        ":" + Hex64,
        "SHA256:" + Hex64,
        "sha256:" + Hex64 + "\n",
        "",
    };

    [Theory]
    [MemberData(nameof(BadDigests))]
    public void Parse_NotADigest_Rejected(string value)
    {
        Assert.False(Digest.TryParse(value, out _));
        Assert.Throws<FormatException>(() => Digest.Parse(value));
    }

    [Fact]
    public void Parse_Sha256_SplitsAlgorithmAndHex()
    {
        var digest = Digest.Parse("sha256:" + Hex64);
        Assert.Equal("sha256", digest.Algorithm);
        Assert.Equal(Hex64, digest.Encoded);
        Assert.Equal("sha256:" + Hex64, digest.ToString());
    }

    [Fact]
    public void Compute_Empty_MatchesKnownSha256()
    {
        Assert.Equal(Digest.Parse("sha256:" + Hex64), Digest.Compute([]));
    }

    [Fact]
    public void Compute_Sha512_RoundTrips()
    {
        var digest = Digest.Compute(Encoding.UTF8.GetBytes("abc"), Digest.Sha512);
        Assert.Equal(128, digest.Encoded.Length);
        Assert.Equal(digest, Digest.Parse(digest.ToString()));
    }
}
