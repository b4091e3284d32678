using Dashboard.Engine.Hosting;
using Dashboard.Engine.Tests.Fakes;
using Docker.DotNet.Models;
using Microsoft.Data.Sqlite;

namespace Dashboard.Engine.Tests.Hosting;

public sealed class BackupTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-backup-test-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string ConfigFor(TestEngine engine)
    {
        var path = Path.Combine(engine.Root, "engine.json");
        File.WriteAllText(path, $$"""{"data-root": "{{engine.Options.DataRoot}}", "socket": "{{engine.Socket}}", "state-root": "{{engine.Options.StateRoot}}"}""");
        return path;
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = BackupCommand.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static long Count(string db, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public async Task Backup_RunningEngine_PrivateConsistentCopyWithSchema()
    {
        await using var engine = await TestEngine.StartAsync();
        await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Name = "kept" }, Ct);
        var file = Path.Combine(_dir, "engine.bak");

        var (code, stdout, stderr) = Run("backup", "--to", file, "--config", ConfigFor(engine));

        Assert.True(code == 0, stderr);
        Assert.Contains($"to {file} (schema {BackupCommand.KnownMigrations()[^1]})", stdout, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(1, Count(file, "SELECT count(*) FROM containers"));
        Assert.Empty(Directory.GetFiles(_dir, ".*"));
    }

    [Fact]
    public async Task Restore_EngineRunning_RefusedAndDatabaseUntouched()
    {
        await using var engine = await TestEngine.StartAsync();
        var file = Path.Combine(_dir, "engine.bak");
        Assert.Equal(0, Run("backup", "--to", file, "--config", ConfigFor(engine)).Code);

        var (code, _, stderr) = Run("restore", "--from", file, "--config", ConfigFor(engine));

        Assert.Equal(1, code);
        Assert.Contains($"the engine is running ({engine.Socket}): stop it first", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(engine.Options.DatabasePath + ".pre-restore"));
    }

    [Fact]
    public async Task Restore_EngineStopped_BringsBackTheBackedUpContainers()
    {
        var root = TestEngine.NewRoot();
        var engine = await TestEngine.StartAsync(root: root);
        await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Name = "before" }, Ct);
        var config = ConfigFor(engine);
        var file = Path.Combine(_dir, "engine.bak");
        Assert.Equal(0, Run("backup", "--to", file, "--config", config).Code);
        await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Name = "after" }, Ct);
        await engine.StopKeepingFilesAsync();

        var (code, stdout, stderr) = Run("restore", "--from", file, "--config", config);

        Assert.True(code == 0, stderr);
        Assert.Contains("migrations apply at the next engine start", stdout, StringComparison.Ordinal);
        Assert.Equal(2, Count(engine.Options.DatabasePath + ".pre-restore", "SELECT count(*) FROM containers"));
        await using var restarted = await TestEngine.StartAsync(root: root);
        var names = (await restarted.Client.Containers.ListContainersAsync(new ContainersListParameters { All = true }, Ct)).SelectMany(c => c.Names).ToList();
        Assert.Equal(["/before"], names);
    }

    [Fact]
    public async Task Restore_NewerSchema_RefusedNamingBothVersions()
    {
        await using var engine = await TestEngine.StartAsync();
        var file = Path.Combine(_dir, "engine.bak");
        Assert.Equal(0, Run("backup", "--to", file, "--config", ConfigFor(engine)).Code);
        using (var connection = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO __EFMigrationsHistory (MigrationId, ProductVersion) VALUES ('99991231000000_FromTheFuture', '99.0')";
            command.ExecuteNonQuery();
        }

        await engine.StopKeepingFilesAsync();
        var (code, _, stderr) = Run("restore", "--from", file, "--config", ConfigFor(engine));

        Assert.Equal(2, code);
        Assert.Contains($"its schema 99991231000000_FromTheFuture is newer than this engine knows (latest {BackupCommand.KnownMigrations()[^1]})", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_NotADatabase_Refused()
    {
        var file = Path.Combine(_dir, "garbage.bak");
        await File.WriteAllTextAsync(file, "this is not an SQLite database, just text that is long enough to have a header", Ct);

        var (code, _, stderr) = Run("restore", "--from", file, "--data-root", Path.Combine(_dir, "data"), "--socket", Path.Combine(_dir, "none.sock"));

        Assert.Equal(2, code);
        Assert.Contains($"backup {file}: ", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "data", "engine.db")));
    }

    [Fact]
    public void Backup_NoTarget_UsageError()
    {
        var (code, _, stderr) = Run("backup", "--data-root", _dir);

        Assert.Equal(2, code);
        Assert.Equal("dashboard-engine backup: backup needs --to FILE\n", stderr);
    }
}
