using System.Text.Json;

namespace Dashboard.Engine.Images;

/// <summary>The parts of an OCI image config (image-spec config.md, <c>config</c> object) a container inherits.</summary>
public sealed class ImageRunConfig
{
    public string? User { get; set; }
    public List<string>? Env { get; set; }
    public List<string>? Entrypoint { get; set; }
    public List<string>? Cmd { get; set; }
    public string? WorkingDir { get; set; }
    public Dictionary<string, string>? Labels { get; set; }
    public string? StopSignal { get; set; }
    public Dictionary<string, JsonElement>? ExposedPorts { get; set; }
    public Dictionary<string, JsonElement>? Volumes { get; set; }
}

/// <summary>
/// An image ready to run: its id, the reference it was found by, its run config and, once
/// <see cref="IImageSource.CreateRootfsAsync"/> made one for a container, that container's root filesystem.
/// </summary>
public sealed record ResolvedImage(string Id, string Reference, string RootfsPath, ImageRunConfig Config);

/// <summary>Where the container manager gets images and container root filesystems from.</summary>
public interface IImageSource
{
    /// <summary>Resolves a reference (<c>busybox</c>, <c>busybox:1.36</c>, an image id or id prefix); NotFound when absent.</summary>
    Task<ResolvedImage> ResolveAsync(string reference, CancellationToken cancellationToken);

    Task<IReadOnlyList<ResolvedImage>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Makes the container's root filesystem under <paramref name="containerDirectory"/> (an overlay snapshot, or a copy) and returns its path.</summary>
    Task<string> CreateRootfsAsync(ResolvedImage image, string containerDirectory, CancellationToken cancellationToken);

    /// <summary>Mounts the root filesystem again where it is gone (after a host reboot); a no-op when it is in place.</summary>
    Task EnsureRootfsAsync(string containerDirectory, CancellationToken cancellationToken);

    /// <summary>Unmounts the root filesystem and deletes the whole container directory.</summary>
    void RemoveContainerDirectory(string containerDirectory);
}
