using System.Security.Claims;
using Bunit;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Identity;
using Dashboard.Web.Tests.Components;

namespace Dashboard.Web.Tests.Identity;

/// <summary>TOTP enrolment shows a QR code of the otpauth URI as an inline PNG (no external request, CSP img-src data:).</summary>
public sealed class TotpQrCodeTests : DashboardTestContext
{
    private readonly IdentityStore _store;

    public TotpQrCodeTests()
        : this(new IdentityStore())
    {
    }

    private TotpQrCodeTests(IdentityStore store)
        : base(store.AddTo)
    {
        _store = store;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _store.Dispose();
    }

    [Fact]
    public async Task BeginEnrolment_ShowsInlinePngQrCodeOfTheOtpAuthUri()
    {
        var principal = await IdentityStore.CreateUserAsync(Services, "qr-user");
        Auth.SetAuthorized("qr-user");
        Auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, principal.FindFirstValue(ClaimTypes.NameIdentifier)!));
        var cut = Render<Profile>();
        Assert.Empty(cut.FindAll("[data-testid=totp-qr]"));

        cut.Click("[data-testid=totp-begin]");

        var key = cut.WaitForElement("[data-testid=totp-key]").TextContent.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
        var uri = cut.Find("[data-testid=totp-uri]").GetAttribute("href")!;
        var img = cut.Find("[data-testid=totp-qr]");
        Assert.Equal(uri, img.GetAttribute("data-otpauth"));
        Assert.StartsWith("otpauth://totp/Container%20dashboard:qr-user?", uri, StringComparison.Ordinal);
        Assert.Contains($"secret={key}&", uri, StringComparison.Ordinal);
        Assert.Contains("issuer=", uri, StringComparison.Ordinal);

        var src = img.GetAttribute("src")!;
        Assert.StartsWith("data:image/png;base64,", src, StringComparison.Ordinal);
        var png = Convert.FromBase64String(src["data:image/png;base64,".Length..]);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a], png[..8]);
        Assert.True(png.Length > 200, $"PNG of {png.Length} bytes");
        Assert.Equal(src, TotpQrCode.PngDataUri(uri));
    }

    [Fact]
    public void PngDataUri_DifferentUris_DifferentImages()
    {
        Assert.NotEqual(TotpQrCode.PngDataUri("otpauth://totp/a?secret=AAAA"), TotpQrCode.PngDataUri("otpauth://totp/a?secret=BBBB"));
    }
}
