using System.Text.Json.Serialization;
using Dashboard.Engine.Api;

namespace Dashboard.Engine.Exec;

/// <summary>The body of <c>POST /containers/{id}/exec</c> (API definitions ExecConfig).</summary>
public sealed class ExecCreateBody
{
    public bool AttachStdin { get; set; }
    public bool AttachStdout { get; set; }
    public bool AttachStderr { get; set; }
    public List<int>? ConsoleSize { get; set; }
    public string? DetachKeys { get; set; }
    public bool Tty { get; set; }
    public List<string>? Env { get; set; }
    [JsonConverter(typeof(StrSliceConverter))] public List<string>? Cmd { get; set; }
    public bool Privileged { get; set; }
    public string? User { get; set; }
    public string? WorkingDir { get; set; }
}

/// <summary>The body of <c>POST /exec/{id}/start</c>.</summary>
public sealed class ExecStartBody
{
    public bool Detach { get; set; }
    public bool Tty { get; set; }
    public List<int>? ConsoleSize { get; set; }
}

public sealed record ExecCreateResponse(string Id);

public sealed class ExecProcessConfigView
{
    [JsonPropertyName("privileged")] public bool Privileged { get; init; }
    [JsonPropertyName("user")] public string User { get; init; } = "";
    [JsonPropertyName("tty")] public bool Tty { get; init; }
    [JsonPropertyName("entrypoint")] public string Entrypoint { get; init; } = "";
    [JsonPropertyName("arguments")] public List<string> Arguments { get; init; } = [];
}

/// <summary><c>GET /exec/{id}/json</c> (API definitions ExecInspectResponse).</summary>
public sealed class ExecInspectView
{
    public bool CanRemove { get; init; }
    public string DetachKeys { get; init; } = "";
    public string ID { get; init; } = "";
    public bool Running { get; init; }
    public int? ExitCode { get; init; }
    public ExecProcessConfigView ProcessConfig { get; init; } = new();
    public bool OpenStdin { get; init; }
    public bool OpenStderr { get; init; }
    public bool OpenStdout { get; init; }
    public string ContainerID { get; init; } = "";
    public int Pid { get; init; }
}
