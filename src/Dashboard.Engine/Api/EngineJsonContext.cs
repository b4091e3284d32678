using System.Text.Json;
using System.Text.Json.Serialization;
using Dashboard.Engine.Archive;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Exec;
using Dashboard.Engine.Images;
using Dashboard.Engine.Networking;
using Dashboard.Engine.Policy;
using Dashboard.Engine.Volumes;

namespace Dashboard.Engine.Api;

/// <summary>
/// Compile-time JSON contracts for every document the engine reads or writes, so no (de)serialization needs
/// reflection and the engine can be published NativeAOT (issue 4, bench d). The options here mirror
/// <see cref="DockerJson.Options"/>; each use goes through the options it was given (<see cref="DockerJson.Options"/>,
/// <see cref="DockerJson.Storage"/>, <see cref="DockerJson.Plain"/>, the policy file's), whose resolver this is.
/// A type missing here fails at run time with NotSupportedException: EngineJsonContextTests lists the roots.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = true,
    AllowDuplicateProperties = false,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    AllowTrailingCommas = false,
    NumberHandling = JsonNumberHandling.Strict,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    MaxDepth = 64)]
// Containers API and their persisted columns (config, host config, args).
[JsonSerializable(typeof(ContainerCreateBody))]
[JsonSerializable(typeof(ContainerCreateResponse))]
[JsonSerializable(typeof(ContainerConfig))]
[JsonSerializable(typeof(HostConfig))]
[JsonSerializable(typeof(ContainerInspectView))]
[JsonSerializable(typeof(List<ContainerSummaryView>))]
[JsonSerializable(typeof(ContainerTopResponse))]
[JsonSerializable(typeof(ContainerPruneResponse))]
[JsonSerializable(typeof(ContainerWaitResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(EventMessage))]
[JsonSerializable(typeof(StatsView))]
[JsonSerializable(typeof(HistoryView))]
[JsonSerializable(typeof(BackupEndpoints.RestoreAnswer))]
[JsonSerializable(typeof(RegistryEndpoints.RegistryBody))]
[JsonSerializable(typeof(IReadOnlyList<Dashboard.Images.Registry.RegistryEntry>))]
[JsonSerializable(typeof(List<Dashboard.Images.Registry.RegistryEntry>))]
[JsonSerializable(typeof(List<ChangeView>))]
[JsonSerializable(typeof(PathStat))]
[JsonSerializable(typeof(HealthStateFile))]
[JsonSerializable(typeof(SeccompProfile))]
// Exec API and the exec's persisted process.
[JsonSerializable(typeof(ExecCreateBody))]
[JsonSerializable(typeof(ExecCreateResponse))]
[JsonSerializable(typeof(ExecStartBody))]
[JsonSerializable(typeof(ExecInspectView))]
// Images API.
[JsonSerializable(typeof(ImageInspectView))]
[JsonSerializable(typeof(ImagePruneView))]
[JsonSerializable(typeof(ProgressMessage))]
[JsonSerializable(typeof(List<ImageDeleteView>))]
[JsonSerializable(typeof(List<ImageHistoryView>))]
[JsonSerializable(typeof(List<ImageSummaryView>))]
// Networks API and the per-container network state file.
[JsonSerializable(typeof(NetworkCreateBody))]
[JsonSerializable(typeof(NetworkCreateResponse))]
[JsonSerializable(typeof(NetworkConnectBody))]
[JsonSerializable(typeof(NetworkInspectView))]
[JsonSerializable(typeof(List<NetworkInspectView>))]
[JsonSerializable(typeof(NetworkPruneResponse))]
[JsonSerializable(typeof(EndpointView))]
[JsonSerializable(typeof(PortView))]
[JsonSerializable(typeof(Dictionary<string, EndpointSettings>))]
[JsonSerializable(typeof(ContainerNetworkState))]
// Volumes API and the container's mounts file.
[JsonSerializable(typeof(VolumeCreateBody))]
[JsonSerializable(typeof(VolumeView))]
[JsonSerializable(typeof(VolumeListView))]
[JsonSerializable(typeof(VolumePruneView))]
[JsonSerializable(typeof(List<ContainerMount>))]
// Engine policy file and the seccomp comparison it makes.
[JsonSerializable(typeof(EnginePolicy))]
[JsonSerializable(typeof(Dashboard.Oci.Runtime.Seccomp))]
// Store columns (labels, options, event attributes, args) and the runtime's ps output.
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(List<int>))]
// /info, /version and shim control lines are Dictionary<string, object>: each value is written as its run-time type.
[JsonSerializable(typeof(Dictionary<string, object>))]
[JsonSerializable(typeof(Dictionary<string, object>[]))]
[JsonSerializable(typeof(Dictionary<string, string[]>))]
[JsonSerializable(typeof(object[]))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(string[][]))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(ushort))]
public sealed partial class EngineJsonContext : JsonSerializerContext;
