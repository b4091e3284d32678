using System.Net;
using Dashboard.Engine.Api;
using Dashboard.Engine.Tests.Fakes;
using Dashboard.Linux.Native;
using Docker.DotNet.Models;
using Microsoft.Data.Sqlite;

namespace Dashboard.Engine.Tests.Lifecycle;

/// <summary>
/// <c>POST /dashboard/restore</c> (issue 6 §3, restore from the UI): the published engine checks the upload, answers,
/// swaps the database in and executes itself again — the same process — while containers keep running.
/// </summary>
public sealed partial class EngineRestartTests
{
    [Fact]
    public async Task RestoreThroughApi_SameProcessRestarts_ContainerOfTheBackupRuns_LaterOneRemoved()
    {
        EngineProcess.Binary();
        var root = TestEngine.NewRoot();
        EngineProcess? engine = null;
        try
        {
            engine = await EngineProcess.StartAsync(root);
            await LoadBusyboxAsync(engine.Client);
            var kept = await RunAsync(engine.Client, "kept", Logger);
            var keptPid = (await engine.Client.Containers.InspectContainerAsync(kept, Ct)).State!.Pid;
            using var http = RawHttp.Create(engine.SocketPath);
            byte[] backup;
            using (var response = await http.PostAsync(BackupEndpoints.Path, null, Ct))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                backup = await response.Content.ReadAsByteArrayAsync(Ct);
            }

            var later = await RunAsync(engine.Client, "later", Logger);
            var laterPid = (await engine.Client.Containers.InspectContainerAsync(later, Ct)).State!.Pid;
            Assert.Contains(later, await Networking.NetworkTestSupport.IptablesSaveAsync(), StringComparison.Ordinal);

            // Refused uploads change nothing and leave no temp file.
            await AssertRefusedAsync(http, new byte[] { 1, 2, 3 }, "uploaded backup: ");
            await AssertRefusedAsync(http, WithFutureMigration(root, backup), "is newer than this engine knows");
            Assert.Empty(Directory.GetFiles(Path.Combine(root, "data"), ".restore-*"));

            var startTime = ProcFs.StartTime(engine.Pid);
            using (var response = await http.PostAsync(BackupEndpoints.RestorePath, new ByteArrayContent(backup), Ct))
            {
                var body = await response.Content.ReadAsStringAsync(Ct);
                Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
                Assert.Contains("\"Restarting\":true", body, StringComparison.Ordinal);
            }

            // The restarted engine reconciles: the container created after the backup has no row, so it is removed.
            await Poll.UntilAsync(
                async () =>
                {
                    try
                    {
                        var names = (await engine.Client.Containers.ListContainersAsync(new ContainersListParameters { All = true }, Ct)).SelectMany(c => c.Names);
                        return !names.Contains("/later");
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException or Docker.DotNet.DockerApiException)
                    {
                        return false;
                    }
                },
                TimeSpan.FromSeconds(60),
                "the restarted engine without the later container");

            Assert.Equal(startTime, ProcFs.StartTime(engine.Pid));
            Assert.False(Directory.Exists($"/proc/{laterPid}") && !File.ReadAllText($"/proc/{laterPid}/stat").Contains(") Z ", StringComparison.Ordinal), "the later container's process is gone");
            // Its network attachment too: the CNI plugins' iptables rules are keyed (and commented) by the container id.
            Assert.DoesNotContain(later, await Networking.NetworkTestSupport.IptablesSaveAsync(), StringComparison.Ordinal);
            var inspect = await engine.Client.Containers.InspectContainerAsync(kept, Ct);
            Assert.True(inspect.State!.Running, $"kept is {inspect.State.Status}");
            Assert.Equal(keptPid, inspect.State.Pid);
            Assert.True(File.Exists(Path.Combine(root, "data", "engine.db.pre-restore")));
            Assert.Empty(Directory.GetFiles(Path.Combine(root, "data"), ".restore-*"));
        }
        finally
        {
            await CleanUpAsync(root, engine);
        }
    }

    private static async Task AssertRefusedAsync(HttpClient http, byte[] upload, string message)
    {
        using var response = await http.PostAsync(BackupEndpoints.RestorePath, new ByteArrayContent(upload), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, body, StringComparison.Ordinal);
    }

    /// <summary>The backup as a newer engine would have written it: one more migration in its history.</summary>
    private static byte[] WithFutureMigration(string root, byte[] backup)
    {
        var path = Path.Combine(root, "future.db");
        File.WriteAllBytes(path, backup);
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=false"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO __EFMigrationsHistory (MigrationId, ProductVersion) VALUES ('99991231000000_Future', '99.0.0')";
            command.ExecuteNonQuery();
        }

        return File.ReadAllBytes(path);
    }
}
