using System.Net;
using Dashboard.Web.Hosting;
using Dashboard.Web.Model;
using Dashboard.Web.Tests.Hosting;

namespace Dashboard.Web.Tests.Model;

/// <summary>The Backup page's download links against the real app: online copies, Admin only.</summary>
public sealed class BackupDownloadsTests : IDisposable
{
    private readonly WebAppFactory _app = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task WebBackup_Admin_DownloadsRestorableCopyWithCurrentSchema()
    {
        await _app.CreateUserAsync("root", "Admin");
        using var client = await _app.SignedInBrowserAsync("root");

        using var response = await client.GetAsync(BackupDownloads.WebPath, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var file = Path.Combine(_app.DataDir, "..", "downloaded.db");
        await File.WriteAllBytesAsync(file, await response.Content.ReadAsByteArrayAsync(Ct), Ct);
        var target = Path.Combine(_app.DataDir, "..", "restored", "web.db");
        var restored = BackupCommand.Restore(file, target, BackupCommand.KnownMigrations(), () => null);
        Assert.Equal(BackupCommand.KnownMigrations()[^1], restored.Schema);
        Assert.Empty(Directory.GetFiles(_app.DataDir, ".download-*"));
    }

    [Theory]
    [InlineData("Operator")]
    [InlineData("Viewer")]
    public async Task Backups_NotAdmin_AreRefused(string role)
    {
        _app.Engine.BackupBytes = [1, 2, 3];
        await _app.CreateUserAsync("alice", role);
        using var client = await _app.SignedInBrowserAsync("alice");

        using var web = await client.GetAsync(BackupDownloads.WebPath, Ct);
        using var engine = await client.GetAsync(BackupDownloads.EngineUrl("local"), Ct);

        Assert.Equal(HttpStatusCode.Redirect, web.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, engine.StatusCode);
        Assert.Empty(Directory.GetFiles(_app.DataDir, ".download-*"));
    }

    [Fact]
    public async Task EngineBackup_Admin_StreamsEngineCopy()
    {
        _app.Engine.BackupBytes = "SQLite format 3\0engine"u8.ToArray();
        await _app.CreateUserAsync("root", "Admin");
        using var client = await _app.SignedInBrowserAsync("root");

        using var response = await client.GetAsync(BackupDownloads.EngineUrl("local"), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(_app.Engine.BackupBytes, await response.Content.ReadAsByteArrayAsync(Ct));
        Assert.Contains("engine-local-", response.Content.Headers.ContentDisposition?.FileName, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EngineBackup_EngineWithoutApi_SaysSo()
    {
        await _app.CreateUserAsync("root", "Admin");
        using var client = await _app.SignedInBrowserAsync("root");

        using var response = await client.GetAsync(BackupDownloads.EngineUrl("local"), Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("no backup API", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }
}
