using System.Text.Json;
using Dashboard.Engine.Api;

namespace Dashboard.Engine.Containers;

/// <summary>
/// A container's health (status, failing streak, last probe results) in <c>BUNDLE/health.json</c>, beside
/// its other per-container state files, so that an engine restarted after a crash or SIGKILL reports
/// the same health and the probes resume where they were (security.md E1: state reconciled, nothing
/// acknowledged lost). <see cref="StartedAt"/> ties the file to one run of the container.
/// </summary>
public sealed class HealthStateFile
{
    public const string FileName = "health.json";

    public string Status { get; set; } = HealthMonitor.Starting;
    public int FailingStreak { get; set; }
    public List<HealthLogView> Log { get; set; } = [];
    public DateTimeOffset? StartedAt { get; set; }

    public static HealthStateFile? Read(string bundleDir)
    {
        try
        {
            var file = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(bundleDir, FileName)), DockerJson.Info<HealthStateFile>(DockerJson.Storage));
            return file is { Status: HealthMonitor.Starting or HealthMonitor.Healthy or HealthMonitor.Unhealthy } ? file : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Replaces the file atomically (write beside, flush, rename), so a crash leaves the old or the new state, never a torn one.</summary>
    public void Write(string bundleDir)
    {
        var path = Path.Combine(bundleDir, FileName);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, this, DockerJson.Info<HealthStateFile>(DockerJson.Storage));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }
}
