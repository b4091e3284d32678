using Dashboard.Testing;
using Bunit;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Engines;
using Dashboard.Web.Identity;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Engines;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.AspNetCore.DataProtection;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Components;

/// <summary>The Engines page: configured engines read-only, remote engines added with PEM uploads, tested and removed (issue 5 item 13).</summary>
public sealed class EnginesPageTests : DashboardTestContext
{
    private readonly string _dir;
    private readonly TestPki _pki = TestPki.Create("page");

    public EnginesPageTests()
        : this(Path.Combine(Path.GetTempPath(), "dashboard-web-engines-page-" + Guid.NewGuid().ToString("N")))
    {
    }

    private EnginesPageTests(string dir)
        : base(services =>
        {
            services.AddDbContext<WebDbContext>(o => o.UseSqlite($"Data Source={Path.Combine(dir, "web.db")};Pooling=False"));
            services.AddDataProtection().SetApplicationName("dashboard-web-test").PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dir, "keys")));
            services.AddSingleton(TimeProvider.System);
            services.AddScoped<RemoteEngineService>();
        })
    {
        _dir = dir;
        Directory.CreateDirectory(dir);
        using var scope = Services.CreateScope();
        scope.ServiceProvider.GetRequiredService<WebDbContext>().Database.Migrate();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _pki.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private EngineRegistry Registry => (EngineRegistry)Services.GetRequiredService<IEngineRegistry>();

    private string ClientFile(string name) => File.ReadAllText(Path.Combine(_pki.ClientDir, name));

    private IRenderedComponent<EnginesPage> FillForm(string name, string url, string? keyPem = null)
    {
        var cut = Render<EnginesPage>();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-testid=engine-row]")), Wait);
        cut.Input("[data-testid=engine-new-name]", name);
        cut.Input("[data-testid=engine-new-url]", url);
        var inputs = cut.FindComponents<InputFile>();
        inputs[0].UploadFiles(InputFileContent.CreateFromText(ClientFile("ca.pem"), "ca.pem"));
        inputs[1].UploadFiles(InputFileContent.CreateFromText(ClientFile("cert.pem"), "cert.pem"));
        inputs[2].UploadFiles(InputFileContent.CreateFromText(keyPem ?? ClientFile("key.pem"), "key.pem"));
        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=engine-add]").HasAttribute("disabled")), Wait);
        return cut;
    }

    [Fact]
    public void Admin_ConfiguredEngine_ReadOnlyWithHealth()
    {
        Access.Roles = [Roles.Admin];

        var cut = Render<EnginesPage>();

        cut.WaitForAssertion(() => Assert.Contains("ok · 0.1.0", cut.Find("[data-testid=engine-health]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Equal("local", cut.Find("[data-testid=engine-name]").TextContent);
        Assert.NotNull(cut.Find("[data-testid=engine-readonly]"));
        Assert.Empty(cut.FindAll("[data-testid=engine-remove]"));
        Assert.True(cut.Find("[data-testid=engine-add]").HasAttribute("disabled"));
    }

    [Fact]
    public void Admin_UnreachableConfiguredEngine_ShowsError()
    {
        Access.Roles = [Roles.Admin];
        Engine.FailInfoWith = new EngineException(EngineErrorKind.Unavailable, "engine local: connection refused");

        var cut = Render<EnginesPage>();

        cut.WaitForAssertion(() => Assert.Equal("engine local: connection refused", cut.Find("[data-testid=engine-health-error]").TextContent), Wait);
    }

    [Fact]
    public async Task Admin_AddsRemoteEngine_RegistryHasItAndKeyIsStoredEncrypted()
    {
        Access.Roles = [Roles.Admin];
        var cut = FillForm("remote1", "tcp://127.0.0.1:9");

        cut.Click("[data-testid=engine-add]");

        cut.WaitForAssertion(() => Assert.Equal(["local", "remote1"], cut.FindAll("[data-testid=engine-name]").Select(e => e.TextContent)), Wait);
        Assert.Equal(["local", "remote1"], Registry.Names);
        Assert.IsType<DockerEngineClient>(Registry.Get("remote1"));
        Assert.Single(cut.FindAll("[data-testid=engine-remove]"));
        Assert.Contains("tcp://127.0.0.1:9", cut.Markup, StringComparison.Ordinal);
        Assert.Contains("CN=client", cut.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", cut.Markup, StringComparison.Ordinal);

        // Nothing listens on port 9: the health column says so instead of hanging.
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-testid=engine-health-error]")), Wait);

        await using var scope = Services.CreateAsyncScope();
        var row = await scope.ServiceProvider.GetRequiredService<WebDbContext>().Set<RemoteEngine>().SingleAsync(Xunit.TestContext.Current.CancellationToken);
        Assert.DoesNotContain("PRIVATE KEY", row.ProtectedKey, StringComparison.Ordinal);
        var key = DataProtectionCommonExtensions.Unprotect(scope.ServiceProvider.GetRequiredService<IDataProtectionProvider>().CreateProtector(RemoteEngineService.KeyPurpose), row.ProtectedKey);
        Assert.Equal(ClientFile("key.pem"), key);
        Assert.Contains(Audit.Recent(100), e => e.Action == "AddEngine" && e.Target == "engine remote1");
    }

    [Fact]
    public async Task Admin_RemovesRemoteEngine_GoneFromRegistryAndDatabase()
    {
        Access.Roles = [Roles.Admin];
        var cut = FillForm("remote2", "tcp://127.0.0.1:9");
        cut.Click("[data-testid=engine-add]");
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=engine-remove]")), Wait);

        cut.Click("[data-testid=engine-remove]");

        cut.WaitForAssertion(() => Assert.Equal(["local"], cut.FindAll("[data-testid=engine-name]").Select(e => e.TextContent)), Wait);
        Assert.Equal(["local"], Registry.Names);
        await using var scope = Services.CreateAsyncScope();
        Assert.False(await scope.ServiceProvider.GetRequiredService<WebDbContext>().Set<RemoteEngine>().AnyAsync(Xunit.TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("other-key", "tcp://127.0.0.1:2376")]
    [InlineData("ok", "http://127.0.0.1:2375")]
    [InlineData("ok", "unix:///run/x.sock")]
    [InlineData("local-name", "tcp://127.0.0.1:2376")]
    public async Task Admin_BadInput_RefusedAndNothingStored(string variant, string url)
    {
        Access.Roles = [Roles.Admin];
        using var otherCa = TestPki.CreateCa("other");
        using var other = TestPki.Issue(otherCa, "x", server: false);
        var cut = FillForm(variant == "local-name" ? "local" : "bad1", url, variant == "other-key" ? other.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem() : null);

        cut.Click("[data-testid=engine-add]");

        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=engine-add]").HasAttribute("disabled")), Wait);
        Assert.Equal(["local"], Registry.Names);
        await using var scope = Services.CreateAsyncScope();
        Assert.False(await scope.ServiceProvider.GetRequiredService<WebDbContext>().Set<RemoteEngine>().AnyAsync(Xunit.TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData(Roles.Operator)]
    [InlineData(Roles.Viewer)]
    public void NotAdmin_Denied_NoTableOrForm(string role)
    {
        Access.Roles = [role];

        var cut = Render<EnginesPage>();

        cut.WaitForAssertion(() => Assert.Equal("manage engines: permission denied", cut.Find("[data-testid=engines-error]").TextContent), Wait);
        Assert.Empty(cut.FindAll("[data-testid=engines-table]"));
        Assert.Empty(cut.FindAll("[data-testid=engine-add]"));
    }
}
