using Dashboard.Engine.Api;

namespace Dashboard.Engine.Containers;

/// <summary>Docker's container statuses (API ContainerState.Status).</summary>
public enum ContainerPhase
{
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

public static class ContainerPhaseExtensions
{
    public static string ToApiString(this ContainerPhase phase) => phase switch
    {
        ContainerPhase.Created => "created",
        ContainerPhase.Running => "running",
        ContainerPhase.Paused => "paused",
        ContainerPhase.Restarting => "restarting",
        ContainerPhase.Removing => "removing",
        ContainerPhase.Exited => "exited",
        ContainerPhase.Dead => "dead",
        _ => throw new ArgumentOutOfRangeException(nameof(phase)),
    };

    public static ContainerPhase Parse(string text) => text switch
    {
        "created" => ContainerPhase.Created,
        "running" => ContainerPhase.Running,
        "paused" => ContainerPhase.Paused,
        "restarting" => ContainerPhase.Restarting,
        "removing" => ContainerPhase.Removing,
        "exited" => ContainerPhase.Exited,
        "dead" => ContainerPhase.Dead,
        _ => throw new FormatException($"unknown container status '{text}'"),
    };

    /// <summary>A process of the container may be alive (its shim was started and has not reported an exit).</summary>
    public static bool IsActive(this ContainerPhase phase) =>
        phase is ContainerPhase.Running or ContainerPhase.Paused or ContainerPhase.Restarting;
}

/// <summary>The mutable part of a container: what its processes are doing.</summary>
public sealed record ContainerRuntimeState
{
    public ContainerPhase Status { get; init; } = ContainerPhase.Created;
    public int Pid { get; init; }
    public int ShimPid { get; init; }
    public int ExitCode { get; init; }
    public bool OomKilled { get; init; }
    public string Error { get; init; } = "";
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public int RestartCount { get; init; }
}

/// <summary>A container: immutable configuration (as created) plus its <see cref="ContainerRuntimeState"/>.</summary>
public sealed record ContainerRecord
{
    public required string Id { get; init; }

    /// <summary>Name without Docker's leading slash.</summary>
    public required string Name { get; init; }

    /// <summary>The image reference as the client gave it.</summary>
    public required string Image { get; init; }
    public required string ImageId { get; init; }
    public required DateTimeOffset Created { get; init; }
    public required ContainerConfig Config { get; init; }
    public required HostConfig HostConfig { get; init; }
    public required string Path { get; init; }
    public required IReadOnlyList<string> Args { get; init; }
    public required string BundleDir { get; init; }
    public required string LogPath { get; init; }
    public ContainerRuntimeState State { get; init; } = new();
}
