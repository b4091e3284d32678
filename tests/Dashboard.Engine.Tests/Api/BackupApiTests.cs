using Dashboard.Engine.Api;
using Dashboard.Engine.Hosting;
using Dashboard.Engine.Tests.Fakes;
using Docker.DotNet.Models;

namespace Dashboard.Engine.Tests.Api;

/// <summary><c>POST /dashboard/backup</c>: the web UI's download of the engine database.</summary>
public sealed class BackupApiTests : IAsyncLifetime
{
    private TestEngine _engine = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _engine = await TestEngine.StartAsync();

    public async ValueTask DisposeAsync() => await _engine.DisposeAsync();

    [Fact]
    public async Task Backup_WhileRunning_StreamsRestorableCopyAndLeavesNoTempFile()
    {
        await _engine.Client.Volumes.CreateAsync(new VolumesCreateParameters { Name = "kept" }, Ct);
        using var http = RawHttp.Create(_engine.Socket);

        using var response = await http.PostAsync(BackupEndpoints.Path, null, Ct);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var schema = Assert.Single(response.Headers.GetValues(BackupEndpoints.SchemaHeader));
        Assert.Equal(BackupCommand.KnownMigrations()[^1], schema);
        var file = Path.Combine(_engine.Root, "downloaded.db");
        await File.WriteAllBytesAsync(file, await response.Content.ReadAsByteArrayAsync(Ct), Ct);
        Assert.Equal("SQLite format 3\0", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(file), 0, 16));

        // The copy restores into a fresh data root (engine stopped there) and holds what the live one held.
        var target = Path.Combine(_engine.Root, "restored", "engine.db");
        var result = BackupCommand.Restore(file, target, BackupCommand.KnownMigrations(), () => null);
        Assert.Equal(schema, result.Schema);
        Assert.Empty(Directory.GetFiles(_engine.Options.DataRoot, ".backup-*"));
    }
}
