using System.Text.Json;

namespace Dashboard.Engine.Volumes;

/// <summary><c>POST /volumes/create</c> body (API v1.43 VolumeCreateOptions).</summary>
public sealed class VolumeCreateBody
{
    public string? Name { get; set; }
    public string? Driver { get; set; }
    public Dictionary<string, string>? DriverOpts { get; set; }
    public Dictionary<string, string>? Labels { get; set; }
    public JsonElement? ClusterVolumeSpec { get; set; }
}

/// <summary>A volume as the API shows it.</summary>
public sealed record VolumeView
{
    public required string Name { get; init; }
    public string Driver { get; init; } = "local";
    public required string Mountpoint { get; init; }
    public required string CreatedAt { get; init; }
    public required Dictionary<string, string> Labels { get; init; }
    public string Scope { get; init; } = "local";
    public required Dictionary<string, string> Options { get; init; }
    public VolumeUsageView? UsageData { get; init; }
}

public sealed record VolumeUsageView(long Size, long RefCount);

public sealed record VolumeListView(List<VolumeView> Volumes, List<string> Warnings);

public sealed record VolumePruneView(List<string> VolumesDeleted, long SpaceReclaimed);

/// <summary>
/// One mount of a container as it was resolved at create time (kept in the container directory as
/// <c>mounts.json</c>): what inspect shows, what marks a volume as in use, and which anonymous
/// volumes <c>rm -v</c> removes.
/// </summary>
public sealed record ContainerMount
{
    public required string Type { get; init; }
    public string? Name { get; init; }
    public required string Source { get; init; }
    public required string Destination { get; init; }
    public bool ReadOnly { get; init; }
    public string Mode { get; init; } = "";
    public bool Anonymous { get; init; }
}
