using System.Text.Json;

namespace Dashboard.Engine.Images;

/// <summary><c>GET /images/json</c> entry (API v1.43 ImageSummary).</summary>
public sealed record ImageSummaryView
{
    public required string Id { get; init; }
    public string ParentId { get; init; } = "";
    public required List<string> RepoTags { get; init; }
    public required List<string> RepoDigests { get; init; }
    public long Created { get; init; }
    public long Size { get; init; }
    public long SharedSize { get; init; } = -1;
    public long VirtualSize { get; init; }
    public required Dictionary<string, string> Labels { get; init; }
    public int Containers { get; init; } = -1;
}

/// <summary>The <c>Config</c> of an image inspect, in Docker's container-config shape.</summary>
public sealed record ImageConfigView
{
    public string Hostname { get; init; } = "";
    public string Domainname { get; init; } = "";
    public string User { get; init; } = "";
    public bool AttachStdin { get; init; }
    public bool AttachStdout { get; init; }
    public bool AttachStderr { get; init; }
    public Dictionary<string, JsonElement>? ExposedPorts { get; init; }
    public bool Tty { get; init; }
    public bool OpenStdin { get; init; }
    public bool StdinOnce { get; init; }
    public List<string>? Env { get; init; }
    public List<string>? Cmd { get; init; }
    public string Image { get; init; } = "";
    public Dictionary<string, JsonElement>? Volumes { get; init; }
    public string WorkingDir { get; init; } = "";
    public List<string>? Entrypoint { get; init; }
    public List<string>? OnBuild { get; init; }
    public Dictionary<string, string>? Labels { get; init; }
    public string? StopSignal { get; init; }
}

public sealed record GraphDriverView(string Name, Dictionary<string, string> Data);

public sealed record RootFsView(string Type, List<string> Layers);

public sealed record ImageMetadataView(string LastTagTime);

/// <summary><c>GET /images/{name}/json</c> (API v1.43 ImageInspect).</summary>
public sealed record ImageInspectView
{
    public required string Id { get; init; }
    public required List<string> RepoTags { get; init; }
    public required List<string> RepoDigests { get; init; }
    public string Parent { get; init; } = "";
    public string Comment { get; init; } = "";
    public required string Created { get; init; }
    public string Container { get; init; } = "";
    public string DockerVersion { get; init; } = "";
    public string Author { get; init; } = "";
    public required ImageConfigView Config { get; init; }
    public required string Architecture { get; init; }
    public string? Variant { get; init; }
    public required string Os { get; init; }
    public long Size { get; init; }
    public long VirtualSize { get; init; }
    public required GraphDriverView GraphDriver { get; init; }
    public required RootFsView RootFS { get; init; }
    public required ImageMetadataView Metadata { get; init; }
}

/// <summary><c>GET /images/{name}/history</c> entry.</summary>
public sealed record ImageHistoryView(string Id, long Created, string CreatedBy, List<string>? Tags, long Size, string Comment);

/// <summary>One line of <c>DELETE /images/{name}</c> and prune results: exactly one of the two is set.</summary>
public sealed record ImageDeleteView
{
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Untagged { get; init; }

    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Deleted { get; init; }
}

public sealed record ImagePruneView(List<ImageDeleteView> ImagesDeleted, long SpaceReclaimed);

/// <summary>One message of Docker's JSON progress stream (load, pull): <c>{"stream":…}</c> or <c>{"status":…,"id":…,"progressDetail":…}</c>.</summary>
public sealed record ProgressMessage
{
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    [System.Text.Json.Serialization.JsonPropertyName("stream")]
    public string? Stream { get; init; }

    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    [System.Text.Json.Serialization.JsonPropertyName("status")]
    public string? Status { get; init; }

    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    [System.Text.Json.Serialization.JsonPropertyName("id")]
    public string? Id { get; init; }

    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    [System.Text.Json.Serialization.JsonPropertyName("progressDetail")]
    public ProgressDetail? ProgressDetail { get; init; }

    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    [System.Text.Json.Serialization.JsonPropertyName("progress")]
    public string? Progress { get; init; }

    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    [System.Text.Json.Serialization.JsonPropertyName("error")]
    public string? Error { get; init; }

    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    [System.Text.Json.Serialization.JsonPropertyName("errorDetail")]
    public ErrorDetail? ErrorDetail { get; init; }
}

public sealed record ProgressDetail
{
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    [System.Text.Json.Serialization.JsonPropertyName("current")]
    public long Current { get; init; }

    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    [System.Text.Json.Serialization.JsonPropertyName("total")]
    public long Total { get; init; }
}

public sealed record ErrorDetail([property: System.Text.Json.Serialization.JsonPropertyName("message")] string Message);
