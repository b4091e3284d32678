using System.Text.Json;
using System.Text.Json.Nodes;
using Dashboard.Engine.Api;

namespace Dashboard.Engine.Networking;

/// <summary>
/// A container's networking, kept as <c>network.json</c> in its bundle directory: what it asked
/// for (mode, networks, ports) and, while it runs, what CNI gave it. Every step is written before
/// the next CNI call, so an engine killed half-way still knows what to DEL (security.md E1).
/// </summary>
public sealed class ContainerNetworkState
{
    public const string FileName = "network.json";

    /// <summary><c>bridge</c> (networks below), <c>none</c>, <c>host</c> or <c>container</c> (<see cref="JoinedContainer"/>).</summary>
    public string Mode { get; set; } = "bridge";

    public string? JoinedContainer { get; set; }

    /// <summary>Namespace file while one is mounted for this container.</summary>
    public string? Netns { get; set; }

    /// <summary>
    /// Mode <c>none</c>: the runtime makes the namespace with the container (and brings <c>lo</c> up), so start
    /// spawns nothing; <see cref="Netns"/> is set only while a <c>container:</c> joiner pins it. False for
    /// containers created before this, whose spec names a namespace file the engine makes at start.
    /// </summary>
    public bool RuntimeNamespace { get; set; }

    /// <summary>Endpoints by network id, in the order they were connected (the first one publishes ports).</summary>
    public List<Endpoint> Endpoints { get; set; } = [];

    public List<PortMapping> Ports { get; set; } = [];

    public static string PathIn(string bundleDir) => Path.Combine(bundleDir, FileName);

    public static ContainerNetworkState? Read(string bundleDir)
    {
        try
        {
            var path = PathIn(bundleDir);
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), DockerJson.Info<ContainerNetworkState>(DockerJson.Storage)) : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Write(string bundleDir)
    {
        var path = PathIn(bundleDir);
        var tmp = path + ".tmp";
        File.WriteAllBytes(tmp, JsonSerializer.SerializeToUtf8Bytes(this, DockerJson.Info<ContainerNetworkState>(DockerJson.Storage)));
        File.Move(tmp, path, overwrite: true);
    }
}

/// <summary>The container's membership in one network and, while attached, its address there.</summary>
public sealed class Endpoint
{
    public string NetworkId { get; set; } = "";
    public string NetworkName { get; set; } = "";
    public string EndpointId { get; set; } = "";
    public List<string> Aliases { get; set; } = [];
    public string? RequestedIp { get; set; }

    /// <summary>Set from the moment CNI ADD is attempted until DEL succeeded.</summary>
    public Attachment? Attached { get; set; }
}

public sealed class Attachment
{
    public string IfName { get; set; } = "";
    public string IpAddress { get; set; } = "";
    public int PrefixLen { get; set; }
    public string Gateway { get; set; } = "";
    public string MacAddress { get; set; } = "";

    /// <summary>The plugin configurations used for ADD (DEL must see the same ones) and their results.</summary>
    public List<JsonObject> Plugins { get; set; } = [];
    public JsonObject? Result { get; set; }
}

/// <summary>One published port (portmap's <c>portMappings</c> capability).</summary>
public sealed record PortMapping(string HostIp, int HostPort, int ContainerPort, string Protocol);
