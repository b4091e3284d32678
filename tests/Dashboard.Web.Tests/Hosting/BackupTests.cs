using Dashboard.Web.Hosting;
using Microsoft.Data.Sqlite;

namespace Dashboard.Web.Tests.Hosting;

public sealed class BackupTests : IDisposable
{
    private readonly WebAppFactory _app = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-web-backup-").FullName;

    public void Dispose()
    {
        _app.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = BackupCommand.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static List<string> UserNames(string db)
    {
        using var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT UserName FROM AspNetUsers ORDER BY UserName";
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private async Task<string> BackupWithAliceAsync()
    {
        await _app.CreateUserAsync("alice", "Viewer");
        var file = Path.Combine(_dir, "web.bak");
        var (code, stdout, stderr) = Run("backup", "--to", file, "--data-dir", _app.DataDir);
        Assert.True(code == 0, stderr);
        Assert.Contains($"(schema {BackupCommand.KnownMigrations()[^1]})", stdout, StringComparison.Ordinal);
        return file;
    }

    [Fact]
    public async Task Backup_RunningWebUi_PrivateCopyWithTheUsers()
    {
        var file = await BackupWithAliceAsync();

        Assert.Equal(["alice"], UserNames(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
    }

    [Fact]
    public async Task Restore_WebUiRunning_RefusedByTheDataDirLock()
    {
        var file = await BackupWithAliceAsync();

        var (code, _, stderr) = Run("restore", "--from", file, "--data-dir", _app.DataDir);

        Assert.Equal(1, code);
        Assert.Contains("dashboard-web is running (", stderr, StringComparison.Ordinal);
        Assert.Contains("web.lock is locked", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_StoppedDataDir_RestoresUsersAndKeepsThePreviousDatabase()
    {
        var file = await BackupWithAliceAsync();
        var target = Path.Combine(_dir, "restored");
        Directory.CreateDirectory(target);
        File.Copy(file, Path.Combine(target, "web.db"));
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(target, "web.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE AspNetUsers SET UserName = 'mallory'";
            command.ExecuteNonQuery();
        }

        var (code, stdout, stderr) = Run("restore", "--from", file, "--data-dir", target);

        Assert.True(code == 0, stderr);
        Assert.Contains("migrations apply at the next start", stdout, StringComparison.Ordinal);
        Assert.Equal(["alice"], UserNames(Path.Combine(target, "web.db")));
        Assert.Equal(["mallory"], UserNames(Path.Combine(target, "web.db.pre-restore")));
    }

    [Fact]
    public async Task Restore_NewerSchema_Refused()
    {
        var file = await BackupWithAliceAsync();
        using (var connection = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO __EFMigrationsHistory (MigrationId, ProductVersion) VALUES ('99991231000000_FromTheFuture', '99.0')";
            command.ExecuteNonQuery();
        }

        var (code, _, stderr) = Run("restore", "--from", file, "--data-dir", Path.Combine(_dir, "empty"));

        Assert.Equal(1, code);
        Assert.Contains($"its schema 99991231000000_FromTheFuture is newer than this dashboard-web knows (latest {BackupCommand.KnownMigrations()[^1]})", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "empty", "web.db")));
    }

    [Fact]
    public void ReadOptions_ConfigFileAsTheInstallWritesIt_DataDirFromTheFile()
    {
        var config = Path.Combine(_dir, "web.json");
        File.WriteAllText(config, $$$"""{"Dashboard": {"DataDir": "{{{_dir}}}/from-file", "Engines": ["unix:///x.sock"]}}""");

        Assert.Equal($"{_dir}/from-file", BackupCommand.ReadOptions(["--config", config]).DataDir);
        Assert.Equal($"{_dir}/flag", BackupCommand.ReadOptions(["--config", config, "--data-dir", $"{_dir}/flag"]).DataDir);
    }

    [Fact]
    public void DataDirLock_HeldElsewhere_NullUntilReleased()
    {
        using (var held = DataDirLock.TryAcquire(_dir))
        {
            Assert.NotNull(held);
            Assert.Null(DataDirLock.TryAcquire(_dir));
        }

        using var again = DataDirLock.TryAcquire(_dir);
        Assert.NotNull(again);
    }
}
