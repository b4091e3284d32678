using System.Text;
using Dashboard.Images.Registry;

namespace Dashboard.Images.Tests.Registry;

public sealed class RegistrySettingsStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-settings-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task SetCredentialsAsync_Secret_EncryptedAtRestWithPrivateKeyFile()
    {
        var store = new RegistrySettingsStore(_dir);

        await store.SetCredentialsAsync("Registry.Example.com:5000", "bob", "correct-horse-battery", Ct);

        var file = await File.ReadAllTextAsync(Path.Combine(_dir, "registries.json"), Ct);
        Assert.DoesNotContain("correct-horse-battery", file, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("correct-horse-battery")), file, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "registries.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "registries.json")));
        Assert.Equal(32, new FileInfo(Path.Combine(_dir, "registries.key")).Length);
        var settings = await new RegistrySettingsStore(_dir).GetAsync("registry.example.com:5000", Ct);
        Assert.Equal("correct-horse-battery", settings.Credentials!.Secret);
        Assert.Equal("bob:***", settings.Credentials.ToString());
        Assert.DoesNotContain("correct-horse-battery", settings.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListAsync_Entries_ShowNoSecrets()
    {
        var store = new RegistrySettingsStore(_dir);
        await store.SetCredentialsAsync("a.example", "bob", "s1", Ct);
        await store.SetInsecureAsync("localhost:5000", true, Ct);
        await store.SetCredentialsAsync("b.example", "eve", "s2", Ct);
        await store.RemoveAsync("b.example", Ct);

        var list = await store.ListAsync(Ct);

        Assert.Equal([new RegistryEntry("a.example", "bob", true, false), new RegistryEntry("localhost:5000", null, false, true)], list);
        await store.RemoveCredentialsAsync("a.example", Ct);
        Assert.Equal([new RegistryEntry("localhost:5000", null, false, true)], await store.ListAsync(Ct));
    }

    [Fact]
    public async Task GetAsync_CiphertextMovedToOtherRegistry_Refused()
    {
        var store = new RegistrySettingsStore(_dir);
        await store.SetCredentialsAsync("a.example", "bob", "secret-a", Ct);
        await store.SetCredentialsAsync("b.example", "bob", "secret-b", Ct);
        var path = Path.Combine(_dir, "registries.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(path, Ct))!;
        json["registries"]!["b.example"]!["secret"] = json["registries"]!["a.example"]!["secret"]!.GetValue<string>();
        await File.WriteAllTextAsync(path, json.ToJsonString(), Ct);

        var e = await Assert.ThrowsAsync<ImageException>(() => store.GetAsync("b.example", Ct));

        Assert.Equal(ImageErrorKind.InvalidState, e.Kind);
        Assert.Equal("secret-a", (await store.GetAsync("a.example", Ct)).Credentials!.Secret);
    }

    [Fact]
    public async Task GetAsync_KeyFileReadableByOthers_PermissionDenied()
    {
        var store = new RegistrySettingsStore(_dir);
        await store.SetCredentialsAsync("a.example", "bob", "secret-a", Ct);
        File.SetUnixFileMode(Path.Combine(_dir, "registries.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var e = await Assert.ThrowsAsync<ImageException>(() => store.GetAsync("a.example", Ct));

        Assert.Equal(ImageErrorKind.PermissionDenied, e.Kind);
    }

    [Theory]
    [InlineData("bad/name")]
    [InlineData("")]
    [InlineData("a b")]
    public async Task SetInsecureAsync_InvalidRegistryName_Rejected(string name)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => new RegistrySettingsStore(_dir).SetInsecureAsync(name, true, Ct));
    }
}
