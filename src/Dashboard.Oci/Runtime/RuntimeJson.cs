using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dashboard.Oci.Runtime;

/// <summary>Reads and writes runtime-spec documents (AOT-safe, source generated).</summary>
public static class RuntimeJson
{
    /// <summary>The runtime-spec version this runtime writes.</summary>
    public const string SpecVersion = "1.2.1";

    /// <summary>
    /// Parses config.json with <see cref="SpecReader"/> (no serializer metadata on the create path).
    /// Duplicate keys are refused: an authorizer and the runtime must see one object (security.md D4).
    /// </summary>
    public static Spec ParseSpec(ReadOnlySpan<byte> utf8) => SpecReader.ReadSpec(utf8);

    public static Spec ParseSpec(string json) => SpecReader.ReadSpec(Encoding.UTF8.GetBytes(json));

    public static Process ParseProcess(string json) => SpecReader.ReadProcess(Encoding.UTF8.GetBytes(json));

    public static Resources ParseResources(string json) => SpecReader.ReadResources(Encoding.UTF8.GetBytes(json));

    public static State ParseState(string json) =>
        JsonSerializer.Deserialize(json, RuntimeJsonContext.Default.State) ?? throw new JsonException("state is null");

    public static string Serialize(Spec spec) => Encoding.UTF8.GetString(SpecWriter.ToUtf8(spec));

    public static byte[] SerializeToUtf8(Spec spec) => SpecWriter.ToUtf8(spec);

    public static string Serialize(State state) => JsonSerializer.Serialize(state, RuntimeJsonContext.Default.State);

    public static byte[] SerializeToUtf8(ContainerProcessState state) => JsonSerializer.SerializeToUtf8Bytes(state, RuntimeJsonContext.Default.ContainerProcessState);

    public static ContainerProcessState ParseContainerProcessState(ReadOnlySpan<byte> utf8) =>
        JsonSerializer.Deserialize(utf8, RuntimeJsonContext.Default.ContainerProcessState) ?? throw new JsonException("container process state is null");

    public static string Serialize(Features features) => JsonSerializer.Serialize(features, RuntimeJsonContext.Default.Features);

    public static string Serialize(Process process) => Encoding.UTF8.GetString(SpecWriter.ToUtf8(process));

    public static string Serialize(Resources resources) => Encoding.UTF8.GetString(SpecWriter.ToUtf8(resources));

    /// <summary>Checks <paramref name="version"/> is a 1.x semantic version this runtime can run.</summary>
    public static bool IsSupportedVersion(string? version)
    {
        if (string.IsNullOrEmpty(version))
        {
            return false;
        }

        var core = version.Split('-', '+')[0].Split('.');
        return core.Length == 3
            && core[0] == "1"
            && core.All(p => p.Length > 0 && p.All(char.IsAsciiDigit))
            && int.Parse(core[1], System.Globalization.CultureInfo.InvariantCulture) <= 3;
    }
}

[JsonSourceGenerationOptions(
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowDuplicateProperties = false,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(Spec))]
[JsonSerializable(typeof(State))]
[JsonSerializable(typeof(List<State>))]
[JsonSerializable(typeof(Features))]
[JsonSerializable(typeof(Process))]
[JsonSerializable(typeof(Resources))]
[JsonSerializable(typeof(ContainerProcessState))]
public sealed partial class RuntimeJsonContext : JsonSerializerContext;
