using System.Text.Json.Serialization;

namespace Dashboard.Oci.Runtime;

/// <summary>The state of a container as runtime.md defines it (the output of <c>state</c>).</summary>
public sealed class State
{
    [JsonPropertyName("ociVersion")] public string OciVersion { get; set; } = RuntimeJson.SpecVersion;
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("status")] public string Status { get; set; } = ContainerStatus.Creating.ToSpecString();
    [JsonPropertyName("pid")] public int? Pid { get; set; }
    [JsonPropertyName("bundle")] public string Bundle { get; set; } = "";
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
}

/// <summary>runtime.md statuses; the lifecycle's transition guards live here (youki's <c>can_start()</c>).</summary>
public enum ContainerStatus
{
    Creating,
    Created,
    Running,
    Stopped,
    Paused,
}

public static class ContainerStatusExtensions
{
    public static string ToSpecString(this ContainerStatus status) => status switch
    {
        ContainerStatus.Creating => "creating",
        ContainerStatus.Created => "created",
        ContainerStatus.Running => "running",
        ContainerStatus.Stopped => "stopped",
        ContainerStatus.Paused => "paused",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static ContainerStatus ParseStatus(string text) => text switch
    {
        "creating" => ContainerStatus.Creating,
        "created" => ContainerStatus.Created,
        "running" => ContainerStatus.Running,
        "stopped" => ContainerStatus.Stopped,
        "paused" => ContainerStatus.Paused,
        _ => throw new FormatException($"unknown container status '{text}'"),
    };

    /// <summary>runtime.md "start": the container must be created.</summary>
    public static bool CanStart(this ContainerStatus status) => status == ContainerStatus.Created;

    /// <summary>runtime.md "kill": created or running (paused too: signals queue until resume, as runc allows).</summary>
    public static bool CanKill(this ContainerStatus status) =>
        status is ContainerStatus.Created or ContainerStatus.Running or ContainerStatus.Paused;

    /// <summary>runtime.md "delete": only a stopped container may be deleted (without --force).</summary>
    public static bool CanDelete(this ContainerStatus status) => status == ContainerStatus.Stopped;

    public static bool CanPause(this ContainerStatus status) => status is ContainerStatus.Running or ContainerStatus.Created;

    public static bool CanResume(this ContainerStatus status) => status == ContainerStatus.Paused;

    public static bool CanExec(this ContainerStatus status) => status is ContainerStatus.Running or ContainerStatus.Created;
}
