using System.Text.Json.Serialization;

namespace Dashboard.Oci.Runtime;

/// <summary>
/// What the runtime sends to a seccomp listener together with the notification fd
/// (runtime-spec config-linux.md "seccomp", "The container process state").
/// </summary>
public sealed class ContainerProcessState
{
    [JsonPropertyName("ociVersion")] public string OciVersion { get; set; } = RuntimeJson.SpecVersion;

    /// <summary>Names of the fds sent with the message, in order (<c>seccompFd</c>).</summary>
    [JsonPropertyName("fds")] public List<string> Fds { get; set; } = [];
    [JsonPropertyName("pid")] public int Pid { get; set; }

    /// <summary>linux.seccomp.listenerMetadata, opaque to the runtime.</summary>
    [JsonPropertyName("metadata")] public string? Metadata { get; set; }
    [JsonPropertyName("state")] public State State { get; set; } = new();
}
