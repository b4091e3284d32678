using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Dashboard.Oci.Runtime;
using static Dashboard.Oci.Tests.Runtime.SpecCorpus;

namespace Dashboard.Oci.Tests.Runtime;

/// <summary>
/// <see cref="SpecReader"/> against the source-generated serializer it replaces: same object graph
/// for every good document, rejection of every bad one.
/// </summary>
public sealed partial class SpecReaderEquivalenceTests
{
    [Fact]
    public void ReadSpec_RuntimeSpecGoodDocuments_MatchSerializer()
    {
        var files = Directory.GetFiles(Path.Combine(SchemaDirectory(), "test", "config", "good"), "*.json");
        Assert.True(files.Length >= 5, $"expected the runtime-spec's good config documents, found {files.Length}");
        foreach (var file in files)
        {
            AssertSame(File.ReadAllBytes(file), Path.GetFileName(file));
        }
    }

    [Fact]
    public void ReadSpec_RuntimeSpecBadDocuments_RejectedByBoth()
    {
        var dir = Path.Combine(SchemaDirectory(), "test", "config", "bad");
        var files = Directory.GetFiles(dir, "*.json");
        Assert.True(files.Length >= 4, $"expected the runtime-spec's bad config documents, found {files.Length}");
        foreach (var file in files)
        {
            var name = Path.GetFileName(file);
            var (oldError, newError, _, newGraph) = Both(File.ReadAllBytes(file));
            if (name == "linux-hugepage.json")
            {
                // Bad only by the schema's pageSize pattern ("64kB"), which neither parser checks:
                // both read it to the same graph, and the cgroup driver refuses the size.
                Assert.Null(oldError);
                Assert.Null(newError);
                Assert.Contains("64kB", newGraph, StringComparison.Ordinal);
                continue;
            }

            Assert.True(oldError is not null, $"{name}: the serializer accepted it");
            Assert.True(newError is not null, $"{name}: SpecReader accepted it");
        }
    }

    [Fact]
    public void ReadSpec_DefaultSpec_MatchesSerializer()
    {
        AssertSame(JsonSerializer.SerializeToUtf8Bytes(DefaultSpec.Create(), RuntimeJsonContext.Default.Spec), "default");
        AssertSame(JsonSerializer.SerializeToUtf8Bytes(DefaultSpec.Create(rootless: true), RuntimeJsonContext.Default.Spec), "rootless default");
    }

    [Fact]
    public void ReadSpec_KitchenSink_SetsEveryFieldLikeSerializer()
    {
        var spec = AssertSame(Utf8(KitchenSink), "kitchen sink");
        Assert.Empty(UnsetProperties(spec));
        Assert.Equal(18446744073709551615UL, spec.Linux!.Seccomp!.Syscalls![1].Args![1].Value);
        Assert.Equal(long.MinValue, spec.Linux.TimeOffsets!["monotonic"].Secs);
        Assert.Equal("echo \"hi\" \u00e9 \U0001F600 <tag>&", spec.Process!.Args![2]);
        Assert.Equal("empty key", spec.Annotations![""]);
    }

    [Fact]
    public void ReadSpec_DockerDefaultSeccompProfile_MatchesSerializer()
    {
        var profile = File.ReadAllText(RepoFile(Path.Combine("tests", "Dashboard.Runtime.Tests", "Seccomp", "docker-default.json")));
        var spec = AssertSame(Utf8("{\"ociVersion\":\"1.2.1\",\"linux\":{\"seccomp\":" + profile + "}}"), "docker-default");
        Assert.True(spec.Linux!.Seccomp!.Syscalls!.Sum(s => s.Names.Count) > 300);
    }

    [Fact]
    public void ReadSpec_UnknownPropertiesInEveryObject_AreIgnoredLikeSerializer()
    {
        var root = JsonNode.Parse(KitchenSink)!;
        foreach (var obj in Objects(root).Where(o => !o.IsMap).ToList())
        {
            obj.Node["x-unknown"] = JsonNode.Parse("""{"a":[1,{"b":null}],"c":"d","ociVersion":"9.9.9"}""");
            obj.Node["Process"] = "case differs, so unknown";
        }

        var spec = AssertSame(Utf8(root.ToJsonString()), "unknown properties");
        Assert.Equal("1.3.0-rc.1+dev", spec.OciVersion);
    }

    [Fact]
    public void ReadSpec_EscapedPropertyNames_MatchLikeSerializer()
    {
        var escaped = EscapedNameRegex().Replace(KitchenSink, m => $"\"\\u{(int)m.Groups[1].Value[0]:x4}{m.Groups[1].Value[1..]}\":");
        Assert.NotEqual(KitchenSink, escaped);
        var spec = AssertSame(Utf8(escaped), "escaped names");
        Assert.Empty(UnsetProperties(spec));
    }

    /// <summary>
    /// Every value of the kitchen sink (object properties, array elements, map values) replaced in
    /// turn by each kind of JSON value: both parsers agree on accepting it (with the same graph) or
    /// rejecting it. One documented difference: a JSON null where the model has no null (root.path,
    /// process.user, a list element, a map value) is refused by SpecReader, kept by the serializer.
    /// </summary>
    [Fact]
    public void ReadSpec_EveryValueReplacedByEveryJsonKind_AgreesWithSerializer()
    {
        string[] replacements =
        [
            "null", "\"text\"", "0", "1", "-1", "1.5", "1e3", "true", "false", "[]", "{}", "[\"x\"]", "[1]", "[{}]", "[null]",
            "4294967295", "4294967296", "65536", "-9223372036854775809", "18446744073709551616",
        ];
        var root = JsonNode.Parse(KitchenSink)!;
        var slots = Slots(root).ToList();
        Assert.True(slots.Count > 250, $"only {slots.Count} values found");
        var differences = 0;
        foreach (var (path, set) in slots)
        {
            foreach (var replacement in replacements)
            {
                var original = set(JsonNode.Parse(replacement));
                var json = root.ToJsonString();
                set(original);
                var (oldError, newError, oldGraph, newGraph) = Both(Utf8(json));
                var what = $"{path} = {replacement}";
                if (oldError is null && newError is null)
                {
                    Assert.True(oldGraph == newGraph, $"{what}: graphs differ\nold: {oldGraph}\nnew: {newGraph}");
                }
                else if (oldError is null)
                {
                    Assert.True(
                        replacement is "null" or "[null]" && newError!.Message.Contains("found null", StringComparison.Ordinal),
                        $"{what}: only SpecReader rejects it: {newError!.Message}");
                    differences++;
                }
                else
                {
                    Assert.True(newError is not null, $"{what}: only the serializer rejects it: {oldError.Message}");
                    Assert.StartsWith(path, newError.Message, StringComparison.Ordinal);
                }
            }
        }

        Assert.True(differences > 0, "the null difference was expected to show");
    }

    [Fact]
    public void ReadSpec_DuplicatePropertyInAnyObject_RejectedByBoth()
    {
        var root = JsonNode.Parse(KitchenSink)!;
        var objects = Objects(root).Where(o => o.Node.Count > 0).ToList();
        Assert.True(objects.Count > 60);
        foreach (var (obj, path, _) in objects)
        {
            var json = WriteWithDuplicate(root, obj);
            var (oldError, newError, _, _) = Both(json);
            var first = obj.First().Key;
            Assert.True(oldError is not null, $"{path}: the serializer accepted a duplicate \"{first}\"");
            Assert.True(newError is not null, $"{path}: SpecReader accepted a duplicate \"{first}\"");
            Assert.Contains("duplicate", newError.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void SpecWriter_EveryDocument_IsByteIdenticalToSerializer()
    {
        var documents = Directory.GetFiles(Path.Combine(SchemaDirectory(), "test", "config", "good"), "*.json")
            .Select(File.ReadAllBytes)
            .Append(Utf8(KitchenSink))
            .Select(b => SpecReader.ReadSpec(b))
            .Append(DefaultSpec.Create())
            .Append(DefaultSpec.Create(rootless: true))
            .ToList();
        foreach (var spec in documents)
        {
            var expected = JsonSerializer.SerializeToUtf8Bytes(spec, RuntimeJsonContext.Default.Spec);
            Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(SpecWriter.ToUtf8(spec)));
            Assert.Equal(Encoding.UTF8.GetString(expected), RuntimeJson.Serialize(spec));
            Assert.Equal(Canonical(spec), Canonical(SpecReader.ReadSpec(SpecWriter.ToUtf8(spec, indented: false))));
        }
    }

    [Fact]
    public void ReadProcessAndResources_KitchenSinkParts_MatchSerializer()
    {
        var root = JsonNode.Parse(KitchenSink)!;
        var process = Utf8(root["process"]!.ToJsonString());
        var resources = Utf8(root["linux"]!["resources"]!.ToJsonString());
        var oldProcess = JsonSerializer.Deserialize(process, RuntimeJsonContext.Default.Process)!;
        var newProcess = SpecReader.ReadProcess(process);
        Assert.Equal(
            JsonSerializer.Serialize(oldProcess, RuntimeJsonContext.Default.Process),
            JsonSerializer.Serialize(newProcess, RuntimeJsonContext.Default.Process));
        Assert.Equal(JsonSerializer.Serialize(oldProcess, RuntimeJsonContext.Default.Process), RuntimeJson.Serialize(newProcess));
        var oldResources = JsonSerializer.Deserialize(resources, RuntimeJsonContext.Default.Resources)!;
        var newResources = RuntimeJson.ParseResources(Encoding.UTF8.GetString(resources));
        Assert.Equal(
            JsonSerializer.Serialize(oldResources, RuntimeJsonContext.Default.Resources),
            JsonSerializer.Serialize(newResources, RuntimeJsonContext.Default.Resources));
        Assert.Equal(JsonSerializer.Serialize(oldResources, RuntimeJsonContext.Default.Resources), RuntimeJson.Serialize(newResources));
    }

    private static Spec AssertSame(byte[] utf8, string what)
    {
        var old = OldParse(utf8);
        Assert.NotNull(old);
        var spec = SpecReader.ReadSpec(utf8);
        Assert.True(Canonical(old) == Canonical(spec), $"{what}: graphs differ\nold: {Canonical(old)}\nnew: {Canonical(spec)}");
        Assert.Equal(Canonical(old), Canonical(RuntimeJson.ParseSpec(Encoding.UTF8.GetString(utf8))));
        return spec;
    }

    /// <summary>Every object of the document with its path and whether it is a map (its keys are data).</summary>
    private static IEnumerable<(JsonObject Node, string Path, bool IsMap)> Objects(JsonNode root)
    {
        var stack = new Stack<(JsonNode Node, string Path, bool IsMap)>();
        stack.Push((root, "", false));
        while (stack.Count > 0)
        {
            var (node, path, isMap) = stack.Pop();
            switch (node)
            {
                case JsonObject obj:
                    yield return (obj, path, isMap);
                    foreach (var (key, child) in obj.ToList())
                    {
                        if (child is not null)
                        {
                            stack.Push((child, isMap ? $"{path}[\"{key}\"]" : Join(path, key), !isMap && MapProperties.Contains(key)));
                        }
                    }

                    break;
                case JsonArray array:
                    for (var i = 0; i < array.Count; i++)
                    {
                        if (array[i] is { } item)
                        {
                            stack.Push((item, $"{path}[{i}]", false));
                        }
                    }

                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>Every value of the document (property, element, map value): its path and a setter returning the old value.</summary>
    private static IEnumerable<(string Path, Func<JsonNode?, JsonNode?> Set)> Slots(JsonNode root)
    {
        foreach (var (obj, path, isMap) in Objects(root))
        {
            foreach (var key in obj.Select(p => p.Key).ToList())
            {
                yield return (isMap ? $"{path}[\"{key}\"]" : Join(path, key), value =>
                {
                    var old = obj[key];
                    obj[key] = null;
                    obj[key] = value;
                    return old;
                });
            }
        }

        foreach (var array in Arrays(root))
        {
            var (node, path) = array;
            for (var i = 0; i < node.Count; i++)
            {
                var index = i;
                yield return ($"{path}[{index}]", value =>
                {
                    var old = node[index];
                    node[index] = null;
                    node[index] = value;
                    return old;
                });
            }
        }
    }

    private static IEnumerable<(JsonArray Node, string Path)> Arrays(JsonNode root)
    {
        foreach (var (obj, path, isMap) in Objects(root))
        {
            foreach (var (key, child) in obj)
            {
                if (child is JsonArray array)
                {
                    yield return (array, isMap ? $"{path}[\"{key}\"]" : Join(path, key));
                }
            }
        }
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    /// <summary>Writes <paramref name="root"/> with the first property of <paramref name="target"/> written twice.</summary>
    private static byte[] WriteWithDuplicate(JsonNode root, JsonObject target)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            Write(writer, root, target);
        }

        return stream.ToArray();
    }

    private static void Write(Utf8JsonWriter writer, JsonNode? node, JsonObject target)
    {
        switch (node)
        {
            case JsonObject obj:
                writer.WriteStartObject();
                var first = true;
                foreach (var (key, child) in obj)
                {
                    writer.WritePropertyName(key);
                    Write(writer, child, target);
                    if (first && ReferenceEquals(obj, target))
                    {
                        writer.WritePropertyName(key);
                        Write(writer, child, target);
                    }

                    first = false;
                }

                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var item in array)
                {
                    Write(writer, item, target);
                }

                writer.WriteEndArray();
                break;
            case null:
                writer.WriteNullValue();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }

    [GeneratedRegex("\"([A-Za-z][A-Za-z0-9]*)\":")]
    private static partial Regex EscapedNameRegex();
}
