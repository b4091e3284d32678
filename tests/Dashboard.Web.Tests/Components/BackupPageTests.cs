using Bunit;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Engines;
using Dashboard.Web.Hosting;
using Dashboard.Web.Identity;
using Dashboard.Web.Model;
using Dashboard.Web.Security;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Components;

public sealed class BackupPageTests : DashboardTestContext
{
    private readonly string _dataDir;

    public BackupPageTests()
        : this(Path.Combine(Path.GetTempPath(), "dashboard-web-backup-page-" + Guid.NewGuid().ToString("N")))
    {
    }

    private BackupPageTests(string dataDir)
        : base(services =>
        {
            services.AddOptions<DashboardOptions>().Configure(o => o.DataDir = dataDir);
            services.AddDbContext<WebDbContext>(o => o.UseSqlite($"Data Source={Path.Combine(dataDir, "web.db")};Pooling=False"));
            services.AddScoped<BackupService>();
        })
    {
        _dataDir = dataDir;
        Directory.CreateDirectory(dataDir);
        using var scope = Services.CreateScope();
        scope.ServiceProvider.GetRequiredService<WebDbContext>().Database.Migrate();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDir, recursive: true);
    }

    [Fact]
    public void Admin_SeesWebAndEngineDownloads()
    {
        Access.Roles = [Roles.Admin];

        var cut = Render<Backup>();

        cut.WaitForAssertion(() => Assert.Equal(BackupDownloads.WebPath, cut.Find("[data-testid=backup-web]").GetAttribute("href")), Wait);
        Assert.Equal("/backup/engine/local", cut.Find("[data-testid=backup-engine]").GetAttribute("href"));
        Assert.NotNull(cut.Find("[data-testid=restore-file]"));
    }

    [Theory]
    [InlineData(Roles.Operator)]
    [InlineData(Roles.Viewer)]
    public void NotAdmin_SeesNoDownloadsOrRestore(string role)
    {
        Access.Roles = [role];

        var cut = Render<Backup>();

        cut.WaitForAssertion(() => Assert.Equal("back up: permission denied", cut.Find("[data-testid=backup-denied]").TextContent.Trim()), Wait);
        Assert.Empty(cut.FindAll("[data-testid=backup-web]"));
        Assert.Empty(cut.FindAll("[data-testid=restore-file]"));
    }

    [Fact]
    public void Restore_NewerSchema_IsRefusedWithClearMessageAndDatabaseUnchanged()
    {
        Access.Roles = [Roles.Admin];
        var backup = CopyOfLiveDatabase("newer.db");
        using (var c = new SqliteConnection($"Data Source={backup};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "INSERT INTO __EFMigrationsHistory VALUES ('29991231000000_FromTheFuture', '99.0.0')";
            cmd.ExecuteNonQuery();
        }

        var cut = Render<Backup>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=restore-file]"), Wait);
        cut.FindComponent<Microsoft.AspNetCore.Components.Forms.InputFile>().UploadFiles(InputFileContent.CreateFromBinary(File.ReadAllBytes(backup), "newer.db"));

        cut.WaitForAssertion(() => Assert.Contains("its schema 29991231000000_FromTheFuture is newer than this dashboard-web knows", cut.Find("[data-testid=restore-error]").TextContent, StringComparison.Ordinal), Wait);
        Assert.False(File.Exists(Path.Combine(_dataDir, "web.db.pre-restore")));
        Assert.Contains(Audit.Recent(10), e => e.Action == "Restore" && e.Outcome == AuditOutcome.Failed);
    }

    [Fact]
    public void Restore_NotADatabase_IsRefused()
    {
        Access.Roles = [Roles.Admin];
        var cut = Render<Backup>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=restore-file]"), Wait);

        cut.FindComponent<Microsoft.AspNetCore.Components.Forms.InputFile>().UploadFiles(InputFileContent.CreateFromText("hello, not sqlite", "x.db"));

        cut.WaitForAssertion(() => Assert.NotEmpty(cut.Find("[data-testid=restore-error]").TextContent), Wait);
        Assert.Empty(cut.FindAll("[data-testid=restore-done]"));
    }

    [Fact]
    public void Restore_CurrentSchema_ReplacesDatabaseAndKeepsPreviousCopy()
    {
        Access.Roles = [Roles.Admin];
        var backup = CopyOfLiveDatabase("good.db");
        using (var scope = Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<WebDbContext>();
            db.Users.Add(new WebUser { UserName = "added-after-backup", NormalizedUserName = "ADDED-AFTER-BACKUP" });
            db.SaveChanges();
        }

        var cut = Render<Backup>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=restore-file]"), Wait);
        cut.FindComponent<Microsoft.AspNetCore.Components.Forms.InputFile>().UploadFiles(InputFileContent.CreateFromBinary(File.ReadAllBytes(backup), "good.db"));

        cut.WaitForAssertion(() => Assert.Contains(BackupCommand.KnownMigrations()[^1], cut.Find("[data-testid=restore-done]").TextContent, StringComparison.Ordinal), Wait);
        Assert.True(File.Exists(Path.Combine(_dataDir, "web.db.pre-restore")));
        using var check = Services.CreateScope();
        Assert.False(check.ServiceProvider.GetRequiredService<WebDbContext>().Users.Any(u => u.UserName == "added-after-backup"));
        Assert.Empty(Directory.GetFiles(_dataDir, ".restore-*"));
    }

    [Fact]
    public void RestoreEngine_Accepted_SendsTheFileToTheSelectedEngineAndAudits()
    {
        Access.Roles = [Roles.Admin];
        var cut = Render<Backup>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=restore-engine-file]"), Wait);

        var input = cut.FindComponents<Microsoft.AspNetCore.Components.Forms.InputFile>()[1].Instance;
        cut.InvokeAsync(() => input.OnChange.InvokeAsync(new Microsoft.AspNetCore.Components.Forms.InputFileChangeEventArgs([new UploadedFile("engine.db", [1, 2, 3, 4])])));

        cut.WaitForAssertion(() => Assert.Contains("Engine local accepted the backup (schema 20261130000000_Fake)", cut.Find("[data-testid=restore-engine-done]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Equal([1, 2, 3, 4], Engine.RestoredBytes);
        Assert.Contains(Audit.Recent(10), e => e.Action == "Restore" && e.Target == "engine local database" && e.Outcome == AuditOutcome.Succeeded);
    }

    [Fact]
    public void RestoreEngine_Refused_ShowsTheEnginesMessage()
    {
        Access.Roles = [Roles.Admin];
        Engine.FailRestoreWith = new EngineException(EngineErrorKind.InvalidRequest, "restore of engine local: uploaded backup: its schema 99991231000000_Future is newer than this engine knows");
        var cut = Render<Backup>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=restore-engine-file]"), Wait);

        var input = cut.FindComponents<Microsoft.AspNetCore.Components.Forms.InputFile>()[1].Instance;
        cut.InvokeAsync(() => input.OnChange.InvokeAsync(new Microsoft.AspNetCore.Components.Forms.InputFileChangeEventArgs([new UploadedFile("engine.db", [1])])));

        cut.WaitForAssertion(() => Assert.Contains("is newer than this engine knows", cut.Find("[data-testid=restore-engine-error]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Empty(cut.FindAll("[data-testid=restore-engine-done]"));
        Assert.Contains(Audit.Recent(10), e => e.Action == "Restore" && e.Target == "engine local database" && e.Outcome == AuditOutcome.Failed);
    }

    /// <summary>A browser file as InputFile hands it over (bUnit's UploadFiles drives only the first InputFile of a page).</summary>
    private sealed class UploadedFile(string name, byte[] content) : Microsoft.AspNetCore.Components.Forms.IBrowserFile
    {
        public string Name => name;

        public DateTimeOffset LastModified => DateTimeOffset.UnixEpoch;

        public long Size => content.Length;

        public string ContentType => "application/vnd.sqlite3";

        public Stream OpenReadStream(long maxAllowedSize = 512000, CancellationToken cancellationToken = default) => new MemoryStream(content);
    }

    private string CopyOfLiveDatabase(string name)
    {
        var path = Path.Combine(_dataDir, "copy-" + name);
        BackupCommand.Backup(Path.Combine(_dataDir, "web.db"), path);
        return path;
    }
}
