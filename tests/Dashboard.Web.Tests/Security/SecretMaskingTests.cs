using Dashboard.Web.Model;

namespace Dashboard.Web.Tests.Security;

public class SecretMaskingTests
{
    [Theory]
    [InlineData("POSTGRES_PASSWORD=hunter2")]
    [InlineData("API_KEY=abc")]
    [InlineData("GITHUB_TOKEN=ghp_x")]
    [InlineData("aws_secret_access_key=x")]
    [InlineData("DB_CONNECTION_STRING=Server=x;Password=y")]
    public void Split_SecretLookingName_MasksValue(string entry)
    {
        var (_, value, masked) = SecretMasking.Split(entry);

        Assert.True(masked);
        Assert.Equal(SecretMasking.Mask, value);
    }

    [Fact]
    public void Split_UrlWithCredentials_MasksPasswordOnly()
    {
        var (name, value, masked) = SecretMasking.Split("DATABASE_URL=postgres://app:s3cret@db:5432/app");

        Assert.Equal("DATABASE_URL", name);
        Assert.True(masked);
        Assert.Equal($"postgres://app:{SecretMasking.Mask}@db:5432/app", value);
    }

    [Fact]
    public void Split_PlainValue_IsKept()
    {
        Assert.Equal(("PATH", "/usr/bin:/bin", false), SecretMasking.Split("PATH=/usr/bin:/bin"));
    }
}
