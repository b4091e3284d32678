using System.Text.Json.Serialization;

namespace Dashboard.Runtime.Shim;

public sealed class ShimOptions
{
    public required string Id { get; init; }
    public required string Bundle { get; init; }
    public required string LogPath { get; init; }
    public required string ExitFile { get; init; }
    public required string ControlSocket { get; init; }
    public long LogMaxSize { get; init; } = 10 * 1024 * 1024;
    public int LogMaxFiles { get; init; } = 3;
    public string? PidFile { get; init; }

    /// <summary>Keep a stdin pipe open for attach (docker run -i).</summary>
    public bool Stdin { get; init; }

    /// <summary>The cgroup layout, when read ahead of the request (standby).</summary>
    public Cgroups.CgroupHost? CgroupHost { get; init; }
}

/// <summary>The exit file a shim leaves when its container's init exits (read by the engine, even after its own restart).</summary>
public sealed class ExitRecord
{
    [JsonPropertyName("exitCode")] public int ExitCode { get; set; }
    [JsonPropertyName("signal")] public int Signal { get; set; }
    [JsonPropertyName("oomKilled")] public bool OomKilled { get; set; }
    [JsonPropertyName("startedAt")] public DateTimeOffset StartedAt { get; set; }
    [JsonPropertyName("finishedAt")] public DateTimeOffset FinishedAt { get; set; }
    [JsonPropertyName("droppedLogBytes")] public long DroppedLogBytes { get; set; }
}

public sealed class ShimReady
{
    [JsonPropertyName("pid")] public int? Pid { get; set; }
    [JsonPropertyName("error")] public string? Error { get; set; }
}

/// <summary>The first line a client of the control socket sends.</summary>
public sealed class ControlRequest
{
    /// <summary>"attach" streams output (and takes stdin); "resize" sets the terminal size.</summary>
    [JsonPropertyName("op")] public string Op { get; set; } = "";
    [JsonPropertyName("stdin")] public bool Stdin { get; set; }

    /// <summary>
    /// For "attach": "start" asks for the output since the start (an attach made before it), "log" for the log
    /// position to replay up to; either way the answer is a position frame first (see <see cref="ContainerShim"/>).
    /// </summary>
    [JsonPropertyName("replay")] public string? Replay { get; set; }
    [JsonPropertyName("height")] public ushort Height { get; set; }
    [JsonPropertyName("width")] public ushort Width { get; set; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ExitRecord))]
[JsonSerializable(typeof(ShimReady))]
[JsonSerializable(typeof(ControlRequest))]
public sealed partial class ShimJsonContext : JsonSerializerContext;
