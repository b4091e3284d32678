using QRCoder;

namespace Dashboard.Web.Identity;

/// <summary>
/// The enrolment QR code, rendered on the server into a <c>data:</c> PNG so the page makes no external request
/// (CSP <c>img-src 'self' data:</c>) and no script is needed.
/// </summary>
public static class TotpQrCode
{
    public static string PngDataUri(string otpAuthUri)
    {
        ArgumentException.ThrowIfNullOrEmpty(otpAuthUri);
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(otpAuthUri, QRCodeGenerator.ECCLevel.M);
        var png = new PngByteQRCode(data).GetGraphic(6);
        return "data:image/png;base64," + Convert.ToBase64String(png);
    }
}
